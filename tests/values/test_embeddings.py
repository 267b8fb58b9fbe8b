"""Embeddings on pgvector: nearest canonical values, one model at a time."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mgeplatform.models import LLMCall
from tests.factories import consented_participant, run_interview
from values import embeddings, selectors
from values.models import CanonicalValue, ValuesCard

pytestmark = pytest.mark.django_db

VALUES = {
    "curiosity": [
        "MOMENTS when the child's eyes light up with interest",
        "QUESTIONS the child asks on their own",
        "OPPORTUNITIES to follow the child's passions",
    ],
    "discipline": [
        "ROUTINES that the family keeps every day",
        "CONSEQUENCES that follow broken rules firmly",
        "SCHEDULES for homework and screen time",
    ],
    "faith": ["SCRIPTURE passages that guide the decision", "PRAYER before choosing", "TEACHINGS of the church"],
}


@pytest.fixture
def canon(db):
    from studies import services

    study, _ = services.seed_case_study()
    values = [
        CanonicalValue.objects.create(
            study=study, title=name.title(), description=f"About {name}.", policies=policies, origin="manual"
        )
        for name, policies in VALUES.items()
    ]
    embeddings.embed_objects(values, study=study)
    return study, {v.title.lower(): v for v in values}


def test_nearest_canonical_values_rank_by_cosine_distance(canon):
    study, values = canon
    card_policies = ["MOMENTS when the child's eyes light up", "QUESTIONS the child asks about the world"]
    model, [query] = embeddings.embed_texts([embeddings.policies_text(card_policies)])
    nearest = selectors.nearest_canonical_values(query, model_name=model, study=study, k=3)
    assert [v.title for v in nearest][0] == "Curiosity"
    distances = [v.distance for v in nearest]
    assert distances == sorted(distances) and distances[0] < 0.5 < distances[-1]


def test_vectors_of_another_model_are_never_compared(canon):
    study, values = canon
    CanonicalValue.objects.filter(pk=values["curiosity"].pk).update(embedding_model="text-embedding-3-small")
    model, [query] = embeddings.embed_texts([embeddings.policies_text(VALUES["curiosity"])])
    nearest = selectors.nearest_canonical_values(query, model_name=model, study=study, k=5)
    assert "Curiosity" not in [v.title for v in nearest] and len(nearest) == 2


def test_reembed_command_embeds_submitted_cards_and_canonical_values(canon, capsys):
    study, values = canon
    participant, _ = consented_participant(study, "embed-1")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    CanonicalValue.objects.update(embedding=None, embedding_model="")
    call_command("reembed", study=study.slug)
    assert "Embedded 1 cards and 3 canonical values with offline-hash-384" in capsys.readouterr().out
    card = ValuesCard.objects.get(submitted=True)
    assert card.embedding_model == "offline-hash-384" and len(card.embedding) == 384
    assert not CanonicalValue.objects.filter(embedding__isnull=True).exists()
    assert LLMCall.objects.filter(purpose="values.embed", provider="offline").exists()
    call_command("reembed", study=study.slug, only_missing=True)
    assert "Embedded 0 cards and 0 canonical values" in capsys.readouterr().out
    assert selectors.nearest_to_card(card)[0].distance is not None


def test_hnsw_cosine_indexes_exist(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%embedding_hnsw'")
        rows = dict(cursor.fetchall())
    assert set(rows) == {"canonical_embedding_hnsw", "card_embedding_hnsw"}
    assert all("hnsw" in d and "halfvec(384)) halfvec_cosine_ops" in d for d in rows.values())


def test_quality_view_lists_closest_pairs_first(canon, coordinator):
    from django.test import Client

    study, values = canon
    near = CanonicalValue.objects.create(
        study=study,
        title="Curiosity again",
        description="x",
        origin="manual",
        policies=VALUES["curiosity"][:2] + ["OPPORTUNITIES to follow passions"],
    )
    embeddings.embed_objects([near], study=study)
    pairs = selectors.closest_canonical_pairs(study)
    assert {pairs[0]["a_title"], pairs[0]["b_title"]} == {"Curiosity", "Curiosity again"}
    assert [p["distance"] for p in pairs] == sorted(p["distance"] for p in pairs)
    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    html = client.get("/admin/values/canonicalvalue/closest-pairs/").content.decode()
    assert html.index("Curiosity again") < html.index("Ceremony" if "Ceremony" in html else "Faith")
    assert "Closest pairs" in client.get("/admin/values/canonicalvalue/").content.decode()


@pytest.mark.parametrize("search", ["exact", "hnsw"])
def test_a_small_study_still_gets_its_nearest_values_beside_a_crowded_one(db, monkeypatch, search):
    """Deduplication candidates of a study holding a sliver of the table are
    not lost: 300 values of a big study sit right on the card's vector, the
    small study's 5 a little farther. An HNSW scan that stops after
    ef_search neighbours sees only the big study's and, once filtered to the
    small study, returned nothing. A small study is searched exactly; a larger
    one (here: any, by lowering the threshold) by the iterative scan, which
    goes on until k rows pass the filter."""
    import numpy as np

    from studies.models import Study

    if search == "hnsw":
        monkeypatch.setattr(selectors, "EXACT_SEARCH_BELOW", 1)
    big = Study.objects.create(slug="big", title="Big", description="Many values.")
    small = Study.objects.create(slug="small", title="Small", description="A few values.")
    rng = np.random.default_rng(1)
    card = rng.standard_normal(384)

    def near(spread):
        v = card + spread * np.linalg.norm(card) / np.sqrt(384) * rng.standard_normal(384)
        return v / np.linalg.norm(v)

    def value(study, i, spread):
        return CanonicalValue(
            study=study,
            title=f"{study.slug} {i}",
            description=".",
            policies=["MOMENTS"],
            origin="manual",
            embedding=near(spread),
            embedding_model="m",
        )

    CanonicalValue.objects.bulk_create([value(big, i, 0.05) for i in range(300)])
    mine = CanonicalValue.objects.bulk_create([value(small, i, 0.3) for i in range(5)])
    with connection.cursor() as cursor:
        # A test table is small enough for a sequential scan; a platform-sized
        # one is read through the HNSW index. Take that plan here (these
        # settings only weigh against the other plans; the test's transaction ends them).
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
    with CaptureQueriesContext(connection) as queries:
        nearest = selectors.nearest_canonical_values(card, model_name="m", study=small, k=5)
    assert sorted(v.pk for v in nearest) == sorted(v.pk for v in mine)
    with connection.cursor() as cursor:  # the premise: the search named took this plan
        cursor.execute("EXPLAIN " + [q["sql"] for q in queries if "ORDER BY" in q["sql"]][-1])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert ("canonical_embedding_hnsw" in plan) == (search == "hnsw")
    distances = [v.distance for v in nearest]
    assert distances == sorted(distances)
    exclude = selectors.nearest_canonical_values(card, model_name="m", study=small, k=5, exclude_ids=[nearest[0].pk])
    assert [v.pk for v in exclude] == [v.pk for v in nearest[1:]]
