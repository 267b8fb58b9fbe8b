"""Auditing an answer: the prompt's moral contexts are found (or none), the
graph's top values in each are judged against the answer with quotes, and
the audit says whether the answer follows the graph's winner. Model answers
that are unusable are recorded and the audit still completes."""

import json

import pytest

from alignment import selectors, services
from alignment.models import AnswerAudit
from graph.models import MoralContext
from mgeplatform.models import DomainEvent, LLMCall
from tests.alignment.conftest import FOLLOWS_AUTONOMY, FOLLOWS_STRICT, PROMPT

pytestmark = pytest.mark.django_db


def test_the_prompt_is_placed_in_the_context_it_is_about(target):
    found = services.detect_contexts(target.study, PROMPT)
    assert found.contexts == [target.child] and not found.failed
    call = LLMCall.objects.get(pk=found.llm_call.pk)
    assert call.purpose == "alignment.choose_context" and call.prompt_name == "choose_context" and call.ok


def test_a_prompt_no_context_fits_gets_none_and_nothing_is_judged(target):
    audit = services.audit_answer(target.study, "What is the capital of France?", "Paris.")
    assert list(audit.contexts.all()) == [] and audit.context_error == ""
    assert "none applies" in audit.context_reason
    assert audit.items.count() == 0 and audit.verdicts == []
    assert not LLMCall.objects.filter(purpose="alignment.judge").exists()


def test_many_contexts_are_shortlisted_by_embedding_before_the_model_chooses(target):
    parenting = target.study.scenarios.get(key="parenting")
    for word in ("weather", "taxes", "gardening", "cooking", "football", "painting", "travel", "music", "chess"):
        MoralContext.objects.create(study=target.study, scenario=parenting, text=f"When discussing {word} plans")
    shortlist = services.shortlist_contexts(target.study, PROMPT)
    assert len(shortlist) == services.SHORTLIST and shortlist[0] == target.child
    assert LLMCall.objects.filter(purpose="alignment.embed_contexts").count() == 1
    assert services.detect_contexts(target.study, PROMPT).contexts == [target.child]


def test_an_answer_following_the_winner_is_scored_with_quotes(target):
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_AUTONOMY)
    assert audit.snapshot == target.snapshot  # the study's latest graph
    record = selectors.audit_record(audit)
    assert record["contexts"] == [{"id": target.child.pk, "text": target.child.text}]
    judged = {j["title"]: j for j in record["judgements"]}
    assert list(judged) == ["Informed autonomy", "Strict rules", "Shared wisdom"]  # the top 3 in the context
    autonomy = judged["Informed autonomy"]
    assert autonomy["winner"] and autonomy["adherence"] == 10 and autonomy["rank_interval"] == [1, 2]
    assert autonomy["quotes"] == [
        {
            "policy": "CHOICES the child can make alone",
            "quote": "Let the child make some choices alone, like what to wear.",
        },
        {
            "policy": "REASONS behind each family rule",
            "quote": "Explain the reasons behind each rule so your child understands them.",
        },
    ]
    assert judged["Shared wisdom"]["adherence"] == 0
    assert judged["Shared wisdom"]["quotes"] == [{"policy": "STORIES from elders about growing up", "quote": None}]
    [verdict] = record["verdicts"]
    assert verdict["follows_best"] == target.autonomy.pk and verdict["follows_winner"]
    assert LLMCall.objects.get(pk=autonomy["llm_call"]).purpose == "alignment.judge"
    assert DomainEvent.objects.filter(kind="alignment.answer_audited", subject_id=str(audit.pk)).exists()


def test_an_answer_following_a_lesser_value_is_told_apart_from_the_winner(target):
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_STRICT)
    [verdict] = audit.verdicts
    assert verdict["winner"] == target.autonomy.pk
    assert verdict["follows_best"] == target.strict.pk and not verdict["follows_winner"]


def test_a_context_the_graph_ranks_nothing_in_is_named_without_a_winner(target, replies):
    replies(json.dumps({"contexts": [target.distress.pk], "reason": "The parent sounds worn out."}))
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_AUTONOMY)
    assert list(audit.contexts.all()) == [target.distress]
    assert audit.verdicts[0]["winner"] is None and audit.items.count() == 0


def test_malformed_judge_output_is_recorded_and_the_audit_still_completes(target, replies):
    good = {
        "policies": [
            {"policy": "CHOICES the child can make alone", "quote": "Let the child make some choices"},
            {"policy": "REASONS behind each family rule", "quote": None},
        ],
        "score": 6,
    }
    replies(
        json.dumps({"contexts": [target.child.pk, 999], "reason": "A child resisting rules."}),
        json.dumps(good),
        "I think the answer is quite good overall!",  # no JSON at all
        json.dumps(
            {
                "policies": [{"policy": "STORIES from elders about growing up", "quote": "Grandma always said so."}],
                "score": 3,
            }
        ),
    )  # not in the answer
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_AUTONOMY)
    assert AnswerAudit.objects.filter(pk=audit.pk).exists()
    items = {i.value_title: i for i in audit.items.all()}
    assert items["Informed autonomy"].adherence == 6 and not items["Informed autonomy"].judge_failed
    strict, shared = items["Strict rules"], items["Shared wisdom"]
    assert strict.judge_failed and strict.adherence is None and "JSON" in strict.error
    assert shared.judge_failed and "does not contain" in shared.error
    for item in (strict, shared):
        call = LLMCall.objects.get(pk=item.llm_call_id)
        assert not call.ok and call.error.startswith("bad output")
    assert "I think the answer is quite good" in LLMCall.objects.get(pk=strict.llm_call_id).response_text
    # The context the model made up is dropped, and its call says so.
    assert list(audit.contexts.all()) == [target.child]
    assert "not offered" in LLMCall.objects.get(pk=audit.context_call_id).error
    [verdict] = audit.verdicts
    assert verdict["follows_winner"] and verdict["judge_failed"] == 2


def test_a_failed_context_choice_is_reported_not_raised(target, replies):
    replies("no idea")
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_AUTONOMY)
    assert audit.context_error and audit.items.count() == 0
    assert not LLMCall.objects.get(pk=audit.context_call_id).ok
