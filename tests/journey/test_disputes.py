"""A participant contests how they are represented (issue 25, item 3): the
merge of their card, a story's depiction of their value, their value's
place in the graph; a coordinator upholds or rejects; the participant reads
the outcome at the same link; the graph's pages count disputes without
saying who; withdrawal deletes them."""

import re
from html import unescape as html_unescape

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from graph import services as graph_services
from graph.models import GraphSnapshot, MoralContext, TransitionStory
from journey import services, withdrawal
from journey.models import TEXT_MAX_CHARS, Dispute
from journey.report import study_report
from mgeplatform.inputs import BadInput
from mgeplatform.models import DomainEvent
from studies import services as study_services
from studies.models import Participant, Step, Study
from surveys import services as survey_services
from surveys.models import FollowUpLink
from tests.factories import make_values, move_to, parent_with_card
from values.models import CanonicalValue, ValuesCard

WORDS = "My card was about letting children choose, not about rules. The shared value lost that."


@pytest.fixture
def disputer(db):
    """A participant who completed: their card lives on a value with another
    participant's card, a story starts from that value, and the latest moral
    graph has it. Returns (participant, their browser, card, value, story)."""
    study, _ = study_services.seed_case_study()
    values = make_values(study)
    participant, client = parent_with_card(study, "disputer-pid", values[0])
    move_to(participant, Step.COMPLETE)
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a child asks for advice"
    )
    story = TransitionStory.objects.create(
        study=study,
        from_value=values[0],
        to_value=values[1],
        context=context,
        story="I used to think only of choices, then I saw more.",
    )
    graph_services.build_snapshot(study, quick=True)
    card = ValuesCard.objects.get(interview__participant=participant)
    return participant, client, card, values[0], story


def _open(participant, kind, text=WORDS, **extra):
    return services.open_dispute(participant=participant, kind=kind, text=text, via=Dispute.Via.THANK_YOU, **extra)


# --- services ----------------------------------------------------------------------------


def test_each_kind_is_recorded_with_what_it_is_about(disputer):
    participant, _, card, value, story = disputer
    merge, created = _open(participant, Dispute.Kind.MERGE)
    assert created and (merge.card, merge.value, merge.text) == (card, value, WORDS)
    told, _ = _open(participant, Dispute.Kind.STORY, story_id=story.pk)
    assert told.story == story
    place, _ = _open(participant, Dispute.Kind.PLACE)
    assert place.snapshot == GraphSnapshot.objects.get()
    assert Dispute.objects.filter(participant=participant, status=Dispute.Status.OPEN).count() == 3
    opened = DomainEvent.objects.filter(kind="dispute.opened")
    assert opened.count() == 3
    assert all(WORDS not in str(e.payload) for e in opened)  # their words stay with the dispute only


def test_a_double_submit_makes_one_dispute(disputer):
    participant = disputer[0]
    first, created = _open(participant, Dispute.Kind.MERGE)
    again, created_again = _open(participant, Dispute.Kind.MERGE, text=WORDS + " (sent twice)")
    assert created and not created_again and again.pk == first.pk
    assert Dispute.objects.filter(participant=participant).count() == 1


def test_a_story_not_about_their_value_is_refused(disputer):
    participant, _, _, value, story = disputer
    other = TransitionStory.objects.create(
        study=story.study,
        from_value=story.to_value,
        to_value=CanonicalValue.objects.exclude(pk__in=[value.pk, story.to_value_id]).filter(study=story.study).first(),
        context=story.context,
        story="Other.",
    )
    with pytest.raises(services.DisputeError, match="choose one of the stories"):
        _open(participant, Dispute.Kind.STORY, story_id=other.pk)
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "in your own words"),
        ("bad \x00 char", "NUL"),
        ("x" * (TEXT_MAX_CHARS + 1), f"at most {TEXT_MAX_CHARS:,} characters"),
    ],
)
def test_bad_text_is_refused_with_a_clear_message(disputer, text, message):
    with pytest.raises(BadInput, match=message):
        _open(disputer[0], Dispute.Kind.MERGE, text=text)
    assert not Dispute.objects.exists()


