"""Batch deduplication (paper 4.5, step 3): runs are recorded, safe to re-run
after a crash, and never duplicate canonical values."""

import pytest
from django.core.management import call_command

from mgeplatform.llm import gateway
from mgeplatform.llm.types import LLMError
from tests.factories import move_to, run_jobs_until_idle
from values import selectors, services
from values.models import CanonicalValue, DeduplicationDecision, DeduplicationRun, ValuesCard


def test_unlinked_cards_join_or_become_canonical_values(cards, capsys):
    study, made = cards
    call_command("deduplicate", study=study.slug)
    out = capsys.readouterr().out
    assert "finished: 5 cards, 2 joined existing values, 3 became new values" in out
    linked = {name: ValuesCard.objects.get(pk=card.pk).canonical for name, card in made.items()}
    assert all(linked.values())
    assert (
        linked["c1"] == linked["c2"]
        and linked["f1"] == linked["f2"]
        and linked["odd"] not in (linked["c1"], linked["f1"])
    )
    assert CanonicalValue.objects.filter(origin="batch").count() == 3
    assert DeduplicationDecision.objects.filter(kind="batch").count() == 5
    run = DeduplicationRun.objects.get()
    assert run.status == "finished" and run.counts == {"cards": 5, "joined": 2, "new": 3, "failed": 0}
    # The participant whose card joined another's value is asked about it.
    joined_participant = made["c2"].interview.participant
    assert selectors.pending_approval(joined_participant) == (ValuesCard.objects.get(pk=made["c2"].pk), linked["c1"])
    call_command("deduplicate", study=study.slug)
    assert "0 cards" in capsys.readouterr().out
    assert CanonicalValue.objects.count() == 3


def test_a_crash_mid_run_is_recorded_and_a_rerun_finishes_without_duplicates(cards, monkeypatch):
    study, made = cards
    real = services.match_card_async
    calls = {"n": 0}

    async def crash_on_third(card_id, kind):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return await real(card_id, kind)

    monkeypatch.setattr(services, "match_card_async", crash_on_third)
    with pytest.raises(RuntimeError):
        services.run_batch_dedup(study)
    failed = DeduplicationRun.objects.get()
    assert failed.status == "failed" and "worker killed" in failed.error and failed.counts["cards"] == 2
    monkeypatch.setattr(services, "match_card_async", real)
    services.run_batch_dedup(study)
    assert not ValuesCard.objects.filter(submitted=True, canonical__isnull=True).exists()
    assert CanonicalValue.objects.count() == 3
    assert DeduplicationDecision.objects.filter(kind="batch").count() == 5


def test_model_failure_leaves_the_card_for_the_next_run(cards):
    study, made = cards

    class Down:
        async def stream_chat(self, request, *, timeout):
            raise LLMError("503 unavailable", retryable=False, status=503)
            yield  # pragma: no cover

        async def embed(self, texts, **kwargs):
            from mgeplatform.llm.providers.offline import OfflineProvider

            return await OfflineProvider().embed(texts, **kwargs)

    services.run_batch_dedup(study)  # everything linked; now add a card similar to an existing value
    from interviews import services as chat
    from tests.factories import CURIOSITY, consented_participant

    participant, _ = consented_participant(study, "late")
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    late = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Late",
        description="d",
        policies=CURIOSITY,
        source="articulator",
        submitted=True,
    )
    with gateway.override_provider("offline", lambda route: Down()):
        run = services.run_batch_dedup(study)
    assert run.counts == {"cards": 1, "joined": 0, "new": 0, "failed": 1}
    late.refresh_from_db()
    assert late.canonical is None
    assert DeduplicationDecision.objects.get(card=late).outcome == "error"
    run = services.run_batch_dedup(study)
    late.refresh_from_db()
    assert run.counts["joined"] == 1 and late.canonical is not None


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_periodic_job_runs_in_the_worker(cards):
    from values.tasks import batch_deduplicate

    study, _ = cards
    batch_deduplicate.defer(study_id=study.pk)
    run_jobs_until_idle()
    assert DeduplicationRun.objects.filter(study=study, status="finished").exists()
    assert not ValuesCard.objects.filter(submitted=True, canonical__isnull=True).exists()


def test_coordinator_splits_cards_off_into_a_new_value(cards, coordinator, auditor):
    from django.test import Client

    from mgeplatform.models import DomainEvent

    study, made = cards
    services.run_batch_dedup(study)
    faith = ValuesCard.objects.get(pk=made["f1"].pk).canonical
    auditor_client = Client()
    auditor_client.post("/accounts/login/", {"login": auditor.email, "password": "x-audit-pass-1"})
    auditor_client.post(
        "/admin/values/valuescard/", {"action": "split_into_new_value", "_selected_action": [made["f2"].pk]}
    )
    assert ValuesCard.objects.get(pk=made["f2"].pk).canonical == faith  # auditors change nothing

    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    response = client.post(
        "/admin/values/valuescard/", {"action": "split_into_new_value", "_selected_action": [made["f2"].pk]}
    )
    assert response.status_code == 302
    new_value = ValuesCard.objects.get(pk=made["f2"].pk).canonical
    assert new_value != faith and new_value.title == made["f2"].title and new_value.origin == "manual"
    assert ValuesCard.objects.get(pk=made["f1"].pk).canonical == faith
    event = DomainEvent.objects.get(kind="canonical.split")
    assert event.actor_user == coordinator and event.payload == {"from": faith.pk, "cards": [made["f2"].pk]}
    with pytest.raises(ValueError, match="at least one card"):
        services.split_canonical_value(cards=[ValuesCard.objects.get(pk=made["f1"].pk)])
    with pytest.raises(ValueError, match="same canonical value"):
        services.split_canonical_value(
            cards=[ValuesCard.objects.get(pk=made["f1"].pk), ValuesCard.objects.get(pk=made["c1"].pk)]
        )


def test_author_of_a_card_merged_later_is_asked_on_their_next_visit(cards):
    from django.test import Client

    from studies.models import Step
    from studies.selectors import SESSION_KEY

    study, made = cards
    participant = made["c2"].interview.participant
    move_to(participant, Step.STORIES)
    services.run_batch_dedup(study)
    client = Client()
    session = client.session
    session[SESSION_KEY] = {study.slug: str(participant.pk)}
    session.save()
    html = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "Is this your value?" in html and made["c1"].title in html


def test_nobody_is_asked_to_approve_their_own_words(cards):
    """A value worded from the participant's own card (the representative of
    its group, or a card like nothing else) is not put to them as "another
    participant's" wording; the other authors in the group are asked."""
    from values import selectors

    study, made = cards
    services.run_batch_dedup(study)
    asked = {name: selectors.pending_approval(card.interview.participant) is not None for name, card in made.items()}
    for name, card in made.items():
        card.refresh_from_db()
        own_words = card.canonical.representative_card_id == card.pk
        assert asked[name] is not own_words, name
    assert asked["odd"] is False  # alone in its value
    assert any(asked.values())
