"""Training-data exports in the admin: a coordinator picks a study, graph and
prompt file, sees the cost estimate, confirms, and the export runs as a
background job whose page shows its progress and offers its files; auditors
follow runs read-only and cannot start one or download its files."""

import json
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from alignment import training
from alignment.models import TrainingRun
from mgeplatform.models import DomainEvent, LLMCall
from tests.alignment.conftest import PROMPT
from tests.factories import run_jobs_until_idle

START = "/admin/alignment/trainingrun/start/"


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _estimate(client, graph, **extra):
    upload = SimpleUploadedFile(
        "more.jsonl",
        (json.dumps({"prompt": "My child will not respect our rules."}) + "\n" + "not json\n").encode(),
        content_type="application/jsonl",
    )
    return client.post(START, {"study": graph.study.pk, "prompts": upload, **extra})


def _export_jobs(after: int = 0):
    """Export jobs queued since `after` (job rows of other tests may be left in the queue's tables)."""
    return ProcrastinateJob.objects.filter(task_name="alignment.export_training_data", id__gt=after)


def _last_job_id() -> int:
    return ProcrastinateJob.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _plan(page: str) -> str:
    return unescape(page.split('name="plan" value="', 1)[1].split('"', 1)[0])


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_a_coordinator_estimates_confirms_and_downloads_the_files(graph, coordinator):
    client = _client(coordinator)
    before = _last_job_id()
    listing = client.get(reverse("admin:alignment_trainingrun_changelist")).content.decode()
    assert "Start a training-data export" in listing
    assert client.get(START).status_code == 200

    page = _estimate(client, graph, limit="")
    text = unescape(page.content.decode())
    assert page.status_code == 200 and "Confirm the training-data export" in text
    # An upper bound: each prompt's detection, and in each of the graph's contexts the winner's answer and 4 calls
    # per kept edge: 2 x (1 + 1 + 4 x 3 in the child context + 4 x 1 in the distress context).
    assert "At most 36 model call(s)" in text
    assert "line 2: not JSON" in text
    assert f"snapshot {graph.snapshot.pk}" in text  # the latest, by default
    assert not TrainingRun.objects.exists() and not _export_jobs(before).exists()  # nothing before confirming

    response = client.post(START, {"plan": _plan(text)})
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:alignment_trainingrun_change", args=[run.pk]
    )
    job = ProcrastinateJob.objects.get(pk=run.job_id)
    assert job.task_name == "alignment.export_training_data" and job.status == "todo"
    assert run.created_by == coordinator and len(run.prompts) == 2
    event = DomainEvent.objects.get(kind="alignment.training_export_queued")
    assert event.actor_user == coordinator and event.payload["run"] == run.pk

    waiting = unescape(client.get(response["Location"]).content.decode())
    assert 'data-running="true"' in waiting and "alignment/trainingrun.js" in waiting
    assert "at most 10 (2 of 2 prompts not read yet)" in waiting  # 2 x (1 winner + 3 + 1 kept edges), none read

    run_jobs_until_idle()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE
    done = unescape(client.get(response["Location"]).content.decode())
    assert 'data-running="false"' in done
    # Both prompts are in the child context: 1 SFT + 3 pairs each; the Calm pairs are dropped.
    assert "8 / 8" in done and "2 SFT example(s), 4 preference pair(s)" in done
    assert "pair:wiser_not_better: 2" in done
    cost = sum(c.estimated_cost_usd or 0 for c in LLMCall.objects.filter(study_id=graph.study.pk))
    assert f"${cost:.4f}" in done

    sft_url = reverse("admin:alignment_trainingrun_download", args=[run.pk, "sft.jsonl"])
    assert sft_url in done
    response = client.get(sft_url)
    assert response.status_code == 200 and 'filename="run-' in response["Content-Disposition"]
    sft = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [line["messages"][0]["content"] for line in sft] == [PROMPT, "My child will not respect our rules."]
    pairs = b"".join(
        client.get(
            reverse("admin:alignment_trainingrun_download", args=[run.pk, "preferences.jsonl"])
        ).streaming_content
    ).decode()
    assert len(pairs.splitlines()) == 4
    card = client.get(reverse("admin:alignment_trainingrun_download", args=[run.pk, "dataset_card.md"]))
    assert "Preference pairs (`preferences.jsonl`): 4" in card.content.decode()
    assert client.get(reverse("admin:alignment_trainingrun_download", args=[run.pk, "secrets.txt"])).status_code == 404

    listing = unescape(client.get(reverse("admin:alignment_trainingrun_changelist")).content.decode())
    assert "8 / 8" in listing and "2 + 4" in listing


@pytest.mark.django_db
def test_confirming_twice_queues_one_job_and_a_changed_plan_is_refused(graph, coordinator):
    client = _client(coordinator)
    before = _last_job_id()
    plan = _plan(unescape(_estimate(client, graph, limit="3").content.decode()))
    client.post(START, {"plan": plan})
    response = client.post(START, {"plan": plan}, follow=True)
    assert "Not queued" in unescape(response.content.decode())
    assert _export_jobs(before).count() == 1
    assert TrainingRun.objects.get().limit == 3

    response = client.post(START, {"plan": plan[:-2] + "xx"}, follow=True)
    assert "too old or was changed" in response.content.decode()
    assert _export_jobs(before).count() == 1


@pytest.mark.django_db
def test_a_graph_of_another_study_and_a_bad_file_are_refused(graph, coordinator):
    from studies.services import seed_case_study  # a second study only this test needs

    other, _ = seed_case_study(slug="another-study")
    client = _client(coordinator)
    page = client.post(START, {"study": other.pk, "snapshot": graph.snapshot.pk})
    assert "belongs to another study" in page.content.decode()
    bad = SimpleUploadedFile("p.jsonl", b'{"prompt": "ok"}\n\x00', content_type="application/jsonl")
    page = client.post(START, {"study": graph.study.pk, "prompts": bad})
    assert "cannot be saved" in unescape(page.content.decode())
    nul = SimpleUploadedFile("p.jsonl", b'{"prompt": "a\\u0000b"}\n', content_type="application/jsonl")
    page = unescape(client.post(START, {"study": graph.study.pk, "prompts": nul}).content.decode())
    assert "line 1: The prompt contains an invisible control character" in page  # skipped, not stored
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_an_auditor_follows_a_run_but_cannot_start_one_or_download(graph, auditor, tmp_path):
    run, _ = training.export(graph.study, graph.snapshot, training.prompt_set(graph.study), tmp_path, limit=2)
    client = _client(auditor)
    listing = unescape(client.get(reverse("admin:alignment_trainingrun_changelist")).content.decode())
    assert "Start a training-data export" not in listing and "Stopped" in listing
    page = unescape(client.get(reverse("admin:alignment_trainingrun_change", args=[run.pk])).content.decode())
    assert "stopped after 2 example(s)" in page and "1 SFT example(s), 1 preference pair(s)" in page
    assert "sft.jsonl" not in page
    assert client.get(START).status_code == 403
    assert client.get(reverse("admin:alignment_trainingrun_download", args=[run.pk, "sft.jsonl"])).status_code == 403
    live = client.get(reverse("admin:alignment_trainingrun_live", args=[run.pk]))
    assert live.status_code == 200 and 'data-running="false"' in live.content.decode()
