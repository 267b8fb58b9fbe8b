"""The survey step as a participant meets it: one page, every question
required, answers kept on an error, recorded once, then the journey ends."""

import re

from mgeplatform.models import DomainEvent
from studies.models import Step
from surveys import selectors, services
from surveys.models import SurveyResponse
from tests.factories import TABLE_3_KEYS, at_step, full_answers


def _submit(client, study, answers):
    bank = services.ensure_default_bank(study)
    return client.post(f"/s/{study.slug}/survey/", {"bank": bank.pk, **answers})


def test_survey_page_shows_every_question_with_large_choices(study):
    participant, client = at_step(study, "surveyed")
    page = client.get(f"/s/{study.slug}/journey/")
    html = page.content.decode()
    assert page.status_code == 200
    for k in range(1, 7):
        assert f"Question {k} of 6" in html
    assert "Would you trust this process to create a wise version of Chat-GPT" in html
    assert html.count('type="radio"') == 30 and html.count("Strongly agree") == 6
    assert f'action="/s/{study.slug}/survey/"' in html
    assert 'name="viewport"' in html  # laid out for a phone (base template)


def test_submitting_every_answer_completes_the_journey(study):
    participant, client = at_step(study, "finisher")
    response = _submit(client, study, full_answers("5", clarify="3"))
    assert response.status_code == 302 and response["Location"] == f"/s/{study.slug}/journey/"
    participant.refresh_from_db()
    assert participant.current_step == Step.COMPLETE
    answers = dict(SurveyResponse.objects.filter(participant=participant).values_list("item__key", "answer"))
    assert answers == full_answers("5", clarify="3")
    event = DomainEvent.objects.get(kind="survey.submitted")
    assert event.actor_participant == participant.pk and event.payload == {"version": 1, "items": 6}
    assert DomainEvent.objects.filter(kind="journey.step", payload__to="complete").exists()


def test_a_missing_answer_is_explained_and_every_given_answer_kept(study):
    participant, client = at_step(study, "forgetful")
    answers = full_answers("4", trust_process="2")
    del answers["learned_values"]
    response = _submit(client, study, answers)
    html = response.content.decode()
    assert response.status_code == 400
    assert "One question still needs an answer" in html and "Question 5" in html
    assert 'href="#q-learned_values"' in html
    checked = dict(re.findall(r'name="(\w+)" value="(\w+)" required checked', html))
    assert checked == dict(answers.items())
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    assert not SurveyResponse.objects.filter(participant=participant).exists()


def test_an_answer_off_the_scale_is_refused(study):
    participant, client = at_step(study, "tamperer")
    response = _submit(client, study, full_answers("4", clarify="9"))
    assert response.status_code == 400 and "not understood" in response.content.decode()


def test_a_double_submit_records_each_answer_once(study):
    participant, client = at_step(study, "double")
    first = _submit(client, study, full_answers("4"))
    second = _submit(client, study, full_answers("2"))
    assert first.status_code == second.status_code == 302
    assert SurveyResponse.objects.filter(participant=participant).count() == 6
    assert set(SurveyResponse.objects.filter(participant=participant).values_list("answer", flat=True)) == {"4"}
    assert DomainEvent.objects.filter(kind="survey.submitted").count() == 1
    # Submitting the same answers through the service again updates, never duplicates.
    bank = services.ensure_default_bank(study)
    participant.current_step = Step.SURVEY
    participant.save()
    services.submit_survey(participant=participant, bank=bank, answers=full_answers("1"))
    assert SurveyResponse.objects.filter(participant=participant).count() == 6
    assert set(SurveyResponse.objects.filter(participant=participant).values_list("answer", flat=True)) == {"1"}


def test_only_a_participant_at_the_survey_step_can_answer(study):
    participant, client = at_step(study, "early", step=Step.INTERVIEW)
    response = _submit(client, study, full_answers())
    assert response.status_code == 302
    assert not SurveyResponse.objects.exists()


def _bank_with_attention_check(study, failures_to_flag=1):
    draft = services.new_version(study)
    draft.attention_failures_to_flag = failures_to_flag
    draft.save()
    services.add_attention_check(draft, order=4)
    if failures_to_flag > 1:
        services.add_attention_check(
            draft, key="attention2", text="Please choose 'Disagree' for this question.", expected_answer="2"
        )
    return services.publish_bank(draft)


