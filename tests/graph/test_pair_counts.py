"""Pair counts: the votes and impressions per cell a graph build reads
instead of every vote, kept by the database as votes are written,
changed, withdrawn or deleted (graph.models.PairCount)."""

import threading
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.utils import timezone

from graph import selectors, services
from graph.models import PairCount, StoryAssignment, WisdomVote
from journey import withdrawal
from studies.models import Cohort, Participant, Study
from tests.factories import consented_participant, stories_and_honest_votes
from values import services as value_services


def _assign(participant, story, position=0):
    return StoryAssignment.objects.create(
        participant=participant, story=story, position=position, shown_at=timezone.now()
    )


def _vote(participant, story, answer, position=0):
    assignment = StoryAssignment.objects.filter(participant=participant, story=story).first() or _assign(
        participant, story, position
    )
    return services.record_vote(participant=participant, assignment=assignment, answer=answer)


def _same_cells(study, **options):
    counted = selectors.graph_cells(study, **options)[0]
    scanned = selectors.graph_cells(study, from_votes=True, **options)[0]
    assert counted == scanned
    return counted


def _cell(cells, a, b, context):
    return next((c for c in cells if (c.source, c.target, c.context) == (a.pk, b.pk, context.pk)), None)


@pytest.fixture
def voted(graph_study):
    """Honest voters, then every kind of write the counts must follow: a
    simulated participant, a staff preview, a changed answer, a withdrawal
    that deletes the votes, a merge of two values."""
    study, values = graph_study
    Study.objects.filter(pk=study.pk).update(withdrawal_policy=Study.WithdrawalPolicy.DELETE_CONTENT)
    study.refresh_from_db()
    stories, people = stories_and_honest_votes(study, values[:4], voters=12, per_voter=5)
    story = stories[0]
    simulated = Participant.objects.create(study=study, simulated=True)
    preview = Participant.objects.create(study=study, cohort=Cohort.PREVIEW)
    changer, _ = consented_participant(study, "changer")
    for i, person in enumerate((simulated, preview, changer)):
        _vote(person, story, "yes", position=9)
        _vote(person, stories[1 + i], "no", position=10)
    _vote(changer, story, "no", position=9)  # the same story again: the answer changes
    leaver, _ = consented_participant(study, "leaver")
    _vote(leaver, story, "yes", position=9)
    withdrawal.withdraw(leaver)
    value_services.merge_canonical_values(keep=values[1], merge=[values[2]])
    return study, values, stories, people, {"simulated": simulated, "preview": preview, "changer": changer}


def test_the_counts_give_the_cells_a_full_scan_gives(voted):
    """What a build reads from the counts is what counting every vote gives,
    with or without simulated participants, leaving participants out or
    adding an attack bloc, after a changed answer, a withdrawal and a merge."""
    study, values, stories, people, who = voted
    story = stories[0]
    for include_simulated in (False, True):
        cells = _same_cells(study, include_simulated=include_simulated)
        assert cells and sum(c.yes + c.no + c.unsure for c in cells) > 50
        _same_cells(study, include_simulated=include_simulated, exclude=[people[0].pk, people[3].pk])
        _same_cells(
            study,
            include_simulated=include_simulated,
            exclude=[people[1].pk],
            also=[who["simulated"].pk, who["preview"].pk],
        )
    # The merged value's votes count for the value it lives on in; no cell names it.
    cells = _same_cells(study)
    assert values[2].pk not in {c.source for c in cells} | {c.target for c in cells}
    # The first story's cell (with the merged value's votes): honest voters and the
    # changed answer as it is now; the simulated voter only when asked; the
    # preview and the leaver never.
    in_cell = WisdomVote.objects.filter(
        from_value=story.from_value_id, to_value__in=[values[1], values[2]], context=story.context_id
    )
    counted = in_cell.filter(participant__in=[*people, who["changer"]])
    simulated = in_cell.filter(participant=who["simulated"])
    first = _cell(cells, story.from_value, values[1], story.context)
    assert (first.yes, first.no) == (counted.filter(answer="yes").count(), counted.filter(answer="no").count())
    assert WisdomVote.objects.get(participant=who["changer"], story=story).answer == "no"
    with_simulated = _cell(_same_cells(study, include_simulated=True), story.from_value, values[1], story.context)
    assert (with_simulated.yes, with_simulated.no) == (
        first.yes + simulated.filter(answer="yes").count(),
        first.no + simulated.filter(answer="no").count(),
    )
    assert simulated.exists() and in_cell.filter(participant=who["preview"]).exists()
    assert not WisdomVote.objects.filter(participant__in=Participant.objects.filter(current_step="withdrawn"))


def test_a_changed_answer_moves_its_count(graph_study):
    study, values = graph_study
    stories, _ = stories_and_honest_votes(study, values[:2], voters=0)
    story = stories[0]
    person, _ = consented_participant(study, "undecided")
    for answer in ("yes", "unsure", "no", "no"):
        _vote(person, story, answer)
        cell = _cell(selectors.graph_cells(study)[0], story.from_value, story.to_value, story.context)
        assert (cell.yes, cell.no, cell.unsure, cell.impressions) == (
            answer == "yes",
            answer == "no",
            answer == "unsure",
            1,
        )


