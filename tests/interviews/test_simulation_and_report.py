"""Simulated participants and the coordinator's study report (paper Tables
2-4, Figures 8 and 12)."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from graph.models import WisdomVote
from interviews.models import TranscriptRating
from journey import personas
from studies import services as journey
from studies.models import Participant, Step
from surveys import services as survey_services
from surveys.models import SurveyItem, SurveyResponse
from tests.factories import at_step, full_answers, move_to
from values.models import ValuesCard


@pytest.fixture
def study(db):
    study, _ = journey.seed_case_study()
    return study


def test_simulated_participants_go_through_the_whole_journey(study, capsys):
    call_command("simulate_participants", study=study.slug, n=10, seed=3)
    out = capsys.readouterr().out
    simulated = Participant.objects.filter(study=study, simulated=True)
    assert simulated.count() == 10
    completed = simulated.filter(current_step=Step.COMPLETE)
    assert f"Simulated 10 participants ({completed.count()} completed)" in out
    # Stories are written once a question has two values, so later participants judge some,
    # always in a context of the question they answered.
    assert completed.count() >= 8
    votes = WisdomVote.objects.filter(participant__in=simulated)
    assert votes.count() >= 3
    for vote in votes.select_related("context"):
        assert vote.participant.interviews.get().scenario_id == vote.context.scenario_id
    table3_items = SurveyItem.objects.filter(bank__study=study, kind=SurveyItem.Kind.LIKERT5).count()
    for participant in completed:
        assert SurveyResponse.objects.filter(participant=participant).count() == table3_items
        # Every step's time is recorded, from consent to the survey.
        assert {"consent", "scenario", "interview", "relevance", "survey"} <= set(
            participant.step_timings.values_list("step", flat=True)
        )
    # Each persona says something of its own: one canonical value per persona met, titled as its card.
    cards = ValuesCard.objects.filter(interview__participant__in=simulated, submitted=True)
    assert cards.count() >= 8
    from interviews.offline import requested_changes

    titles = {p.card.title for p in personas.all_personas()} | {
        requested_changes(t).title for p in personas.all_personas() for t in p.after_card
    }
    assert set(cards.values_list("canonical__title", flat=True)) <= titles
    assert cards.values("canonical").distinct().count() == len(set(cards.values_list("title", flat=True)))
    # Simulated participants are not counted on the study list.
    assert Participant.objects.filter(study=study, simulated=False).count() == 0
    # Building the graph leaves them out by default, and says how to count them.
    call_command("build_moral_graph", study=study.slug, bootstrap_samples=0)
    out = capsys.readouterr().out
    votes = WisdomVote.objects.filter(participant__in=simulated).count()
    assert ", 0 votes," in out and f"Left out {votes} votes of simulated participants" in out
    call_command("build_moral_graph", study=study.slug, bootstrap_samples=0, include_simulated=True)
    out = capsys.readouterr().out
    assert f", {votes} votes," in out and "Left out" not in out


def test_a_persona_met_again_joins_its_canonical_value(study):
    import random

    from journey import simulation

    study.scenarios.exclude(key="parenting").update(active=False)
    for _ in range(2):
        simulation.simulate_one(study, random.Random(1), turns={"parenting": 1})  # the same persona twice
    from values import services as value_services

    value_services.run_batch_dedup(study)
    cards = ValuesCard.objects.filter(interview__participant__study=study, submitted=True)
    persona = personas.for_scenario("parenting")[1]
    assert cards.count() == 2 and set(cards.values_list("title", flat=True)) == {persona.card.title}
    assert cards.values("canonical").distinct().count() == 1 and cards.first().canonical is not None
    assert cards.first().canonical.policies == persona.card.policies


def test_simulation_refuses_unknown_studies_and_online_models(study, settings):
    with pytest.raises(CommandError, match="No study"):
        call_command("simulate_participants", study="nope", n=1)
    settings.ANTHROPIC_API_KEY = "sk-test-not-used"
    study.llm_provider = "anthropic"
    study.save()
    with pytest.raises(CommandError, match="offline"):
        call_command("simulate_participants", study=study.slug, n=1)
    assert not Participant.objects.filter(study=study).exists()


def _answer(study, pid, answers):
    participant, client = at_step(study, pid)
    bank = survey_services.ensure_default_bank(study)
    survey_services.submit_survey(participant=participant, bank=bank, answers=answers)
    return participant


def _cells(html, row_text):
    """The cells of the report table row whose first cell starts with `row_text`."""
    row = re.search(r"<tr><td>" + re.escape(row_text) + r".*?</tr>", html, re.S)
    assert row, f"no row for {row_text!r}"
    return [re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(0), re.S)]


def test_report_shows_table_3_and_table_4_from_the_answers(study, coordinator, client):
    # "clarify" answered 1, 3, 4, 5: 3 or above 75%, 4 or above 50%.
    for i, value in enumerate(["1", "3", "4", "5"]):
        _answer(study, f"r{i}", full_answers("4", clarify=value))
    fairness = SurveyItem.objects.get(bank__study=study, kind=SurveyItem.Kind.FAIRNESS)
    for i, answer in enumerate(["yes", "yes", "yes", "no"]):
        SurveyResponse.objects.create(
            participant=Participant.objects.get(study=study, prolific_identity__prolific_pid=f"r{i}"),
            item=fairness,
            answer=answer,
        )
    # A simulated participant who disagrees is left out unless asked for.
    simulated = _answer(study, "sim", full_answers("1"))
    Participant.objects.filter(pk=simulated.pk).update(simulated=True)

    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert _cells(html, "Did it help you clarify") == [
        "Did it help you clarify what was important to you?",
        "4",
        "25.0%",
        "0.0%",
        "25.0%",
        "25.0%",
        "25.0%",
        "75.0%",
        "50.0%",
    ]
    assert _cells(html, "Did you learn something")[-2:] == ["100.0%", "100.0%"]
    assert "4 answers: yes 75.0%, no 25.0%" in html
    assert 'aria-label="Answers 1 to 5 per question"' in html
    assert "4 participants, 4 completed; median time to complete" in html

    with_simulated = client.get(f"/admin/studies/study/{study.pk}/report/?simulated=1").content.decode()
    assert _cells(with_simulated, "Did it help you clarify")[1:3] == ["5", "40.0%"]


def test_report_groups_ideology_ratings_against_feeling_represented(study, coordinator, client):
    from tests.factories import consented_participant, run_interview

    # Two rated participants: one not ideological (score 1) answering 5, one very (score 5) answering 2.
    for pid, score, answer in (("calm", 1, "5"), ("slogans", 5, "2")):
        participant, _ = consented_participant(study, pid)
        interview, _ = run_interview(participant, study.scenarios.get(key="abortion"))
        TranscriptRating.objects.create(
            interview=interview, kind="ideology", score=score, prompt_version="test", prompt_hash="x"
        )
        move_to(participant, Step.SURVEY)
        survey_services.submit_survey(
            participant=participant,
            bank=survey_services.ensure_default_bank(study),
            answers=full_answers("4", expresses_care=answer),
        )
    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert _cells(html, "not ideological") == ["not ideological", "1", "5", "100.0%"]
    assert _cells(html, "slightly ideological") == ["slightly ideological", "0", "–", "–"]
    assert _cells(html, "very ideological") == ["very ideological", "1", "2", "0.0%"]


def test_auditors_read_the_report_but_participants_cannot(study, auditor, client, participant_client):
    client.force_login(auditor)
    assert client.get(f"/admin/studies/study/{study.pk}/report/").status_code == 200
    anonymous = participant_client.get(f"/admin/studies/study/{study.pk}/report/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_demo_study_has_a_graph_and_a_report_to_look_at(db, coordinator, client, capsys):
    from graph.models import GraphSnapshot
    from studies.models import Study

    call_command("demo_study", n=12, seed=3)
    out = capsys.readouterr().out
    study = Study.objects.get(slug="demo")
    assert Participant.objects.filter(study=study, simulated=True).count() == 12
    snapshot = GraphSnapshot.objects.get(study=study)
    assert snapshot.include_simulated and snapshot.scores["global"]
    # The demo graph is public: anyone with the link sees it.
    assert client.get("/graph/demo/").status_code == 200
    report_path = out.strip().splitlines()[-1].removeprefix("Report: ")
    client.force_login(coordinator)
    html = client.get(report_path).content.decode()
    completed = Participant.objects.filter(study=study, current_step=Step.COMPLETE).count()
    assert _cells(html, "Did it help you clarify")[1] == str(completed)
    # The simulated persona who considered an abortion is found by the expert rater.
    assert TranscriptRating.objects.filter(interview__participant__study=study, kind="expert", is_expert=True).exists()
    assert "Most common expert value" in html
    # Fig. 12 draws a dot for every position in its table, so a lone position is still seen.
    fig12 = re.search(r'<section id="fig12">.*?</section>', html, re.S).group(0)
    table = re.search(r"<tbody>.*?</tbody>", fig12, re.S).group(0)
    rows = re.findall(r"<tr><td>\d+</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    ranked = sum(cell.isdigit() for row in rows for cell in row)
    assert rows and ranked and fig12.count("<circle") == ranked
    # Running it again tops up to N: nothing more to do.
    call_command("demo_study", n=12)
    assert Participant.objects.filter(study=study).count() == 12
    assert GraphSnapshot.objects.filter(study=study).count() == 1


def test_fig12_expert_value_counts_real_experts_by_their_latest_rating(study):
    from journey import report
    from tests.factories import canonical_value

    abortion = study.scenarios.get(key="abortion")
    care, choice = canonical_value(study, "Care for both lives"), canonical_value(study, "Informed choice")

    def expert(pid, value, *, simulated=False, ratings=(True,)):
        participant, _ = at_step(study, pid, step=Step.INTERVIEW)
        from interviews import services as interview_services

        interview = interview_services.choose_scenario(participant=participant, scenario=abortion)
        ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=value.title,
            description="x",
            policies=["MOMENTS x"],
            source="articulator",
            submitted=True,
            canonical=value,
        )
        Participant.objects.filter(pk=participant.pk).update(simulated=simulated)
        for version, flag in enumerate(ratings):
            TranscriptRating.objects.create(
                interview=interview,
                kind="expert",
                is_expert=flag,
                question=abortion.expert_question,
                prompt_version=f"v{version}",
                prompt_hash=f"h{version}",
            )

    expert("real-1", care)
    # Rated expert by an older prompt, not by the newer one: no longer counted.
    expert("real-2", choice, ratings=(True, False))
    expert("sim-1", choice, simulated=True)
    expert("sim-2", choice, simulated=True)

    real = next(e for e in report.expert_trajectories(study) if e["scenario"] == abortion)
    assert (real["experts"], real["value"], real["share"]) == (1, care, 100.0)
    with_simulated = next(
        e for e in report.expert_trajectories(study, include_simulated=True) if e["scenario"] == abortion
    )
    assert (with_simulated["experts"], with_simulated["value"]) == (3, choice)
    assert with_simulated["share"] == round(100 * 2 / 3, 1)
