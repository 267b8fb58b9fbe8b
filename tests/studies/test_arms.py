"""Studies as experiments, first slice (issue 29): arms. Newcomers are
randomised between a study's arms in seeded blocks balanced by weight
(optionally within each language), the arm stays for good, and an arm's
overrides are what the participant meets."""

import csv
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.test import Client

from journey import exports
from mgeplatform.models import DomainEvent, LLMCall
from studies import arms, services
from studies.models import Arm, Participant, Step, StepTiming, Study
from tests.factories import PROLIFIC, consented_participant, enter, run_interview
from values.relevance import RelevanceDraw


def _study(slug="arms", **fields) -> Study:
    study, _ = services.seed_case_study(slug)
    for name, value in fields.items():
        setattr(study, name, value)
    study.save()
    return study


def _with_arms(study, *specs) -> Study:
    for name, weight, settings in specs:
        arms.add_arm(study=study, name=name, weight=weight, settings=settings)
    return study


def _entries(study, n, **kwargs) -> list[str]:
    return [services.create_participant(study, via="link", **kwargs).arm.name for _ in range(n)]


def _joined(participant) -> dict:
    return DomainEvent.objects.get(kind="participant.joined", actor_participant=participant.pk).payload


@pytest.mark.django_db
def test_blocks_hold_every_arm_by_its_weight_and_the_seed_replays_the_sequence():
    study = _with_arms(_study("arms-a", arm_seed=11), ("control", 1, {}), ("treated", 2, {}))
    drawn = _entries(study, 15)
    for block in range(5):
        assert Counter(drawn[3 * block : 3 * block + 3]) == {"control": 1, "treated": 2}
    # The same seed and order of entry draw the same arms in another study; another seed draws others.
    same = _with_arms(_study("arms-b", arm_seed=11), ("control", 1, {}), ("treated", 2, {}))
    assert _entries(same, 15) == drawn
    other = _with_arms(_study("arms-c", arm_seed=12), ("control", 1, {}), ("treated", 2, {}))
    assert _entries(other, 15) != drawn
    last = Participant.objects.filter(study=study).order_by("-created_at").first()
    assert _joined(last)["arm"] == drawn[-1]


@pytest.mark.django_db
def test_stratified_by_language_each_language_has_balanced_blocks():
    study = _with_arms(
        _study("arms-lang", languages=["en", "es"], arm_strata="language", arm_seed=5),
        ("a", 1, {}),
        ("b", 1, {}),
    )
    order = ["en", "en", "es", "en", "es", "es", "es", "en", "es", "en", "en", "es"]
    by_language: dict[str, list[str]] = {"en": [], "es": []}
    for language in order:
        participant = services.create_participant(study, via="link", language=language)
        by_language[language].append(participant.arm.name)
        assert _joined(participant)["arm_stratum"] == f"language:{language}"
    for names in by_language.values():
        assert len(names) == 6
        for i in range(0, 6, 2):
            assert sorted(names[i : i + 2]) == ["a", "b"]


@pytest.mark.django_db
def test_an_arm_cannot_be_changed_once_drawn():
    study = _with_arms(_study("arms-fixed"), ("a", 1, {}), ("b", 1, {}))
    participant = services.create_participant(study, via="link")
    other = study.arms.exclude(pk=participant.arm_id).get()
    participant.arm = other
    with pytest.raises(DatabaseError, match="participant_arm_immutable"), transaction.atomic():
        participant.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Participant.objects.filter(pk=participant.pk).update(arm=None)
    participant.refresh_from_db()
    assert participant.arm != other
    # Everything else about the participant still changes.
    Participant.objects.filter(pk=participant.pk).update(language="es")


