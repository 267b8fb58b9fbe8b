"""Who may preview a study: a signed-in coordinator, or whoever holds a
signed preview link that has not expired. Anyone else who opens the study
link with Prolific's placeholders still in it is refused, and nothing is
created: no participant, no model call. A preview's model calls count
toward the study's budget, and no preview starts once it is spent."""

from decimal import Decimal

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from mgeplatform.models import DomainEvent, LLMCall
from studies import services
from studies.models import Cohort, Participant, Study
from studies.selectors import study_cost_usd
from tests.factories import enter, run_interview

pytestmark = pytest.mark.django_db

PLACEHOLDERS = {"PROLIFIC_PID": "{{%PROLIFIC_PID%}}", "STUDY_ID": "{{%STUDY_ID%}}", "SESSION_ID": "{{%SESSION_ID%}}"}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("status", [Study.Status.DRAFT, Study.Status.PAUSED, Study.Status.OPEN])
def test_anonymous_placeholder_link_is_refused_and_creates_nothing(study, status):
    study.status = status
    study.save()
    response = enter(Client(), study, **PLACEHOLDERS)
    assert response.status_code == 403
    page = response.content.decode()
    assert "coordinator" in page and "preview link" in page
    assert not Participant.objects.exists()
    assert not LLMCall.objects.exists()
    assert not DomainEvent.objects.filter(kind="participant.joined").exists()


def test_auditor_cannot_preview_through_the_placeholder_link(study, auditor):
    assert enter(_signed_in(auditor), study, **PLACEHOLDERS).status_code == 403
    assert not Participant.objects.exists()


def test_coordinator_preview_works_and_its_model_calls_count_in_the_cost(study, coordinator):
    client = _signed_in(coordinator)
    response = enter(client, study, **PLACEHOLDERS)
    assert response.status_code == 302
    preview = Participant.objects.get()
    assert preview.cohort == Cohort.PREVIEW
    services.record_consent(participant=preview, consent=study.consent_documents.get(), accepted=True)
    before = study_cost_usd(study)
    run_interview(preview, study.scenarios.get(key="parenting"))
    calls = LLMCall.objects.filter(participant=preview.pk)
    assert calls.exists()
    LLMCall.objects.filter(pk=calls.first().pk).update(estimated_cost_usd=Decimal("0.50"))
    assert study_cost_usd(study) >= before + Decimal("0.50")
    event = DomainEvent.objects.get(kind="participant.joined")
    assert event.actor_user == coordinator and event.payload["preview_via"] == "coordinator"


def test_no_preview_once_the_budget_is_spent(study, coordinator):
    study.budget_usd = Decimal("1.00")
    study.save()
    LLMCall.objects.create(
        purpose="interview.reply",
        study_id=study.pk,
        provider="openai",
        model="gpt-4o",
        estimated_cost_usd=Decimal("1.00"),
    )
    response = enter(_signed_in(coordinator), study, **PLACEHOLDERS)
    assert response.status_code == 503
    assert "budget" in response.content.decode()
    assert _signed_in(coordinator).get(f"/s/{study.slug}/preview/").status_code == 503
    assert not Participant.objects.exists()


def test_valid_preview_link_lets_anyone_preview_without_signing_in(study):
    study.status = Study.Status.DRAFT
    study.save()
    client = Client()
    response = client.get(f"/s/{study.slug}/", {"preview": services.preview_token(study)})
    assert response.status_code == 302 and response["Location"].endswith("/consent/")
    assert Participant.objects.get().cohort == Cohort.PREVIEW
    assert "nothing you do here is counted" in client.get(f"/s/{study.slug}/consent/").content.decode()
    # With Prolific's placeholders as well, as a researcher might paste it.
    assert enter(Client(), study, preview=services.preview_token(study), **PLACEHOLDERS).status_code == 302
    assert Participant.objects.previews().count() == 2 and Participant.objects.real().count() == 0


def test_expired_preview_link_is_refused(study, settings, monkeypatch):
    settings.PREVIEW_LINK_HOURS = 24
    with monkeypatch.context() as m:  # a link made 25 hours ago
        m.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(timezone.now().timestamp()) - 25 * 3600),
        )
        token = services.preview_token(study)
    response = Client().get(f"/s/{study.slug}/", {"preview": token, **PLACEHOLDERS})
    assert response.status_code == 403 and "expired" in response.content.decode()
    assert not Participant.objects.exists()


def test_forged_or_other_studys_preview_link_is_refused(study):
    other = Study.objects.create(title="Another study", slug="another-study", status=Study.Status.OPEN)
    forged = services.preview_token(study)[:-3] + "abc"
    for token in (forged, services.preview_token(other), signing.Signer().sign(str(study.pk)), "x"):
        response = Client().get(f"/s/{study.slug}/", {"preview": token})
        assert response.status_code == 403, token
        assert "not valid" in response.content.decode()
    assert not Participant.objects.exists()


def test_console_offers_coordinators_a_preview_link_that_works(study, coordinator, auditor):
    html = _signed_in(coordinator).get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert "Copy preview link" in html and "next 24 hours" in html
    start = html.index('id="preview-link-url"')
    url = html[html.index('value="', start) + 7 : html.index('"', html.index('value="', start) + 7)]
    assert url.startswith(f"http://testserver/s/{study.slug}/?preview=")
    assert Client().get(url.replace("http://testserver", "")).status_code == 302
    assert Participant.objects.previews().count() == 1
    # Auditors read the console but get no preview link.
    reader = _signed_in(auditor).get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert "Copy preview link" not in reader