def test_a_wrong_attention_check_marks_failed_attention(study):
    _bank_with_attention_check(study)
    failed, failed_client = at_step(study, "careless")
    passed, passed_client = at_step(study, "careful")
    page = failed_client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "Question 7 of 7" in page and "To show you are reading, choose &#x27;Strongly agree&#x27; here." in page
    _submit(failed_client, study, full_answers("3", attention="3"))
    _submit(passed_client, study, full_answers("3", attention="5"))
    failed.refresh_from_db()
    assert failed.current_step == Step.COMPLETE
    assert selectors.failed_attention(failed) is True
    assert selectors.failed_attention(passed) is False


def test_a_bank_can_require_two_failed_checks_as_prolific_does_for_longer_studies(study):
    _bank_with_attention_check(study, failures_to_flag=2)
    once, once_client = at_step(study, "slipped-once")
    twice, twice_client = at_step(study, "slipped-twice")
    _submit(once_client, study, full_answers("4", attention="4", attention2="2"))
    _submit(twice_client, study, full_answers("4", attention="4", attention2="4"))
    assert selectors.failed_attention(once) is False
    assert selectors.failed_attention(twice) is True


def test_table_3_from_the_database_matches_a_hand_computation_and_leaves_out_simulated(study):
    from studies.models import Participant

    bank = services.ensure_default_bank(study)
    # "clarify" answers from 5 real participants: 2, 3, 4, 5, 5.
    for i, value in enumerate(["2", "3", "4", "5", "5"]):
        participant, _ = at_step(study, f"real-{i}")
        services.submit_survey(participant=participant, bank=bank, answers=full_answers(value))
    bot, _ = at_step(study, "bot")
    Participant.objects.filter(pk=bot.pk).update(simulated=True)
    bot.refresh_from_db()
    services.submit_survey(participant=bot, bank=bank, answers=full_answers("1"))

    table = selectors.legitimacy_table(study)
    assert [row["key"] for row in table] == TABLE_3_KEYS
    clarify = table[0]
    # By hand: n = 5; 1: 0/5, 2: 1/5 = 20%, 3: 20%, 4: 20%, 5: 2/5 = 40%;
    # agree (3+) = 4/5 = 80%; agree (4+) = 3/5 = 60%.
    assert clarify["n"] == 5
    assert clarify["distribution"] == {1: 0.0, 2: 20.0, 3: 20.0, 4: 20.0, 5: 40.0}
    assert (clarify["agree_3_or_more"], clarify["agree_4_or_more"]) == (80.0, 60.0)
    assert clarify["text"] == "Did it help you clarify what was important to you?"
    with_bot = selectors.legitimacy_table(study, include_simulated=True)[0]
    # With the simulated participant's 1: n = 6, 1: 1/6 = 16.7%, agree (3+) = 4/6 = 66.7%.
    assert with_bot["n"] == 6 and with_bot["distribution"][1] == 16.7 and with_bot["agree_3_or_more"] == 66.7

    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("survey_results", study=study.slug, stdout=out)
    assert "clarify" in out.getvalue() and " 80.0%" in out.getvalue()


def test_answers_reach_the_study_export_keyed_by_pseudonymous_id(study):
    participant, client = at_step(study, "exported")
    _submit(client, study, full_answers("4", clarify="2"))
    rows = selectors.export_rows([participant.pk])
    assert len(rows) == 6
    assert rows[0][:5] == (participant.pk, "clarify", 1, "likert5", "2")
    assert selectors.answers_by_participant([participant.pk]) == {participant.pk: full_answers("4", clarify="2")}


def test_a_bank_without_survey_step_questions_lets_the_participant_finish(study):
    from surveys.models import SurveyItem

    draft = services.new_version(study)
    SurveyItem.objects.filter(bank=draft, when="journey").delete()
    services.publish_bank(draft)
    participant, client = at_step(study, "nothing-to-ask")
    assert participant.current_step == Step.COMPLETE
    assert "MGEDONE1" in client.get(f"/s/{study.slug}/journey/").content.decode()