def test_a_withdrawal_takes_the_votes_and_impressions_out_of_the_counts(graph_study):
    study, values = graph_study
    Study.objects.filter(pk=study.pk).update(withdrawal_policy=Study.WithdrawalPolicy.DELETE_CONTENT)
    stories, _ = stories_and_honest_votes(study, values[:2], voters=0)
    leaver, _ = consented_participant(study, "leaver")
    _vote(leaver, stories[0], "yes")
    assert len(selectors.graph_cells(study)[0]) == 1
    withdrawal.withdraw(Participant.objects.get(pk=leaver.pk))
    assert selectors.graph_cells(study)[0] == []
    assert selectors.vote_tally(study)["counted"] == 0


def test_deleting_previews_leaves_the_counts_as_a_rebuild_finds_them(voted):
    """Deleting previews, then counting everything again from the votes,
    changes nothing: the counts were already right (zero rows aside)."""
    study, *_ = voted
    withdrawal.delete_previews(study)

    def counts():
        return {
            (r.from_value_id, r.to_value_id, r.context_id, r.kind): (r.yes, r.no, r.unsure, r.impressions)
            for r in PairCount.objects.filter(study=study)
            if (r.yes, r.no, r.unsure, r.impressions) != (0,) * 4
        }

    kept = counts()
    assert PairCount.Kind.PREVIEW not in {k[3] for k in kept}
    assert services.rebuild_pair_counts(study) > 0
    assert counts() == kept


def test_an_imported_graph_is_counted(graph_study):
    """Imported votes (no participant) are counted, as the full scan counts them."""
    from graph import interchange

    study, _ = graph_study
    data = Path(__file__).parent / "data" / "original_graph.json"
    graph_import = interchange.import_graph(study, data.read_bytes(), source_name=data.name)
    cells = _same_cells(study)
    assert sum(c.yes + c.no + c.unsure for c in cells) == graph_import.summary["votes"] > 0


@pytest.mark.django_db(transaction=True)
def test_two_participants_voting_on_one_cell_at_once_are_both_counted():
    """Two transactions add to the same (new) cell at the same time: the
    second waits for the first and adds to its count; none is lost."""
    from studies import services as journey
    from tests.factories import make_values

    study, _ = journey.seed_case_study()
    values = make_values(study)
    stories, _ = stories_and_honest_votes(study, values[:2], voters=0)
    story = stories[0]
    first, _ = consented_participant(study, "first")
    second, _ = consented_participant(study, "second")
    assignments = [_assign(first, story), _assign(second, story)]
    voted, errors = threading.Event(), []

    def vote_and_hold():
        try:
            with transaction.atomic():
                services.record_vote(participant=first, assignment=assignments[0], answer="yes")
                voted.set()
                threading.Event().wait(0.5)  # the other vote arrives while this one is open
        except Exception as err:  # reported below, in the test's thread
            errors.append(err)
        finally:
            connections.close_all()

    thread = threading.Thread(target=vote_and_hold)
    thread.start()
    try:
        assert voted.wait(10)
        services.record_vote(participant=second, assignment=assignments[1], answer="yes")
    finally:
        thread.join(10)
    assert errors == []
    cell = _cell(selectors.graph_cells(study)[0], story.from_value, story.to_value, story.context)
    assert (cell.yes, cell.impressions) == (2, 2)
    assert _same_cells(study) == selectors.graph_cells(study)[0]


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_voters_add_up():
    """Eight connections record votes on the same few cells at once."""
    from studies import services as journey
    from tests.factories import make_values

    study, _ = journey.seed_case_study()
    values = make_values(study)
    stories, _ = stories_and_honest_votes(study, values[:3], voters=0)
    people = [consented_participant(study, f"crowd-{i}")[0] for i in range(8)]
    assignments = {p.pk: [_assign(p, s, n) for n, s in enumerate(stories)] for p in people}
    start, errors = threading.Barrier(len(people)), []

    def vote_all(person):
        try:
            start.wait(10)
            for n, assignment in enumerate(assignments[person.pk]):
                services.record_vote(participant=person, assignment=assignment, answer=("yes", "no")[n % 2])
        except Exception as err:  # reported below, in the test's thread
            errors.append(err)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=vote_all, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    cells = _same_cells(study)
    assert sum(c.yes + c.no for c in cells) == len(people) * len(stories)
    assert {c.yes + c.no for c in cells} == {len(people)}


def test_a_participant_marked_simulated_moves_their_counts(voted):
    """Marking voters simulated after they voted (or a preview a study
    participant) moves their votes between the kinds a build counts."""
    study, _, _, people, who = voted
    expected = selectors.graph_cells(study, exclude=[p.pk for p in people[:3]], also=[who["preview"].pk])[0]
    Participant.objects.filter(pk__in=[p.pk for p in people[:3]]).update(simulated=True)
    Participant.objects.filter(pk=who["preview"].pk).update(cohort=Cohort.STUDY)
    assert _same_cells(study) == expected
    _same_cells(study, include_simulated=True)