def test_upholding_a_merge_gives_the_card_its_own_value(disputer, coordinator):
    participant, _, card, value, _ = disputer
    others = set(value.cards.exclude(pk=card.pk).values_list("pk", flat=True))
    assert others  # the other participant's card
    dispute, _ = _open(participant, Dispute.Kind.MERGE)
    services.uphold_dispute(dispute, user=coordinator)
    dispute.refresh_from_db()
    card.refresh_from_db()
    new = CanonicalValue.objects.get(pk=dispute.outcome["new_value"])
    assert card.canonical == new and new.title == card.title and new.representative_card == card
    assert set(value.cards.values_list("pk", flat=True)) == others  # the old value keeps its other cards
    assert (dispute.status, dispute.decided_by) == (Dispute.Status.UPHELD, coordinator) and dispute.decided_at
    assert "value of its own" in dispute.reason
    assert DomainEvent.objects.filter(kind="canonical.split", subject_id=str(new.pk)).exists()
    # The card's value is its own now: no merge is left to dispute.
    with pytest.raises(services.DisputeError, match="no merge to dispute"):
        _open(participant, Dispute.Kind.MERGE)
    assert DomainEvent.objects.filter(
        kind="dispute.upheld", subject_id=str(dispute.pk), actor_user=coordinator
    ).exists()
    # Decided once: a second uphold is refused.
    with pytest.raises(services.DisputeError, match="already upheld"):
        services.uphold_dispute(dispute, user=coordinator)


def test_upholding_a_story_dispute_archives_the_story(disputer, coordinator):
    participant, _, _, _, story = disputer
    dispute, _ = _open(participant, Dispute.Kind.STORY, story_id=story.pk)
    services.uphold_dispute(dispute, user=coordinator, reason="The story put words in your mouth.")
    story.refresh_from_db()
    dispute.refresh_from_db()
    assert story.status == TransitionStory.Status.ARCHIVED
    assert dispute.reason == "The story put words in your mouth."
    assert DomainEvent.objects.filter(kind="graph.stories_archived").exists()


@pytest.mark.django_db(transaction=True)
def test_upholding_a_place_dispute_rebuilds_the_graph(coordinator):
    from tests.factories import run_jobs_until_idle

    study, _ = study_services.seed_case_study()
    values = make_values(study)
    participant, _ = parent_with_card(study, "place-pid", values[0])
    move_to(participant, Step.COMPLETE)
    graph_services.build_snapshot(study, quick=True)
    dispute, _ = _open(participant, Dispute.Kind.PLACE)
    services.uphold_dispute(dispute, user=coordinator)
    dispute.refresh_from_db()
    assert dispute.outcome["build_job"]
    run_jobs_until_idle()
    assert GraphSnapshot.objects.filter(study=study).count() == 2
    assert GraphSnapshot.objects.filter(study=study).order_by("-pk").first().created_by == coordinator


def test_a_rejection_needs_a_reason(disputer, coordinator):
    dispute, _ = _open(disputer[0], Dispute.Kind.MERGE)
    with pytest.raises(BadInput, match="needs a reason"):
        services.reject_dispute(dispute, user=coordinator, reason="  ")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    services.reject_dispute(dispute, user=coordinator, reason="Both cards say the same thing.")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.reason) == (Dispute.Status.REJECTED, "Both cards say the same thing.")
    assert DomainEvent.objects.filter(kind="dispute.rejected", subject_id=str(dispute.pk)).exists()
    # A new dispute about the same thing may be opened once the first is decided.
    assert _open(disputer[0], Dispute.Kind.MERGE)[1]


def test_withdrawal_deletes_disputes_and_their_history(disputer):
    from journey.models import DisputeEvent

    participant = disputer[0]
    Study.objects.filter(pk=participant.study_id).update(withdrawal_policy=Study.WithdrawalPolicy.DELETE_CONTENT)
    participant.refresh_from_db()
    dispute, _ = _open(participant, Dispute.Kind.MERGE)
    assert DisputeEvent.objects.filter(pgh_obj_id=dispute.pk).exists()
    withdrawal.withdraw(participant)
    assert not Dispute.objects.filter(participant=participant).exists()
    assert not DisputeEvent.objects.filter(pgh_obj_id=dispute.pk).exists()
    event = DomainEvent.objects.get(kind="participant.withdrawn")
    assert event.payload["deleted"]["disputes"] == 1


