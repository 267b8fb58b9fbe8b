"""The relevance step (paper 5.4, Table 2)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studies.models import Participant, Step
from tests.factories import consented_participant, move_to
from values import embeddings, relevance
from values.models import CanonicalValue, RelevanceDraw, RelevanceItem, ValuesCard


def test_table_2_percentages_by_origin():
    rows = [(True, True), (True, True), (True, False), (False, True), (False, False), (False, False), (False, False)]
    table = relevance.relevance_by_origin(rows)
    assert table["same_scenario"] == {"votes": 2, "impressions": 3, "percent": 66.7}
    assert table["other_scenario"] == {"votes": 1, "impressions": 4, "percent": 25.0}
    assert relevance.relevance_by_origin([])["same_scenario"]["percent"] is None
    assert relevance.hotness(3, 4) == 0.75 and relevance.hotness(0, 0) == 0.0


@pytest.fixture
def study_with_values(db):
    """A participant with a submitted card, embedded as the in-chat match
    does before a submit, and 30 canonical values of different ages from
    two scenarios."""
    from interviews import services as chat
    from studies import services as journey

    study, _ = journey.seed_case_study()
    parenting, weapons = study.scenarios.get(key="parenting"), study.scenarios.get(key="weapons")
    values = []
    for i in range(30):
        scenario = parenting if i % 2 else weapons
        author, _ = consented_participant(study, f"author-{i}")
        interview = chat.choose_scenario(participant=author, scenario=scenario)
        card = ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=f"Value {i}",
            description="d",
            policies=[f"MOMENTS of kind {i}", "CHOICES that matter"],
            source="articulator",
            submitted=True,
        )
        value = CanonicalValue.objects.create(
            study=study,
            title=f"Value {i}",
            description="d",
            policies=list(card.policies),
            origin="manual",
            representative_card=card,
        )
        CanonicalValue.objects.filter(pk=value.pk).update(created_at=timezone.now() - timedelta(days=30 - i))
        card.canonical = value
        card.save(update_fields=["canonical"])
        values.append(value)
    embeddings.embed_objects(values, study=study)
    participant, client = consented_participant(study, "judge")
    interview = chat.choose_scenario(participant=participant, scenario=parenting)
    mine = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Mine",
        description="d",
        policies=["MOMENTS of kind 3", "CHOICES that matter"],
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
    )
    embeddings.embed_card(mine)
    move_to(participant, Step.RELEVANCE)
    return study, participant, client, values


def test_draw_takes_six_from_hottest_and_newest_ordered_by_closeness(study_with_values):
    study, participant, client, values = study_with_values
    # Value 0 is old but has been marked relevant every time it was shown: it is hot.
    other, _ = consented_participant(study, "earlier")
    old_draw = RelevanceDraw.objects.create(participant=other, scenario=study.scenarios.get(key="parenting"))
    RelevanceItem.objects.create(draw=old_draw, canonical=values[0], position=0, pool="new", relevant=True)
    values[29].merged_into = values[28]
    values[29].save()

    page = client.get(f"/s/{study.slug}/journey/")
    assert "Which of these also matter here?" in page.content.decode()
    draw = RelevanceDraw.objects.get(participant=participant)
    items = list(draw.items.select_related("canonical"))
    assert len(items) == 6
    shown = [i.canonical for i in items]
    newest = set(values[17:29])
    assert all(v in newest or i.pool == "hot" for v, i in zip(shown, items))
    assert values[29] not in shown  # merged away
    # Ordered by closeness to the participant's own card.
    ordered = list(
        CanonicalValue.objects.filter(pk__in=[v.pk for v in shown])
        .annotate(d=relevance.CosineDistance("embedding", ValuesCard.objects.get(title="Mine").embedding))
        .order_by("d", "pk")
    )
    assert ordered == shown
    assert {i.source_scenario.key for i in items} <= {"parenting", "weapons"}
    # A reload shows the same draw.
    client.get(f"/s/{study.slug}/journey/")
    assert RelevanceDraw.objects.count() == 2 and draw.items.count() == 6


def test_marks_are_stored_once_and_the_participant_moves_on(study_with_values):
    study, participant, client, values = study_with_values
    client.get(f"/s/{study.slug}/journey/")
    draw = RelevanceDraw.objects.get(participant=participant)
    items = list(draw.items.all())
    chosen = [items[0].canonical_id, items[2].canonical_id]
    bad = client.post(f"/s/{study.slug}/relevance/", {"relevant": ["999999"]})
    assert bad.status_code == 400 and "mark them again" in bad.content.decode()
    for _ in range(2):
        response = client.post(f"/s/{study.slug}/relevance/", {"relevant": chosen})
        assert response.status_code == 302
    marks = dict(draw.items.values_list("canonical_id", "relevant"))
    assert {k for k, v in marks.items() if v} == set(chosen) and list(marks.values()).count(False) == 4
    # On to the stories, which the background job is asked to write (tests/journey covers the wait).
    assert Participant.objects.get(pk=participant.pk).current_step == Step.STORIES
    table = relevance.relevance_table(study)
    total = table["same_scenario"]["impressions"] + table["other_scenario"]["impressions"]
    assert total == 6 and table["same_scenario"]["votes"] + table["other_scenario"]["votes"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_card_whose_embedding_failed_gets_its_draw_with_no_model_call_under_the_locks():
    """The participant submits a card with no vector (the model was down
    when the in-chat match embedded it). Entering the relevance step runs
    under the participant's and the interview's row locks, so it calls no
    model (a slow provider would hold them for minutes): the values are
    drawn unordered, the page shows them, and the next deduplication run
    embeds the card."""
    from interviews import services as chat
    from mgeplatform.llm import gateway
    from mgeplatform.llm.providers.offline import OfflineProvider
    from mgeplatform.models import LLMCall
    from studies import services as journey
    from values import services as dedup

    study, _ = journey.seed_case_study()
    parenting = study.scenarios.get(key="parenting")
    values = []
    for i, word in enumerate(["honesty", "children", "courage"]):
        author, _ = consented_participant(study, f"author-{i}")
        card = ValuesCard.objects.create(
            interview=chat.choose_scenario(participant=author, scenario=parenting),
            revision=1,
            title=word.title(),
            description="d",
            policies=[f"MOMENTS of {word}"],
            source="articulator",
            submitted=True,
        )
        values.append(
            CanonicalValue.objects.create(
                study=study,
                title=word.title(),
                description="d",
                policies=list(card.policies),
                origin="manual",
                representative_card=card,
            )
        )
        card.canonical = values[-1]
        card.save(update_fields=["canonical"])
    embeddings.embed_objects(values, study=study)
    participant, client = consented_participant(study, "judge")
    move_to(participant, Step.INTERVIEW)
    interview = chat.choose_scenario(participant=participant, scenario=parenting)
    ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Mine",
        description="d",
        policies=["MOMENTS of children"],
        source="articulator",
    )
    asked = []

    class Watched(OfflineProvider):
        async def embed(self, texts, **kwargs):
            asked.append(texts)
            return await super().embed(texts, **kwargs)

    with gateway.override_provider("offline", lambda route: Watched()):
        chat.submit_card(interview_id=interview.pk)
        assert asked == []
        participant.refresh_from_db()
        assert participant.current_step == Step.RELEVANCE
        page = client.get(f"/s/{study.slug}/journey/")
        assert "Which of these also matter here?" in page.content.decode()
        assert RelevanceDraw.objects.get(participant=participant).items.count() == 3
        assert not LLMCall.objects.filter(purpose__contains="embed", participant=participant.pk).exists()
        dedup.run_batch_dedup(study)
    assert ValuesCard.objects.get(title="Mine").embedding is not None and asked


def test_a_model_call_inside_a_step_s_entry_work_is_refused(study_with_values):
    """A feature whose entry hook called the model would hold the
    participant's row lock for as long as the provider takes: the gateway
    refuses the call, so any test that runs such a hook fails."""
    from mgeplatform.llm import gateway
    from mgeplatform.models import LLMCall

    _, participant, _, _ = study_with_values
    card = ValuesCard.objects.get(title="Mine")
    calls = LLMCall.objects.count()
    with gateway.no_model_calls("while testing"), pytest.raises(gateway.ModelCallForbidden, match="after commit"):
        embeddings.embed_card(card)
    assert LLMCall.objects.count() == calls
