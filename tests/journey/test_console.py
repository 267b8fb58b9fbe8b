"""The live study console a coordinator watches while a study runs: where
participants are, how long steps take, where people stop, who is stuck,
and what the language model has cost against the budget."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from mgeplatform.models import LLMCall
from studies import services, steps
from studies.models import Participant, Step, StepTiming
from tests.factories import at_step, consented_participant

pytestmark = pytest.mark.django_db


def _staff_client(user, password):
    # force_login: the sign-in page itself is tested in tests/mgeplatform/test_login_page.py, and its
    # rate limit (allauth: 30 sign-ins a minute from one address) is shared by the whole test run.
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def coordinator_client(coordinator):
    return _staff_client(coordinator, "x-coord-pass-1")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def step_row(html: str, step: str) -> list[str]:
    """The cells of the console's row for one step, as the coordinator reads them."""
    row = re.search(rf'<tr data-step="{step}">(.*?)</tr>', html, re.S).group(1)
    return [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def console(client, study):
    response = client.get(f"/admin/studies/study/{study.pk}/console/")
    assert response.status_code == 200
    return response.content.decode()


def test_console_counts_real_participants_per_step_and_shows_previews_and_simulated_apart(
    study, coordinator, coordinator_client
):
    consented_participant(study, "at-scenario-1")
    consented_participant(study, "at-scenario-2")
    at_step(study, "at-interview", Step.INTERVIEW)
    gone, _ = consented_participant(study, "will-withdraw")
    steps.move(gone, Step.WITHDRAWN)  # stopped at the scenario choice
    simulated, _ = consented_participant(study, "simulated")
    Participant.objects.filter(pk=simulated.pk).update(simulated=True)
    services.start_preview(study=study, session=Client().session, user=coordinator)

    html = console(coordinator_client, study)

    # step, here now, reached, did it, skipped, stopped here, median, 90 %
    assert step_row(html, "consent")[:6] == ["Consent", "0", "4", "4", "0", "0"]
    assert step_row(html, "scenario")[:6] == ["Choose a scenario", "2", "4", "1", "0", "1"]
    assert step_row(html, "interview")[:6] == ["Interview", "1", "1", "0", "0", "0"]
    assert step_row(html, "survey")[:6] == ["Survey", "0", "0", "0", "0", "0"]
    assert "4 participants" in _text(html) and "3 taking part now" in _text(html)
    assert "Not counted above: 1 staff preview, 1 simulated participant." in _text(html)


def test_median_and_90th_percentile_time_per_step(study, coordinator_client):
    for i, minutes in enumerate([1, 2, 10]):
        participant, _ = consented_participant(study, f"timed-{i}")
        timing = StepTiming.objects.get(participant=participant, step=Step.CONSENT)
        StepTiming.objects.filter(pk=timing.pk).update(started_at=timing.ended_at - timedelta(minutes=minutes))
    html = console(coordinator_client, study)
    # median of 1, 2 and 10 minutes is 2; the 90th percentile lies 80 % of the way from 2 to 10.
    assert step_row(html, "consent")[6:] == ["2.0", "8.4"]
    assert step_row(html, "scenario")[6:] == ["–", "–"]  # nobody has left it yet


def test_participants_idle_past_the_threshold_are_flagged_stuck_with_a_link(study, coordinator_client):
    study.stuck_after_minutes = 10
    study.save()
    stuck, _ = at_step(study, "stuck", Step.INTERVIEW)
    fresh, _ = at_step(study, "fresh", Step.INTERVIEW)
    done, _ = at_step(study, "done", Step.INTERVIEW)
    steps.move(done, Step.WITHDRAWN)
    now = timezone.now()
    StepTiming.objects.filter(participant=stuck, step=Step.INTERVIEW).update(started_at=now - timedelta(minutes=11))
    StepTiming.objects.filter(participant=fresh, step=Step.INTERVIEW).update(started_at=now - timedelta(minutes=5))
    StepTiming.objects.filter(participant=done).update(started_at=now - timedelta(minutes=30))
    Participant.objects.filter(pk__in=[stuck.pk, fresh.pk, done.pk]).update(created_at=now - timedelta(minutes=40))

    html = console(coordinator_client, study)
    section = re.search(r'<section[^>]*id="console-stuck">(.*?)</section>', html, re.S).group(1)
    assert f'href="/admin/studies/participant/{stuck.pk}/change/"' in section
    assert "Interview · 11 min" in _text(section)
    assert str(fresh.pk)[:10] not in section and str(done.pk)[:10] not in section
    assert re.search(r'id="stat-stuck"[^>]*>\s*<span class="n">1</span>', html)
    # The participant's page is one click away and shows where they are.
    page = coordinator_client.get(f"/admin/studies/participant/{stuck.pk}/change/")
    assert page.status_code == 200


def _call(study, cost, ok=True, error=""):
    return LLMCall.objects.create(
        study_id=study.pk,
        purpose="interview.reply",
        provider="anthropic",
        model="m",
        estimated_cost_usd=Decimal(cost),
        ok=ok,
        error=error,
    )


def test_cost_and_failed_calls_against_the_budget(study, coordinator_client):
    study.budget_usd = Decimal("2.00")
    study.save()
    _call(study, "0.70")
    _call(study, "0.30", ok=False, error="rate limited (429) after 3 attempts")
    html = console(coordinator_client, study)
    llm = _text(re.search(r'<section[^>]*id="console-llm">(.*?)</section>', html, re.S).group(1))
    assert "2 calls, 1 failed; cost so far $1.00 of $2.00 (50%)." in llm
    assert "rate limited (429)" in llm
    assert "budget is spent" not in html

    _call(study, "1.10")
    html = console(coordinator_client, study)
    alert = _text(re.search(r'<p[^>]*id="budget-alert"[^>]*>(.*?)</p>', html, re.S).group(1))
    assert alert.startswith("The model budget is spent: $2.10 of $2.00.")
    assert "turns new participants away" in alert
    # The study's own page says it too.
    change = coordinator_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert "Model cost so far: $2.10 of a $2.00 budget" in _text(change)


def test_a_model_without_a_price_is_counted_at_the_fallback_price_and_named(study, coordinator_client):
    from mgeplatform.llm import gateway
    from mgeplatform.llm.types import Usage

    study.budget_usd = Decimal("1.00")
    study.save()
    ctx = gateway.CallContext(
        purpose="interview.reply", study=study, route=gateway.Route("openai-compatible", "my-finetune-7b")
    )
    gateway._record(ctx, usage=Usage(input_tokens=20_000, output_tokens=5_000), started=0, attempts=1)
    html = console(coordinator_client, study)
    warning = _text(re.search(r'<p[^>]*id="unpriced-models"[^>]*>(.*?)</p>', html, re.S).group(1))
    assert warning.startswith("No price is known for my-finetune-7b")
    assert "cost so far $0.00" not in _text(html)  # counted, not free
    # A priced model raises no warning.
    LLMCall.objects.all().delete()
    LLMCall.objects.create(
        study_id=study.pk,
        purpose="interview.reply",
        provider="anthropic",
        model="claude-sonnet-4-6",
        estimated_cost_usd=Decimal("0.10"),
    )
    assert 'id="unpriced-models"' not in console(coordinator_client, study)


def test_without_a_budget_the_cost_still_shows(study, coordinator_client):
    _call(study, "0.25")
    html = console(coordinator_client, study)
    assert "cost so far $0.25 (no budget set)" in _text(html)
    assert 'id="budget-alert"' not in html


def test_link_for_prolific_preview_and_live_part(study, coordinator_client):
    html = console(coordinator_client, study)
    link = (
        f"http://testserver/s/{study.slug}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&amp;STUDY_ID={{{{%STUDY_ID%}}}}"
        "&amp;SESSION_ID={{%SESSION_ID%}}"
    )
    assert f'value="{link}"' in html
    assert "Copy link" in html
    assert f'href="/s/{study.slug}/preview/"' in html
    # The page refreshes its live part from this address.
    live = coordinator_client.get(f"/admin/studies/study/{study.pk}/console/live/")
    assert live.status_code == 200 and 'data-step="interview"' in live.content.decode()
    assert "<html" not in live.content.decode()


def test_auditor_reads_the_console_but_gets_no_preview_and_strangers_none(study, auditor):
    client = _staff_client(auditor, "x-audit-pass-1")
    html = console(client, study)
    assert 'id="preview-link"' not in html
    assert Client().get(f"/admin/studies/study/{study.pk}/console/live/").status_code == 302  # to the login


def test_study_list_and_study_page_lead_to_the_console_and_show_the_link(study, coordinator_client):
    listing = coordinator_client.get("/admin/studies/study/").content.decode()
    assert f'href="/admin/studies/study/{study.pk}/console/"' in listing
    page = coordinator_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert f'href="/admin/studies/study/{study.pk}/console/"' in page
    assert f"http://testserver/s/{study.slug}/?PROLIFIC_PID=" in page
    assert "/s//" not in page  # the slug's help text used to lose "<slug>" as a tag
    for label in (
        "Pilot with scripted interviewer",
        "Budget (USD)",
        "Stuck after minutes",
        "Prolific code: no places left",
    ):
        assert label in page


def test_prompt_caching_is_shown_as_measured(study, coordinator_client):
    from mgeplatform.llm import gateway
    from mgeplatform.llm.types import Usage

    ctx = gateway.CallContext(
        purpose="interview.reply", study=study, route=gateway.Route("anthropic", "claude-sonnet-4-6")
    )
    gateway._record(ctx, usage=Usage(input_tokens=3_000, cache_write_input_tokens=2_000), started=0, attempts=1)
    gateway._record(ctx, usage=Usage(input_tokens=3_000, cached_input_tokens=2_000), started=0, attempts=1)
    line = _text(re.search(r'<p id="llm-cache">(.*?)</p>', console(coordinator_client, study), re.S).group(1))
    assert line == (
        "Input tokens: 6000, of which 2000 read from the provider's prompt cache (33%) and 2000 written to it."
    )