def test_the_public_disputes_table_counts_without_saying_who(disputer, coordinator):
    participant, _, _, _, story = disputer
    study = participant.study
    Study.objects.filter(pk=study.pk).update(graph_public=True)
    merge, _ = _open(participant, Dispute.Kind.MERGE)
    _open(participant, Dispute.Kind.STORY, story_id=story.pk)
    services.reject_dispute(merge, user=coordinator, reason="Reason only for the participant.")
    page = Client().get(f"/graph/{study.slug}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="disputes-table"' in html
    table = html[html.index('id="disputes-table"') :]
    table = table[: table.index("</table>")]
    cells = [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", r) for r in table.split("<tr>")[2:]]
    cells = [[html_unescape(c) for c in row] for row in cells]
    assert cells[0] == ["Merge of my card into a shared value", "0", "0", "1", "1"]
    assert cells[1] == ["A story's depiction of my value", "1", "0", "0", "1"]
    assert cells[-1] == ["All kinds", "1", "0", "1", "2"]
    for private in (WORDS, "Reason only for the participant.", str(participant.pk), "disputer-pid", "Mine"):
        assert private not in html


def test_the_report_gives_the_dispute_rate_and_outcomes(disputer, coordinator):
    participant = disputer[0]
    dispute, _ = _open(participant, Dispute.Kind.MERGE)
    services.uphold_dispute(dispute, user=coordinator)
    report = study_report(participant.study)["disputes"]
    assert (report["completed"], report["disputing"], report["rate_percent"]) == (1, 1, 100.0)
    assert report["rows"][0]["upheld"] == 1 and report["totals"]["total"] == 1
    client = Client()
    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{participant.study_id}/report/").content.decode()
    assert "1 of 1 completed participants disputed something (100.0%)" in html


# --- the participant's pages ------------------------------------------------------------------


def test_the_thank_you_page_links_to_the_disputes_page(disputer):
    participant, client, *_ = disputer
    page = client.get(f"/s/{participant.study.slug}/journey/")
    assert page.status_code == 200
    assert f'href="/s/{participant.study.slug}/disputes/"' in page.content.decode()


def test_a_dispute_from_the_thank_you_page_and_its_outcome(disputer, coordinator):
    participant, client, card, *_ = disputer
    url = f"/s/{participant.study.slug}/disputes/"
    page = client.get(url)
    assert page.status_code == 200 and "The card you wrote" in page.content.decode()
    sent = client.post(url, {"kind": "merge", "text": WORDS})
    assert sent.status_code == 302 and sent["Location"].startswith(url + "?done=sent")
    # The double submit: a second POST makes no second dispute, and says so.
    again = client.post(url, {"kind": "merge", "text": WORDS})
    assert again["Location"].startswith(url + "?done=already")
    assert Dispute.objects.filter(participant=participant).count() == 1
    html = client.get(url + "?done=sent").content.decode()
    assert "your dispute is recorded" in html and WORDS in html and "Waiting for a coordinator" in html
    services.reject_dispute(Dispute.objects.get(), user=coordinator, reason="The shared value keeps your choice.")
    html = client.get(url).content.decode()
    assert "Rejected" in html and "The shared value keeps your choice." in html


def test_over_long_text_comes_back_in_the_form(disputer):
    participant, client, *_ = disputer
    text = "y" * (TEXT_MAX_CHARS + 5)
    page = client.post(f"/s/{participant.study.slug}/disputes/", {"kind": "merge", "text": text})
    html = page.content.decode()
    assert page.status_code == 400 and f"at most {TEXT_MAX_CHARS:,} characters" in html
    assert f">{text}</textarea>" in html
    assert not Dispute.objects.exists()


def test_the_follow_up_link_reaches_the_same_disputes(disputer, coordinator):
    participant, client, *_ = disputer
    assert survey_services.issue_follow_up_links(participant.study, days_valid=30) == 1
    token = FollowUpLink.objects.get(participant=participant).token
    follow_up = Client().get(f"/f/{token}/").content.decode()
    assert f'href="/f/{token}/disputes/"' in follow_up
    url = f"/f/{token}/disputes/"
    assert Client().post(url, {"kind": "place", "text": "My value deserves better."}).status_code == 302
    dispute = Dispute.objects.get()
    assert dispute.via == Dispute.Via.FOLLOW_UP and dispute.kind == Dispute.Kind.PLACE
    services.uphold_dispute(dispute, user=coordinator, reason="We rebuilt the graph.")
    html = Client().get(url).content.decode()
    assert "Upheld" in html and "We rebuilt the graph." in html
    # The same dispute shows on the thank-you page's link too.
    assert "We rebuilt the graph." in client.get(f"/s/{participant.study.slug}/disputes/").content.decode()
    assert Client().get("/f/not-a-real-link/disputes/").status_code == 404


def test_someone_elses_dispute_is_not_visible(disputer):
    participant, client, _, value, _ = disputer
    _open(participant, Dispute.Kind.MERGE)
    other, other_client = parent_with_card(participant.study, "other-pid", value)
    move_to(other, Step.COMPLETE)
    html = other_client.get(f"/s/{participant.study.slug}/disputes/").content.decode()
    assert WORDS not in html and "You have not disputed anything." in html
    # Without the study's participant in the session, no page at all.
    assert Client().get(f"/s/{participant.study.slug}/disputes/").status_code == 403


# --- the coordinators' queue --------------------------------------------------------------------


def _act(client, action, disputes, **extra):
    return client.post(
        "/admin/journey/dispute/", {"action": action, ACTION_CHECKBOX_NAME: [d.pk for d in disputes], **extra}
    )


def test_admin_uphold_splits_the_card_off(disputer, coordinator):
    participant, _, card, value, _ = disputer
    dispute, _ = _open(participant, Dispute.Kind.MERGE)
    client = Client()
    client.force_login(coordinator)
    listing = client.get("/admin/journey/dispute/?status__exact=open&kind__exact=merge")
    assert listing.status_code == 200 and "letting children choose" in listing.content.decode()
    confirm = _act(client, "uphold", [dispute])
    assert confirm.status_code == 200 and "Reason, shown to the participant" in confirm.content.decode()
    done = _act(client, "uphold", [dispute], apply="uphold", reason="")
    assert done.status_code == 302
    card.refresh_from_db()
    assert card.canonical != value and card.canonical.title == card.title


def test_admin_reject_asks_for_a_reason_and_keeps_nothing_undone(disputer, coordinator):
    dispute, _ = _open(disputer[0], Dispute.Kind.MERGE)
    client = Client()
    client.force_login(coordinator)
    refused = _act(client, "reject", [dispute], apply="reject", reason="")
    assert refused.status_code == 400 and "needs a reason" in refused.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    assert _act(client, "reject", [dispute], apply="reject", reason="Same meaning.").status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.reason) == (Dispute.Status.REJECTED, "Same meaning.")


def test_auditors_cannot_decide(disputer, auditor):
    dispute, _ = _open(disputer[0], Dispute.Kind.MERGE)
    client = Client()
    client.force_login(auditor)
    assert client.get("/admin/journey/dispute/").status_code == 200
    _act(client, "reject", [dispute], apply="reject", reason="No.")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


def test_a_spanish_participant_reads_the_disputes_page_and_the_default_outcome_in_spanish(disputer, coordinator):
    participant, client, *_ = disputer
    Study.objects.filter(pk=participant.study_id).update(languages=["en", "es"])
    Participant.objects.filter(pk=participant.pk).update(language="es")
    url = f"/s/{participant.study.slug}/disputes/"
    refused = client.post(url, {"kind": "merge", "text": "   "})
    assert refused.status_code == 400
    assert "Diga con sus propias palabras qué está mal." in refused.content.decode()
    assert client.post(url, {"kind": "merge", "text": WORDS}).status_code == 302
    assert "su impugnación ha quedado registrada" in client.get(url + "?done=sent").content.decode()
    services.uphold_dispute(Dispute.objects.get(), user=coordinator)  # no reason given: the default one
    html = client.get(url).content.decode()
    assert "Aceptada" in html
    assert "Su tarjeta tiene ahora un valor propio, redactado tal como usted lo escribió." in html
    assert "Your card now has a value of its own" not in html
