"""Seeding canonical values: DBSCAN over card embeddings, the LLM picks the
best-written card of each cluster (paper 4.5, step 1)."""

import pytest
from django.core.management import call_command

from mgeplatform.llm.providers import offline
from tests.factories import FAITH
from values.clustering import cluster_vectors, groups, medoid
from values.models import CanonicalValue, DeduplicationDecision, ValuesCard


def test_dbscan_groups_close_vectors_and_leaves_noise():
    vectors = [[1, 0, 0], [0.99, 0.01, 0], [0, 1, 0], [0.01, 0.99, 0], [0, 0, 1]]
    labels = cluster_vectors(vectors, eps=0.05, min_samples=2)
    assert labels[0] == labels[1] != labels[2] == labels[3] and labels[4] == -1
    assert sorted(len(v) for v in groups(labels).values()) == [2, 2]
    assert medoid([[1, 0], [0.9, 0.1], [0, 1]]) == 1
    assert cluster_vectors([], eps=0.1, min_samples=2) == []


def test_seeding_makes_one_canonical_value_per_cluster_and_is_idempotent(cards, capsys):
    study, made = cards
    call_command("seed_canonical_values", study=study.slug, eps=0.5, min_samples=2)
    assert "Made 2 canonical values from 4 cards; 1 cards left" in capsys.readouterr().out
    curiosity = ValuesCard.objects.get(pk=made["c1"].pk).canonical
    assert curiosity is not None and curiosity == ValuesCard.objects.get(pk=made["c2"].pk).canonical
    faith = ValuesCard.objects.get(pk=made["f1"].pk).canonical
    assert faith == ValuesCard.objects.get(pk=made["f2"].pk).canonical != curiosity
    assert ValuesCard.objects.get(pk=made["odd"].pk).canonical is None
    # The offline judge picks the most complete card: the faith card with three policies.
    assert faith.representative_card_id == made["f1"].pk and faith.policies == FAITH
    assert faith.origin == "seed" and faith.embedding_model == "offline-hash-384"
    decision = DeduplicationDecision.objects.get(card=made["f2"], kind="seed")
    assert decision.matched == faith and decision.llm_call.prompt_name == "best_card"

    call_command("seed_canonical_values", study=study.slug, eps=0.5, min_samples=2)
    assert "Made 0 canonical values" in capsys.readouterr().out
    assert CanonicalValue.objects.count() == 2


def test_unusable_judge_answer_falls_back_to_the_medoid(cards):
    from values import services

    study, made = cards
    original = offline._SCRIPTS["best_card"]
    offline.register_script("best_card", lambda request: ('{"best": 424242}', []))
    try:
        services.seed_canonical_values(study, eps=0.5, min_samples=2)
    finally:
        offline.register_script("best_card", original)
    decision = DeduplicationDecision.objects.filter(kind="seed").first()
    assert "not in the cluster; took the medoid" in decision.reason
    assert CanonicalValue.objects.count() == 2


def test_bad_options_are_refused(cards):
    from django.core.management.base import CommandError

    study, _ = cards
    with pytest.raises(CommandError, match="--eps"):
        call_command("seed_canonical_values", study=study.slug, eps=0, min_samples=2)
    with pytest.raises(CommandError, match="No study"):
        call_command("seed_canonical_values", study="nope")


def test_coordinator_merges_two_values_and_cards_follow(cards, coordinator, auditor):
    from django.test import Client

    from mgeplatform.models import DomainEvent
    from values import services

    study, made = cards
    services.seed_canonical_values(study, eps=0.5, min_samples=2)
    curiosity = ValuesCard.objects.get(pk=made["c1"].pk).canonical
    faith = ValuesCard.objects.get(pk=made["f1"].pk).canonical
    reader = Client()
    reader.post("/accounts/login/", {"login": auditor.email, "password": "x-audit-pass-1"})
    reader.post(
        "/admin/values/canonicalvalue/", {"action": "merge_into_oldest", "_selected_action": [curiosity.pk, faith.pk]}
    )
    assert not CanonicalValue.objects.exclude(merged_into=None).exists()  # auditors change nothing
    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    response = client.post(
        "/admin/values/canonicalvalue/", {"action": "merge_into_oldest", "_selected_action": [curiosity.pk, faith.pk]}
    )
    assert response.status_code == 302
    keep, gone = sorted([curiosity, faith], key=lambda v: (v.created_at, v.pk))
    assert set(ValuesCard.objects.filter(canonical=keep).values_list("pk", flat=True)) == {
        made["c1"].pk,
        made["c2"].pk,
        made["f1"].pk,
        made["f2"].pk,
    }
    gone.refresh_from_db()
    assert gone.merged_into == keep  # kept, for provenance
    event = DomainEvent.objects.get(kind="canonical.merged")
    assert event.actor_user == coordinator and event.payload["cards_moved"] == 2
    with pytest.raises(ValueError):
        services.merge_canonical_values(keep=gone, merge=[keep])
