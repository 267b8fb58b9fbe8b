"""Advisory locks for long jobs (story runs, batch deduplication)."""

from django.db import connection

from mgeplatform.locks import try_advisory_lock


def test_a_lock_is_held_once_and_released_at_the_end(transactional_db):
    with try_advisory_lock(77, 1) as first:
        assert first
        with try_advisory_lock(77, 1) as second:
            assert not second
        with try_advisory_lock(77, 2) as other_study:
            assert other_study
    with try_advisory_lock(77, 1) as again:
        assert again


def test_the_lock_stays_while_django_gives_its_connection_back(transactional_db):
    # The LLM gateway hands Django's connection back between a job's queries;
    # the job must stay locked all the same.
    with try_advisory_lock(77, 3) as held:
        assert held
        connection.close()
        with try_advisory_lock(77, 3) as second:
            assert not second


def test_a_story_run_is_refused_while_another_runs_then_allowed(transactional_db):
    from graph import stories
    from graph.models import StoryRun
    from studies import services as journey

    study, _ = journey.seed_case_study()
    with try_advisory_lock(stories.STORY_LOCK_NAMESPACE, study.pk):
        refused = stories.generate_stories(study)
    assert refused.status == StoryRun.Status.FAILED and "in progress" in refused.error
    assert stories.generate_stories(study).status == StoryRun.Status.FINISHED
    assert stories.generate_stories(study).status == StoryRun.Status.FINISHED
