"""Follow-up links: issued once per participant who completed, signed and
expiring; the page checks deduplication (4.5) and fairness (Table 4); the
coordinator's CSV export for Prolific messages is audited."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from graph.models import GraphSnapshot, MoralContext, TransitionStory
from interviews import services as interview_services
from mgeplatform.models import DomainEvent
from studies.models import Participant, Step
from surveys import selectors, services
from surveys.models import FollowUpLink, SurveyResponse
from tests.factories import at_step, finished_participant, move_to
from tests.factories import canonical_value as _value
from values.models import ValuesCard


@pytest.fixture
def finished(study):
    return finished_participant(study, "returning")


def _link(participant, days=30):
    services.issue_follow_up_links(participant.study, days_valid=days)
    return FollowUpLink.objects.get(participant=participant)


def test_links_go_to_each_real_participant_who_completed_once(study, finished, coordinator):
    participant = finished[0]
    at_step(study, "still-voting", step=Step.STORIES)
    bot, _ = at_step(study, "bot", step=Step.COMPLETE)
    Participant.objects.filter(pk=bot.pk).update(simulated=True)
    assert services.issue_follow_up_links(study, days_valid=14, user=coordinator) == 1
    link = FollowUpLink.objects.get()
    assert link.participant == participant
    assert timedelta(days=13, hours=23) < link.expires_at - timezone.now() <= timedelta(days=14)
    assert services.issue_follow_up_links(study, user=coordinator) == 0  # idempotent
    assert FollowUpLink.objects.get().token == link.token
    event = DomainEvent.objects.get(kind="survey.follow_up_links_issued")
    assert event.actor_user == coordinator and event.payload["links"] == 1


def test_a_tampered_or_unknown_token_is_refused(finished):
    link = _link(finished[0])
    client = Client()
    assert client.get(f"/f/{link.token}/").status_code == 200
    tampered = link.token[:-3] + ("AAA" if not link.token.endswith("AAA") else "BBB")
    page = client.get(f"/f/{tampered}/")
    assert page.status_code == 404 and "This link does not work" in page.content.decode()
    assert client.get("/f/not-a-token/").status_code == 404
    # A validly signed token that is not the participant's current link.
    forged = services.make_token(finished[0].pk)
    assert client.get(f"/f/{forged}/").status_code == 404
    assert client.post(f"/f/{tampered}/", {"fair_position": "yes"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_says_so(finished):
    link = _link(finished[0])
    FollowUpLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = Client().get(f"/f/{link.token}/")
    assert page.status_code == 410 and "This link has expired" in page.content.decode()
    assert Client().post(f"/f/{link.token}/", {"fair_position": "yes"}).status_code == 410
    assert not SurveyResponse.objects.exists()


def test_page_shows_the_merged_value_and_the_graph_neighbours_with_counts(finished):
    participant, card, live, wiser, less_wise = finished
    link = _link(participant)
    page = Client().get(f"/f/{link.token}/")
    html = page.content.decode()
    assert page.status_code == 200
    # (a) deduplication: their own card beside the live value it was merged into.
    assert "Let kids choose" in html and "Informed autonomy" in html and "Gentle guidance" not in html
    assert "Does this value represent what you care about?" in html
    # (b) fairness: the kept neighbour with most wiser votes each way, with counts.
    assert "Shared wisdom" in html and "Wise elders" not in html and "Dropped" not in html
    assert "12 of 15 participants thought moving from yours to this one was wiser" in html
    assert "Strict rules" in html and "5 of 6 participants thought moving from this one to yours was wiser" in html
    assert "Do you believe your value ended up in a fair position in the moral graph?" in html
    assert "Question 1 of 2" in html and "Question 2 of 2" in html
    link.refresh_from_db()
    assert link.first_opened_at is not None and link.completed_at is None


def test_answers_are_recorded_with_what_was_shown_and_shown_again(finished):
    participant, card, live, wiser, less_wise = finished
    link = _link(participant)
    client = Client()
    missing = client.post(f"/f/{link.token}/", {"dedup_represents": "partly"})
    assert missing.status_code == 400 and "One question still needs an answer" in missing.content.decode()
    assert 'value="partly" required checked' in missing.content.decode()
    done = client.post(f"/f/{link.token}/", {"dedup_represents": "well", "fair_position": "yes"})
    assert done.status_code == 302
    link.refresh_from_db()
    completed_at = link.completed_at
    assert completed_at is not None
    rows = {r.item.key: r for r in SurveyResponse.objects.filter(participant=participant)}
    assert {k: r.answer for k, r in rows.items()} == {"dedup_represents": "well", "fair_position": "yes"}
    assert rows["dedup_represents"].shown == {"card": card.pk, "canonical_value": live.pk}
    snapshot = GraphSnapshot.objects.get()
    assert rows["fair_position"].shown == {
        "snapshot": snapshot.pk,
        "value": live.pk,
        "wiser": wiser.pk,
        "less_wise": less_wise.pk,
    }
    again = client.get(f"/f/{link.token}/").content.decode()
    assert "your answers are recorded" in again
    assert 'value="well" required checked' in again and 'value="yes" required checked' in again
    # Changing an answer updates it; the link stays completed from the first time.
    client.post(f"/f/{link.token}/", {"dedup_represents": "partly", "fair_position": "yes"})
    link.refresh_from_db()
    assert link.completed_at == completed_at
    assert SurveyResponse.objects.filter(participant=participant).count() == 2
    assert selectors.dedup_verification_table(participant.study)["partly_percent"] == 100.0
    assert selectors.fairness_table(participant.study) == {"n": 1, "yes_percent": 100.0, "no_percent": 0.0}
    assert DomainEvent.objects.filter(kind="survey.follow_up_submitted", actor_participant=participant.pk).count() == 2


def test_without_a_graph_or_merge_only_what_applies_is_asked(study):
    participant, _ = at_step(study, "unmerged", step=Step.INTERVIEW)
    interview = interview_services.choose_scenario(
        participant=participant, scenario=study.scenarios.get(key="parenting")
    )
    card = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Own value",
        description="Mine.",
        policies=["THINGS I notice"],
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
    )
    own = _value(study, "Own value", representative_card=card)
    ValuesCard.objects.filter(pk=card.pk).update(canonical=own)
    move_to(participant, Step.COMPLETE)
    link = _link(participant)
    html = Client().get(f"/f/{link.token}/").content.decode()
    # Their value kept their own wording, and there is no graph yet: nothing to ask.
    assert "Does this value represent" not in html and "fair position" not in html
    assert "nothing more for you to answer" in html


def _login(user, password):
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": password}).status_code == 302
    return client


def test_coordinator_exports_links_as_csv_and_the_export_is_audited(finished, coordinator, settings):
    settings.SITE_URL = "https://mge.example.org/"
    participant = finished[0]
    link = _link(participant)
    client = _login(coordinator, "x-coord-pass-1")
    listing = client.get("/admin/surveys/followuplink/?status=not_opened")
    assert listing.status_code == 200 and "Issue follow-up links" in listing.content.decode()
    response = client.post("/admin/surveys/followuplink/", {"action": "export_csv", "_selected_action": [link.pk]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {
            "participant_id": str(participant.pk),
            "prolific_pid": "returning",
            "url": f"https://mge.example.org/f/{link.token}/",
            "expires_at": link.expires_at.isoformat(),
        }
    ]
    event = DomainEvent.objects.get(kind="survey.follow_up_links_exported")
    assert event.actor_user == coordinator and event.study_slug == participant.study.slug
    assert event.payload == {"links": 1, "with_prolific_pid": 1}
    assert "returning" not in str(event.payload)  # the trail records the export, not the ids


def test_auditor_cannot_export_identities(finished, auditor):
    link = _link(finished[0])
    client = _login(auditor, "x-audit-pass-1")
    assert client.get("/admin/surveys/followuplink/").status_code == 200
    assert client.get("/admin/surveys/surveyresponse/?item__kind__exact=fairness").status_code == 200
    assert client.get("/admin/surveys/followuplink/issue/").status_code == 403
    response = client.post("/admin/surveys/followuplink/", {"action": "export_csv", "_selected_action": [link.pk]})
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert not DomainEvent.objects.filter(kind="survey.follow_up_links_exported").exists()


def test_coordinator_issues_links_from_the_admin(finished, coordinator):
    client = _login(coordinator, "x-coord-pass-1")
    study = finished[0].study
    assert client.get("/admin/surveys/followuplink/issue/").status_code == 200
    response = client.post("/admin/surveys/followuplink/issue/", {"study": study.pk, "days_valid": 7})
    assert response.status_code == 302
    assert FollowUpLink.objects.filter(participant=finished[0]).exists()


def test_withdrawal_removes_answers_and_the_link(finished):
    from journey import withdrawal

    participant = finished[0]
    link = _link(participant)
    Client().post(f"/f/{link.token}/", {"dedup_represents": "well", "fair_position": "no"})
    assert SurveyResponse.objects.filter(participant=participant).count() == 2
    withdrawal.withdraw(participant)
    assert not SurveyResponse.objects.filter(participant=participant).exists()
    assert not FollowUpLink.objects.filter(participant=participant).exists()
    assert Client().get(f"/f/{link.token}/").status_code == 404


def test_withdrawn_participants_are_left_out_of_the_export(study, finished, coordinator):
    from journey import withdrawal

    study.withdrawal_policy = study.WithdrawalPolicy.KEEP_ANONYMISED
    study.save()
    participant = finished[0]
    link = _link(participant)
    withdrawal.withdraw(participant)
    assert FollowUpLink.objects.filter(pk=link.pk).exists()  # content kept, but nobody to message
    assert services.export_follow_up_links(FollowUpLink.objects.all(), user=coordinator).strip() == (
        "participant_id,prolific_pid,url,expires_at"
    )
    assert Client().get(f"/f/{link.token}/").status_code == 410


def _spanish(value, title):
    from values.models import ValueRendering, wording_digest

    return ValueRendering.objects.create(
        canonical=value,
        language="es",
        title=title,
        description=f"{title}, en palabras de un participante.",
        policies=["MOMENTOS en que se escucha"],
        source=ValueRendering.Source.TRANSLATION,
        pivot_digest=wording_digest(value.title, value.description, value.policies),
    )


def test_a_spanish_participant_sees_the_values_in_spanish(study):
    study.languages = ["en", "es"]
    study.save()
    participant, card, live, wiser, less_wise = finished_participant(study, "hablante")
    Participant.objects.filter(pk=participant.pk).update(language="es")
    _spanish(live, "Autonomía informada")
    _spanish(wiser, "Sabiduría compartida")
    # "Strict rules" was worded again after the graph was built: its rendering is of the new words,
    # so the page keeps the graph's pivot wording rather than show a rendering of something else.
    less_wise.title = "Firm rules"
    less_wise.save()
    _spanish(less_wise, "Reglas firmes")

    html = Client().get(f"/f/{_link(participant).token}/").content.decode()
    assert '<html lang="es"' in html and "Preguntas de seguimiento" in html
    # The merged value and the graph neighbours are in Spanish; the card in the participant's own words.
    assert "<h2>Autonomía informada</h2>" in html and "<h2>Informed autonomy</h2>" not in html
    assert "<h2>Sabiduría compartida</h2>" in html and "Shared wisdom" not in html
    assert "MOMENTOS en que se escucha" in html and "Let kids choose" in html
    assert "<h2>Strict rules</h2>" in html and "Reglas firmes" not in html
    # The disputes page the follow-up links to words the same values the same way, its stories too.
    context = MoralContext.objects.filter(study=study).first() or MoralContext.objects.create(
        study=study, text="When a child asks for freedom"
    )
    TransitionStory.objects.create(study=study, from_value=wiser, to_value=live, context=context, story="A story.")
    disputes = Client().get(f"/f/{_link(participant).token}/disputes/").content.decode()
    assert "De «Sabiduría compartida» a «Autonomía informada»:" in disputes
    assert "<h2>Autonomía informada</h2>" in disputes and "Informed autonomy" not in disputes
    assert "<h2>Sabiduría compartida</h2>" in disputes and "Shared wisdom" not in disputes
    # What an answer was about is still recorded by the values' ids.
    Client().post(f"/f/{_link(participant).token}/", {"dedup_represents": "well", "fair_position": "yes"})
    shown = SurveyResponse.objects.get(participant=participant, item__key="fair_position").shown
    assert shown["value"] == live.pk and shown["wiser"] == wiser.pk