@pytest.mark.django_db
def test_resume_on_another_device_keeps_the_arm():
    study = _with_arms(_study("arms-resume", require_prolific=False), ("a", 1, {}), ("b", 1, {}))
    services.create_participant(study, via="link")  # the Prolific participant gets the block's second place
    first = Client()
    assert enter(first, study, **PROLIFIC).status_code == 302
    participant = Participant.objects.get(prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    second = Client()
    assert enter(second, study, **PROLIFIC).status_code == 302
    assert Participant.objects.filter(study=study).count() == 2
    resumed = Participant.objects.get(prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    assert resumed.pk == participant.pk and resumed.arm == participant.arm


@pytest.mark.django_db
def test_a_coordinator_previews_the_arm_they_choose(coordinator):
    study = _with_arms(_study("arms-preview"), ("a", 1, {}), ("b", 1, {}))
    browser = Client()
    browser.force_login(coordinator)
    assert browser.get(f"/s/{study.slug}/preview/", {"arm": "b"}).status_code == 302
    preview = Participant.objects.get(study=study)
    assert preview.arm.name == "b" and _joined(preview)["arm"] == "b"
    # A preview takes no place in the sequence: the first participant still gets the first place.
    first = services.create_participant(study, via="link")
    assert first.arm == arms.block_order(study, list(study.arms.order_by("id")), "", 0)[0]
    console = browser.get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    assert f"/s/{study.slug}/preview/?arm=b" in console
    page = browser.get(f"/s/{study.slug}/preview/", {"arm": "nope"})
    assert page.status_code == 400 and "no arm" in page.content.decode()


@pytest.mark.django_db
def test_the_arms_interviewer_model_is_the_one_on_the_participants_llm_calls():
    study = _study("arms-model", scripted_interviewer_ok=True)
    _with_arms(study, ("other-model", 1, {"llm_provider": "offline", "llm_model": "offline-arm-model"}))
    participant, _ = consented_participant(study, pid="pid-arm-model")
    assert participant.arm.name == "other-model"
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    assert interview.model == "offline-arm-model"
    replies = LLMCall.objects.filter(participant=participant.pk, purpose__startswith="interview")
    assert replies.exists() and set(replies.values_list("model", flat=True)) == {"offline-arm-model"}
    # Without an override the study's own route is used.
    plain = _study("arms-plain")
    assert arms.interviewer_settings(services.create_participant(plain, via="link")) == plain


@pytest.mark.django_db
def test_an_arm_without_the_relevance_step_goes_straight_to_the_stories(graph_study):
    study, _values = graph_study
    _with_arms(study, ("with", 1, {}), ("without", 1, {"relevance_step": False}))
    walked = {}
    for pid in ("pid-r1", "pid-r2"):
        participant, _ = consented_participant(study, pid=pid)
        run_interview(participant, study.scenarios.get(key="parenting"))
        participant.refresh_from_db()
        walked[participant.arm.name] = participant
    with_step, without = walked["with"], walked["without"]
    assert with_step.current_step == Step.RELEVANCE and RelevanceDraw.objects.filter(participant=with_step).exists()
    assert without.current_step != Step.RELEVANCE
    assert not StepTiming.objects.filter(participant=without, step=Step.RELEVANCE).exists()
    assert not RelevanceDraw.objects.filter(participant=without).exists()


@pytest.mark.django_db
def test_an_arm_offering_one_question_skips_the_choice():
    study = _study("arms-questions")
    only = study.scenarios.get(key="parenting")
    _with_arms(study, ("one", 1, {"scenarios": [only.pk]}))
    participant, client = consented_participant(study, pid="pid-one-question")
    assert participant.current_step == Step.INTERVIEW
    assert participant.interviews.get().scenario == only
    assert list(arms.offered_scenarios(participant)) == [only]


@pytest.mark.django_db
def test_add_arm_adds_an_arm_and_explains_what_it_refuses(capsys):
    study = _study("arms-cli")
    scenario = study.scenarios.first()
    call_command(
        "add_arm",
        "--study",
        study.slug,
        "--name",
        "short",
        "--set",
        "relevance_step=off",
        "--set",
        "stories_per_participant=5",
        "--set",
        f"scenarios={scenario.pk}",
        "--weight",
        "2",
    )
    arm = Arm.objects.get(study=study, name="short")
    assert arm.weight == 2
    assert arm.settings == {"relevance_step": False, "stories_per_participant": 5, "scenarios": [scenario.pk]}
    assert "Added arm short (weight 2)" in capsys.readouterr().out
    assert DomainEvent.objects.filter(kind="study.arm_added", payload__arm="short").exists()

    refusals = [
        (["--set", "colour=blue"], "unknown field 'colour'"),
        (["--set", "stories_per_participant=many"], "stories_per_participant"),
        (["--set", "relevance_step=maybe"], "relevance_step"),
        (["--set", "llm_provider=skynet"], "unknown provider"),
        (["--set", "scenarios=999999"], "999999 are not questions"),
        (["--set", "relevance_step"], "not FIELD=VALUE"),
        (["--weight", "0"], "weight"),
    ]
    for extra, message in refusals:
        with pytest.raises(CommandError, match=message):
            call_command("add_arm", "--study", study.slug, "--name", "bad", *extra)
    with pytest.raises(CommandError, match="already has an arm 'short'"):
        call_command("add_arm", "--study", study.slug, "--name", "short")
    with pytest.raises(CommandError, match="No study"):
        call_command("add_arm", "--study", "nope", "--name", "x")
    assert list(study.arms.values_list("name", flat=True)) == ["short"]


@pytest.mark.django_db
def test_simulated_participants_are_spread_over_the_arms():
    study = _with_arms(_study("arms-sim"), ("a", 1, {}), ("b", 1, {}))
    call_command("simulate_participants", study=study.slug, n=6, seed=4)
    counts = Counter(Participant.objects.filter(study=study, simulated=True).values_list("arm__name", flat=True))
    assert counts == {"a": 3, "b": 3}


@pytest.mark.django_db
def test_simulation_refuses_a_study_whose_arm_would_call_a_real_model(settings):
    settings.ANTHROPIC_API_KEY = "sk-test-not-used"
    study = _with_arms(_study("arms-sim-online"), ("a", 1, {}), ("b", 1, {"llm_provider": "anthropic"}))
    with pytest.raises(CommandError, match="uses anthropic"):
        call_command("simulate_participants", study=study.slug, n=2)
    assert not Participant.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_participants_csv_has_the_arm_and_round(tmp_path):
    study = _with_arms(_study("arms-export"), ("a", 1, {}), ("b", 1, {}))
    people = [services.create_participant(study, via="link") for _ in range(4)]
    exports.export_study(study, tmp_path)
    with (tmp_path / "participants.csv").open(newline="") as f:
        rows = {row["participant"]: row for row in csv.DictReader(f)}
    assert {rows[str(p.pk)]["arm"] for p in people} == {"a", "b"}
    assert all(rows[str(p.pk)]["arm"] == p.arm.name and rows[str(p.pk)]["round"] == "1" for p in people)
    codebook = (exports.CODEBOOK).read_text()
    assert "| arm |" in codebook and "| round |" in codebook


INTERVIEWER_V99 = """---
name: interviewer
version: 99
---
You are a careful interviewer (version 99 of the arms test). The question: {{scenario_prompt}}
"""


@pytest.mark.django_db
def test_an_arms_interviewer_prompt_version_is_the_one_the_interview_runs(tmp_path, monkeypatch):
    from interviews.services import transcript

    (tmp_path / "interviewer.v99.md").write_text(INTERVIEWER_V99)
    monkeypatch.setattr(transcript, "VERSIONS_DIR", tmp_path)
    study = _study("arms-prompt", scripted_interviewer_ok=True)
    _with_arms(study, ("v99", 1, {"interviewer_prompt_version": "99"}))
    participant, _ = consented_participant(study, pid="pid-prompt")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), submit=False)
    assert interview.prompt_versions["interviewer"]["version"] == "99"
    replies = LLMCall.objects.filter(participant=participant.pk, prompt_name="interviewer")
    assert replies.exists() and set(replies.values_list("prompt_version", flat=True)) == {"99"}
    assert "version 99 of the arms test" in replies.first().request_system


