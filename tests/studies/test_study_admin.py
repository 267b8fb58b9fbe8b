"""The study form: a study cannot be set to pilot or open while its
interviewer would be the offline script, unless the coordinator ticks
"Pilot with scripted interviewer" (tests and dev machines are offline)."""

import re

import pytest
from django.test import Client

from studies.models import Study

pytestmark = pytest.mark.django_db

NO_INLINES = {
    f"{prefix}-{field}": "0"
    for prefix in ("scenarios", "consent_documents")
    for field in ("TOTAL_FORMS", "INITIAL_FORMS")
}


@pytest.fixture
def coordinator_client(coordinator):
    client = Client()
    client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _post(client, study, **changes):
    data = {
        "title": study.title,
        "slug": study.slug,
        "status": study.status,
        "description": study.description,
        "stuck_after_minutes": study.stuck_after_minutes,
        "stories_per_participant": 3,
        "withdrawal_policy": study.withdrawal_policy,
        **NO_INLINES,
        **changes,
    }
    return client.post(f"/admin/studies/study/{study.pk}/change/", {k: v for k, v in data.items() if v is not None})


def _error(response):
    html = response.content.decode()
    found = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


@pytest.mark.parametrize("status", [Study.Status.PILOT, Study.Status.OPEN])
def test_pilot_or_open_without_a_model_needs_the_scripted_interviewer_box(study, coordinator_client, status):
    Study.objects.filter(pk=study.pk).update(status=Study.Status.DRAFT, scripted_interviewer_ok=False)
    study.refresh_from_db()
    response = _post(coordinator_client, study, status=status)
    assert response.status_code == 200  # the form again, with the error
    error = _error(response)
    assert "scripted (offline) interviewer" in error
    assert "Configure a language model" in error and "Pilot with scripted interviewer" in error
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT

    # Ticking the box is the coordinator saying the script is intended.
    response = _post(coordinator_client, study, status=status, scripted_interviewer_ok="on")
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.status == status and study.scripted_interviewer_ok


def test_a_provider_without_its_key_is_offline_too_and_the_error_says_why(study, coordinator_client):
    Study.objects.filter(pk=study.pk).update(status=Study.Status.DRAFT, scripted_interviewer_ok=False)
    study.refresh_from_db()
    response = _post(coordinator_client, study, status=Study.Status.OPEN, llm_provider="anthropic")
    assert "ANTHROPIC_API_KEY is not set" in _error(response)


def test_draft_paused_and_closed_need_no_model(study, coordinator_client):
    Study.objects.filter(pk=study.pk).update(scripted_interviewer_ok=False)
    study.refresh_from_db()
    for status in (Study.Status.DRAFT, Study.Status.PAUSED, Study.Status.CLOSED):
        assert _post(coordinator_client, study, status=status).status_code == 302


def test_the_coordinator_can_include_scripted_cards_and_the_form_says_what_it_does(study, coordinator_client):
    html = coordinator_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert 'name="include_scripted_cards"' in html
    assert "left out of the canonical values and the transition stories" in html
    assert not study.include_scripted_cards  # off unless the coordinator asks
    assert (
        _post(coordinator_client, study, include_scripted_cards="on", scripted_interviewer_ok="on").status_code == 302
    )
    study.refresh_from_db()
    assert study.include_scripted_cards


def test_scripted_cards_are_marked_and_filterable_in_the_cards_admin(study, coordinator_client):
    from tests.factories import consented_participant, run_interview

    participant, _ = consented_participant(study, "pid-admin-scripted")
    interview, _ = run_interview(
        participant, study.scenarios.get(key="parenting"), answers=["dunno", "ok", "idk", "no idea", "k"], submit=False
    )
    card = interview.cards.get()
    listing = coordinator_client.get("/admin/values/valuescard/?scripted__exact=1").content.decode()
    assert card.title in listing and "By scripted" in listing
    assert card.title not in coordinator_client.get("/admin/values/valuescard/?scripted__exact=0").content.decode()
    page = coordinator_client.get(f"/admin/values/valuescard/{card.pk}/change/").content.decode()
    assert "Scripted" in page and "Written by the offline (scripted) interviewer" in page
