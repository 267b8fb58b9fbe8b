"""Cold start: a coordinator seeds a fresh study from a file of cards in the
admin (preview first, nothing saved on a bad row), has the stories written
ahead, and the console says, per question, whether the study is ready to
launch and what is missing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from procrastinate.contrib.django.models import ProcrastinateJob

from graph import selectors as graph_selectors
from graph import services as graph_services
from graph import stories
from graph.models import MoralContext, TransitionStory
from mgeplatform.models import DomainEvent
from tests.factories import SEED_CARDS_CSV as CARDS_CSV
from values.models import CanonicalValue

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def readiness_rows(html: str) -> dict[str, str]:
    section = re.search(r'<section[^>]*id="launch-readiness".*?</section>', html, re.S).group(0)
    return {key: _text(row) for key, row in re.findall(r'<tr data-scenario="([^"]+)"[^>]*>(.*?)</tr>', section, re.S)}


def upload(client, study, content: str, name="cards.csv"):
    return client.post(
        f"/admin/studies/study/{study.pk}/seed-values/",
        {"file": SimpleUploadedFile(name, content.encode(), content_type="text/csv")},
    )


def test_a_fresh_study_is_not_ready_and_says_what_each_question_lacks(study, coordinator):
    readiness = graph_selectors.launch_readiness(study)
    assert not readiness["ready"]
    assert {r["scenario"].key: (r["values"], r["stories"], r["todo"]) for r in readiness["scenarios"]} == dict.fromkeys(
        ("abortion", "parenting", "weapons"), (0, 0, "seed values, then write stories")
    )
    html = _client(coordinator).get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert 'id="launch-readiness"' in html and "Not ready to launch" in html
    assert "at least 2 live canonical values and at least 1 active transition story" in _text(html)
    assert readiness_rows(html)["parenting"].endswith(
        "Parenting: 0 values, 0 stories — seed values, then write stories"
    )


def test_the_admin_previews_the_file_and_saves_only_when_asked(study, coordinator):
    client = _client(coordinator)
    preview = upload(client, study, CARDS_CSV)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "cards.csv: 6 cards, 6 to make" in _text(page) and 'id="seed-save"' in page
    assert not CanonicalValue.objects.filter(study=study).exists(), "the preview saved values"

    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    saved = client.post(
        f"/admin/studies/study/{study.pk}/seed-values/",
        {"content": content, "name": "cards.csv", "save": "1"},
        follow=True,
    )
    assert saved.redirect_chain[-1][0].endswith(f"/admin/studies/study/{study.pk}/console/")
    assert "Made 6 canonical values from cards.csv." in saved.content.decode()
    values = CanonicalValue.objects.filter(study=study, origin=CanonicalValue.Origin.FILE)
    assert values.count() == 6 and all(v.created_by == coordinator and v.embedding is not None for v in values)
    event = DomainEvent.objects.get(kind="canonical.seeded_from_file")
    assert event.actor_user_id == coordinator.pk

    rows = readiness_rows(saved.content.decode())
    assert rows["parenting"].endswith("Parenting: 2 values, 0 stories — write stories")


def test_a_bad_row_in_the_upload_is_shown_and_nothing_is_saved(study, coordinator):
    bad = CARDS_CSV + ",No title here.,POLICY a,parenting\nLong," + "d" * 401 + ",POLICY b,\n"
    response = upload(_client(coordinator), study, bad)
    assert response.status_code == 400
    page = _text(response.content.decode())
    assert "Nothing was saved" not in page  # only previewed: nothing was to be saved yet
    assert "row 7: title is empty" in page and "row 8: description is too long (401 characters; at most 400)" in page
    assert 'id="seed-save"' not in response.content.decode()
    assert not CanonicalValue.objects.filter(study=study).exists()


def test_an_auditor_may_not_seed_or_queue_stories(study, auditor):
    client = _client(auditor)
    assert upload(client, study, CARDS_CSV).status_code == 403
    assert client.post(f"/admin/studies/study/{study.pk}/write-stories/").status_code == 403
    assert (
        not CanonicalValue.objects.exists()
        and not ProcrastinateJob.objects.filter(task_name="graph.generate_stories", args__study_id=study.pk).exists()
    )


def test_write_stories_now_queues_one_story_run_and_the_console_shows_it(
    study, coordinator, django_capture_on_commit_callbacks
):
    client = _client(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/studies/study/{study.pk}/write-stories/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/studies/study/{study.pk}/write-stories/")  # a second click queues nothing more
    jobs = ProcrastinateJob.objects.filter(task_name="graph.generate_stories", args__study_id=study.pk)
    assert jobs.count() == 1
    assert DomainEvent.objects.filter(kind="graph.stories_requested", actor_user_id=coordinator.pk).count() == 2
    assert response.status_code == 302
    html = client.get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert "Story writing is queued (1 job)" in _text(html)


def test_seeded_values_get_stories_in_every_question_and_the_study_is_ready(study, coordinator):
    from values import services as value_services

    value_services.seed_values_from_file(study, ("cards.csv", CARDS_CSV.encode()))
    run = stories.generate_stories(study)  # what the queued job runs

    assert run.status == run.Status.FINISHED and run.counts["stories"] >= 3
    readiness = graph_selectors.launch_readiness(study)
    assert all(r["values"] == 2 and r["stories"] >= 1 for r in readiness["scenarios"]), readiness["scenarios"]
    assert readiness["ready"]
    html = _client(coordinator).get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert "Ready to launch:" in _text(html) and 'data-ready="yes"' in html
    assert "Last story run: finished" in _text(html)


def test_a_value_with_stories_only_in_another_question_still_makes_the_participant_wait(study):
    """stories_may_come looks at the participant's own question's stories."""
    from tests.factories import parent_with_card
    from values import services as value_services

    text = (
        "title,description,policies,scenarios\n"
        "Curiosity,Follows interest.,MOMENTS of interest,parenting;abortion\n"
        "Calm,Keeps calm.,ROUTINES of calm,parenting;abortion\n"
    )
    value_services.seed_values_from_file(study, ("cards.csv", text.encode()))
    a, b = CanonicalValue.objects.filter(study=study).order_by("pk")
    elsewhere = MoralContext.objects.create(study=study, scenario=study.scenarios.get(key="abortion"), text="Other")
    TransitionStory.objects.create(
        study=study,
        from_value=a,
        to_value=b,
        context=elsewhere,
        story="s",
        shared_meaning="m",
        clarification="c",
        policy_changes=[],
        model="offline",
    )
    parent, _ = parent_with_card(study, "cold-parent", a)

    assert graph_services.stories_may_come(parent)