@pytest.mark.django_db
def test_an_arm_cannot_name_an_interviewer_prompt_version_that_does_not_exist(tmp_path, monkeypatch):
    from interviews.services import transcript

    study = _study("arms-no-prompt")
    with pytest.raises(CommandError, match="no interviewer prompt version 7"):
        call_command("add_arm", "--study", study.slug, "--name", "v7", "--set", "interviewer_prompt_version=7")
    # A version whose file has gone since the arm was added: the interview does not start on another prompt.
    (tmp_path / "interviewer.v7.md").write_text(INTERVIEWER_V99.replace("99", "7"))
    monkeypatch.setattr(transcript, "VERSIONS_DIR", tmp_path)
    _with_arms(study, ("v7", 1, {"interviewer_prompt_version": "7"}))
    (tmp_path / "interviewer.v7.md").unlink()
    participant, _ = consented_participant(study, pid="pid-no-prompt")
    with pytest.raises(transcript.InterviewError, match="no interviewer prompt version 7"):
        transcript.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))


@pytest.mark.django_db
def test_an_arm_sets_how_many_stories_and_of_which_writer(graph_study):
    from graph.models import TransitionStory
    from graph.services.assignment import assign_stories
    from tests.factories import parent_with_card, stories_and_honest_votes

    study, values = graph_study
    stories_and_honest_votes(study, values, voters=2, per_voter=2)
    TransitionStory.objects.filter(study=study).update(prompt_version="story_reasoning v1, story_writer v1")
    newer = TransitionStory.objects.filter(study=study).order_by("id")[::2]
    TransitionStory.objects.filter(pk__in=[s.pk for s in newer]).update(
        prompt_version="story_reasoning v1, story_writer v2"
    )
    _with_arms(study, ("many", 1, {"stories_per_participant": 6, "story_prompt_version": "2"}))
    participant, _ = parent_with_card(study, "pid-many", values[2])
    shown = assign_stories(participant)
    assert len(shown) == 6
    assert {a.story.prompt_version for a in shown} == {"story_reasoning v1, story_writer v2"}


