"""In-chat match (paper 4.5, step 2): accepted, rejected, bad model output,
and the participant's approval."""

import pytest
from django.test import Client

from mgeplatform.llm.providers import offline
from mgeplatform.models import DomainEvent, LLMCall
from tests.factories import consented_participant, run_interview
from values import embeddings, services
from values.models import CanonicalApproval, CanonicalValue, DeduplicationDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(db):
    """A participant whose offline interview produced a submitted card."""
    from studies import services as journey

    study, _ = journey.seed_case_study()
    # The offline interviewer stands in for a language model here: its cards take part in matching.
    study.include_scripted_cards = True
    study.save(update_fields=["include_scripted_cards"])
    participant, client = consented_participant(study, "match-1")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    return study, interview.cards.get(submitted=True), client


def _canonical(study, title, policies):
    value = CanonicalValue.objects.create(
        study=study, title=title, description=f"{title}.", policies=policies, origin="manual"
    )
    embeddings.embed_objects([value], study=study)
    return value


def _same_as(card, study):
    return _canonical(study, "Shared " + card.title, list(card.policies))


def _unrelated(study):
    return _canonical(study, "Ceremony", ["RITUALS of the royal court", "ETIQUETTE at state banquets"])


def test_matching_canonical_value_is_linked_and_recorded(submitted):
    study, card, _ = submitted
    same, _other = _same_as(card, study), _unrelated(study)
    decision = services.match_card_in_chat(card.pk)
    card.refresh_from_db()
    assert decision.outcome == "matched" and decision.matched == same and card.canonical == same
    assert [c["id"] for c in decision.candidates][0] == same.pk  # the nearest was offered first
    assert decision.llm_call.prompt_name == "deduplicator" and decision.llm_call.purpose == "values.match_in_chat"
    assert DomainEvent.objects.filter(kind="values_card.matched", subject_id=str(card.pk)).exists()


def test_no_canonical_value_close_enough_means_no_model_call(submitted):
    study, card, _ = submitted
    _unrelated(study)
    decision = services.match_card_in_chat(card.pk)
    assert decision.outcome == "no_candidates" and decision.llm_call is None
    assert not LLMCall.objects.filter(purpose="values.match_in_chat").exists()


def test_model_saying_no_match_leaves_the_card_waiting(submitted, settings):
    settings.DEDUP_MAX_DISTANCE = 2.0  # offer everything
    study, card, _ = submitted
    _unrelated(study)
    decision = services.match_card_in_chat(card.pk)
    card.refresh_from_db()
    assert decision.outcome == "no_match" and card.canonical is None
    assert "policy words shared" in decision.reason


@pytest.mark.parametrize(
    "reply, outcome",
    [
        ('{"match": 999999, "reason": "that one"}', "bad_output"),  # an id that was not offered
        ("I'm sorry, I can't help with that.", "bad_output"),  # a refusal
        ('{"match": "the first one"}', "bad_output"),  # wrong type
    ],
)
def test_bad_model_output_is_no_match_and_recorded(submitted, reply, outcome):
    study, card, _ = submitted
    _same_as(card, study)
    original = offline._SCRIPTS["deduplicator"]
    offline.register_script("deduplicator", lambda request: (reply, []))
    try:
        decision = services.match_card_in_chat(card.pk)
    finally:
        offline.register_script("deduplicator", original)
    card.refresh_from_db()
    assert decision.outcome == outcome and card.canonical is None and decision.matched is None
    assert decision.llm_call is not None and decision.llm_call.response_text == reply


def test_participant_is_asked_and_answers_once(submitted):
    study, card, client = submitted
    same = _same_as(card, study)
    services.match_card_in_chat(card.pk)
    page = client.get(f"/s/{study.slug}/journey/")
    html = page.content.decode()
    assert "Is this your value?" in html and same.title in html and card.title in html
    bad = client.post(f"/s/{study.slug}/approval/", {"canonical": same.pk, "answer": "maybe"})
    assert bad.status_code == 400 and "Please choose one of the answers" in bad.content.decode()
    for _ in range(2):  # double click
        response = client.post(f"/s/{study.slug}/approval/", {"canonical": same.pk, "answer": "well"})
        assert response.status_code == 302
    approval = CanonicalApproval.objects.get()
    assert (approval.card, approval.canonical, approval.answer) == (card, same, "well")
    assert "Is this your value?" not in client.get(f"/s/{study.slug}/journey/").content.decode()


def test_another_browser_cannot_answer_for_the_participant(submitted):
    study, card, _ = submitted
    same = _same_as(card, study)
    services.match_card_in_chat(card.pk)
    stranger = Client()
    response = stranger.post(f"/s/{study.slug}/approval/", {"canonical": same.pk, "answer": "not"})
    assert response.status_code == 403
    assert not CanonicalApproval.objects.exists()


def test_decisions_cannot_be_rewritten(submitted):
    from django.db import ProgrammingError, transaction

    study, card, _ = submitted
    _same_as(card, study)
    services.match_card_in_chat(card.pk)
    with pytest.raises(ProgrammingError), transaction.atomic():
        DeduplicationDecision.objects.update(outcome="no_match")


def test_auditor_sees_provenance_of_a_canonical_value(submitted, auditor):
    study, card, client = submitted
    same = _same_as(card, study)
    decision = services.match_card_in_chat(card.pk)
    client.post(f"/s/{study.slug}/approval/", {"canonical": same.pk, "answer": "partly"})
    staff = Client()
    staff.post("/accounts/login/", {"login": auditor.email, "password": "x-audit-pass-1"})
    html = staff.get(f"/admin/values/canonicalvalue/{same.pk}/change/").content.decode()
    assert card.title in html and f"interview {card.interview_id}" in html
    assert str(card.interview.participant_id) in html
    assert f"call {decision.llm_call_id}" in html
    assert f"deduplicator v1 ({decision.llm_call.prompt_hash[:10]})" in html and "offline/" in html
    assert "Partly" in html
    assert 'name="_save"' not in html  # auditors read, never change
    listing = staff.get("/admin/values/canonicalvalue/").content.decode()
    assert "0 / 1 / 0" in listing
    call_page = staff.get(f"/admin/mgeplatform/llmcall/{decision.llm_call_id}/change/").content.decode()
    assert "policy words shared" in call_page  # the raw answer
