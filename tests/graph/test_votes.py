"""Which stories a participant judges, and their votes (paper 4.4)."""

import random
from html import unescape

import pytest

from graph import services, stories
from graph.models import StoryAssignment, TransitionStory, WisdomVote
from studies.models import Step
from tests.factories import consented_participant, move_to, parent_with_card


def test_choice_never_repeats_a_pair_and_prefers_own_then_close_then_few_votes():
    candidates = [
        {"id": 1, "from": 10, "to": 11, "distance": 0.9, "pair_votes": 0},
        {"id": 2, "from": 11, "to": 10, "distance": 0.1, "pair_votes": 0},  # same pair as 1
        {"id": 3, "from": 12, "to": 13, "distance": 0.5, "pair_votes": 9},
        {"id": 4, "from": 14, "to": 15, "distance": 0.5, "pair_votes": 1},
        {"id": 5, "from": 99, "to": 16, "distance": 0.8, "pair_votes": 50},  # starts from the participant's value
        {"id": 6, "from": 17, "to": 18, "distance": None, "pair_votes": 0},
        {"id": 7, "from": 20, "to": 21, "distance": 0.0, "pair_votes": 0},  # already judged
    ]
    picked = services.choose_stories(candidates, n=4, own_value=99, judged={frozenset((20, 21))}, rng=random.Random(1))
    assert picked == [5, 2, 4, 3]
    pairs = [frozenset((c["from"], c["to"])) for c in candidates if c["id"] in picked]
    assert len(set(pairs)) == len(pairs)


@pytest.fixture
def judge(graph_study):
    """Stories exist; a participant who wrote a parenting card reaches the stories step."""
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    participant, client = parent_with_card(study, "judge", values[1])
    return study, values, participant, client


def test_assignment_is_made_once_and_skips_pairs_already_judged(judge):
    study, values, participant, _ = judge
    story = TransitionStory.objects.filter(from_value=values[1]).first() or TransitionStory.objects.first()
    # The participant judged this pair before (e.g. in a pilot): neither direction comes back.
    WisdomVote.objects.create(
        study=study,
        participant=participant,
        from_value=story.to_value,
        to_value=story.from_value,
        context=story.context,
        answer="yes",
    )
    move_to(participant, Step.STORIES)
    first = services.assign_stories(participant)
    assert 1 <= len(first) <= study.stories_per_participant
    pairs = [frozenset((a.story.from_value_id, a.story.to_value_id)) for a in first]
    assert frozenset((story.from_value_id, story.to_value_id)) not in pairs
    assert len(set(pairs)) == len(pairs)
    assert [a.pk for a in services.assign_stories(participant)] == [a.pk for a in first]


def test_participant_votes_through_the_stories_then_reaches_the_survey(judge):
    study, values, participant, client = judge
    move_to(participant, Step.STORIES)
    page = client.get(f"/s/{study.slug}/journey/")
    assert page.status_code == 200
    assignments = list(StoryAssignment.objects.filter(participant=participant).order_by("position"))
    total = len(assignments)
    assert total == min(3, TransitionStory.objects.count())
    html = unescape(page.content.decode())  # a context may have an apostrophe ("a child's growth")
    assert f"Story 1 of {total}" in html and "Did this person become wiser?" in html
    assert assignments[0].story.context.text in html and assignments[0].story.from_value.title in html
    for i, assignment in enumerate(assignments):
        response = client.post(
            f"/s/{study.slug}/stories/vote/",
            {"assignment": assignment.pk, "answer": "yes" if i % 2 == 0 else "unsure", "reason": f"because {i}"},
            follow=True,
        )
        assert response.status_code == 200  # the browser follows to the next story, then to the survey
        if i + 1 < total:
            assert f"Story {i + 2} of {total}" in response.content.decode()
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    votes = WisdomVote.objects.filter(participant=participant).order_by("created_at")
    assert [v.answer for v in votes] == ["yes" if i % 2 == 0 else "unsure" for i in range(total)]
    assert all(v.time_taken_ms is not None and v.reason.startswith("because") for v in votes)


def test_double_submit_updates_the_vote_instead_of_adding_one(judge):
    study, _, participant, client = judge
    move_to(participant, Step.STORIES)
    client.get(f"/s/{study.slug}/journey/")
    assignment = StoryAssignment.objects.filter(participant=participant).order_by("position").first()
    for answer in ("no", "yes"):
        client.post(f"/s/{study.slug}/stories/vote/", {"assignment": assignment.pk, "answer": answer})
    votes = WisdomVote.objects.filter(participant=participant)
    assert votes.count() == 1 and votes.get().answer == "yes"


def test_missing_answer_or_long_reason_is_refused_and_keeps_the_text(judge):
    study, _, participant, client = judge
    move_to(participant, Step.STORIES)
    client.get(f"/s/{study.slug}/journey/")
    assignment = StoryAssignment.objects.filter(participant=participant).order_by("position").first()
    response = client.post(f"/s/{study.slug}/stories/vote/", {"assignment": assignment.pk, "reason": "half a thought"})
    assert response.status_code == 400
    assert "Please choose yes, no or not sure." in response.content.decode()
    assert "half a thought" in response.content.decode()
    long_reason = "x" * (services.REASON_MAX_CHARS + 1)
    response = client.post(
        f"/s/{study.slug}/stories/vote/", {"assignment": assignment.pk, "answer": "yes", "reason": long_reason}
    )
    assert response.status_code == 400 and "under 1000 characters" in response.content.decode()
    assert WisdomVote.objects.filter(participant=participant).count() == 0


def test_someone_elses_story_is_refused(judge):
    study, values, participant, client = judge
    move_to(participant, Step.STORIES)
    other, _ = parent_with_card(study, "other", values[2])
    move_to(other, Step.STORIES)
    theirs = services.assign_stories(other)[0]
    client.get(f"/s/{study.slug}/journey/")
    response = client.post(f"/s/{study.slug}/stories/vote/", {"assignment": theirs.pk, "answer": "yes"})
    assert response.status_code == 400
    assert WisdomVote.objects.count() == 0


def test_without_stories_the_participant_moves_on_to_the_survey(db):
    from studies import services as journey

    study, _ = journey.seed_case_study()
    participant, client = consented_participant(study, "early")
    move_to(participant, Step.STORIES)
    assert participant.current_step == Step.SURVEY
    assert "Question 1 of" in client.get(f"/s/{study.slug}/journey/").content.decode()


def test_with_fewer_pairs_than_stories_a_pair_comes_back_in_another_context_never_reversed():
    candidates = [
        {"id": 1, "from": 10, "to": 11, "context": 1, "distance": 0.1, "pair_votes": 0},
        {"id": 2, "from": 10, "to": 11, "context": 2, "distance": 0.1, "pair_votes": 0},
        {"id": 3, "from": 11, "to": 10, "context": 3, "distance": 0.2, "pair_votes": 0},  # the reverse
        {"id": 4, "from": 12, "to": 13, "context": 1, "distance": 0.5, "pair_votes": 0},
    ]
    picked = services.choose_stories(candidates, n=3, own_value=None, judged=set(), rng=random.Random(1))
    assert sorted(picked) == [1, 2, 4]
    assert 3 not in picked