@pytest.mark.django_db
def test_stratified_by_a_demographic_given_at_entry():
    study = _with_arms(_study("arms-demo", arm_strata="demographic:Sex", arm_seed=3), ("a", 1, {}), ("b", 1, {}))
    drawn: dict[str, list[str]] = {"Female": [], "Male": [], "unknown": []}
    for answer in ["Female", "Male", "Female", None, "Male", "Female", None, "Male", "Female", "Male"]:
        p = services.create_participant(study, via="link", demographics={"Sex": answer} if answer else None)
        drawn[answer or "unknown"].append(p.arm.name)
        # The answer itself is kept nowhere the audit trail copies: only a digest names the stratum.
        assert p.arm_stratum.startswith("Sex#") and (answer or "unknown") not in p.arm_stratum
        assert (answer or "unknown") not in str(_joined(p))
    assert sorted(drawn["Female"]) == ["a", "a", "b", "b"] and sorted(drawn["unknown"]) == ["a", "b"]
    assert sorted(drawn["Male"]) == ["a", "a", "b", "b"]
    assert len({p.arm_stratum for p in Participant.objects.filter(study=study)}) == 3


@pytest.mark.django_db
def test_the_study_admin_adds_arms_inline_and_refuses_bad_settings(coordinator):
    study = _study("arms-admin")
    browser = Client()
    browser.force_login(coordinator)
    page = browser.get(f"/admin/studies/study/{study.pk}/change/")
    assert page.status_code == 200 and 'name="arms-TOTAL_FORMS"' in page.content.decode()

    def post(settings):
        data = {
            "title": study.title,
            "slug": study.slug,
            "status": study.status,
            "languages": "en",
            "scripted_interviewer_ok": "on",
            "stuck_after_minutes": "10",
            "stories_per_participant": "3",
            "withdrawal_policy": study.withdrawal_policy,
            "arm_seed": "4",
            "arm_strata": "language",
            "scenarios-TOTAL_FORMS": "0",
            "scenarios-INITIAL_FORMS": "0",
            "consent_documents-TOTAL_FORMS": "0",
            "consent_documents-INITIAL_FORMS": "0",
            "arms-TOTAL_FORMS": "1",
            "arms-INITIAL_FORMS": "0",
            "arms-0-name": "fast",
            "arms-0-weight": "2",
            "arms-0-settings": settings,
        }
        return browser.post(f"/admin/studies/study/{study.pk}/change/", data)

    refused = post('{"relevance_step": "perhaps"}')
    assert refused.status_code == 200 and "relevance_step" in refused.content.decode()
    assert not study.arms.exists()
    assert post('{"relevance_step": false}').status_code == 302
    arm = study.arms.get()
    assert (arm.name, arm.weight, arm.settings) == ("fast", 2, {"relevance_step": False})
    study.refresh_from_db()
    assert (study.arm_seed, study.arm_strata) == (4, "language")


@pytest.mark.django_db(transaction=True)
def test_entries_at_the_same_moment_never_take_the_same_place():
    """Eight browsers entering together still fill whole blocks: the draw
    holds the study's assignment lock until the participant row commits."""
    import threading

    from django.db import connections

    study = _with_arms(_study("arms-race", arm_seed=9), ("a", 1, {}), ("b", 1, {}))
    start = threading.Barrier(8)

    def enter_now():
        try:
            start.wait()
            services.create_participant(study, via="link")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enter_now) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drawn = list(Participant.objects.filter(study=study).order_by("created_at").values_list("arm__name", flat=True))
    assert Counter(drawn) == {"a": 4, "b": 4}
    assert drawn == [
        arm.name for block in range(4) for arm in arms.block_order(study, list(study.arms.all()), "", block)
    ]


@pytest.mark.django_db
def test_an_arm_with_the_scripted_interviewer_needs_the_coordinators_consent_to_take_people_in(settings):
    settings.ANTHROPIC_API_KEY = "sk-test-not-used"
    study = _study("arms-scripted", llm_provider="anthropic", scripted_interviewer_ok=False, status=Study.Status.OPEN)
    assert enter(Client(), study, PROLIFIC_PID="p-before", STUDY_ID="s", SESSION_ID="t").status_code == 302
    _with_arms(study, ("model", 1, {}), ("script", 1, {"llm_provider": "offline"}))
    refused = enter(Client(), study, PROLIFIC_PID="p-after", STUDY_ID="s", SESSION_ID="t")
    assert refused.status_code == 503
    assert not Participant.objects.filter(prolific_identity__prolific_pid="p-after").exists()
    Study.objects.filter(pk=study.pk).update(scripted_interviewer_ok=True)
    assert enter(Client(), study, PROLIFIC_PID="p-after", STUDY_ID="s", SESSION_ID="t").status_code == 302


@pytest.mark.django_db
def test_opening_a_study_with_a_scripted_arm_needs_the_scripted_interviewer_box(coordinator, settings):
    settings.ANTHROPIC_API_KEY = "sk-test-not-used"
    study = _study("arms-open", llm_provider="anthropic", scripted_interviewer_ok=False, status=Study.Status.DRAFT)
    _with_arms(study, ("model", 1, {}), ("script", 1, {"llm_provider": "offline"}))
    browser = Client()
    browser.force_login(coordinator)
    data = {
        "title": study.title,
        "slug": study.slug,
        "status": Study.Status.OPEN,
        "languages": "en",
        "llm_provider": "anthropic",
        "stuck_after_minutes": "10",
        "stories_per_participant": "3",
        "withdrawal_policy": study.withdrawal_policy,
        "scenarios-TOTAL_FORMS": "0",
        "scenarios-INITIAL_FORMS": "0",
        "consent_documents-TOTAL_FORMS": "0",
        "consent_documents-INITIAL_FORMS": "0",
    }
    refused = browser.post(f"/admin/studies/study/{study.pk}/change/", data)
    assert refused.status_code == 200 and "scripted (offline) interviewer" in refused.content.decode()
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT
    assert (
        browser.post(f"/admin/studies/study/{study.pk}/change/", {**data, "scripted_interviewer_ok": "on"}).status_code
        == 302
    )
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN
