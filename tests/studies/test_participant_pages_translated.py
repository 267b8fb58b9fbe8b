"""What the server writes on a participant's pages besides the templates'
own text is in their language too (issue 27): the survey's questions and
answer labels, form errors, the story vote's answers and refusals, the
deletion receipt, the follow-up page reached from a link, and refusals of
text that cannot be saved. A coordinator's own wording is shown as written."""

import re
from html import unescape

import pytest
from django.test import Client

from graph import stories
from graph.models import StoryAssignment
from studies.models import Participant, Step, Study
from surveys.models import FollowUpLink
from tests.factories import (
    at_step,
    consented_participant,
    finished_participant,
    move_to,
    parent_with_card,
    run_interview,
)

pytestmark = pytest.mark.django_db


def _speaks(participant, language):
    study = participant.study
    Study.objects.filter(pk=study.pk).update(languages=["en", "es", "ar", "zh-hans"])
    Participant.objects.filter(pk=participant.pk).update(language=language)


def _page(response) -> str:
    return unescape(response.content.decode())


def test_the_survey_asks_its_default_questions_with_spanish_answers_and_errors(study):
    participant, client = at_step(study, "encuestado", step=Step.SURVEY)
    _speaks(participant, "es")
    page = _page(client.get(f"/s/{study.slug}/journey/"))
    assert '<html lang="es"' in page
    assert "¿Le ayudó a aclarar lo que era importante para usted?" in page
    assert "Totalmente de acuerdo" in page and "Ni de acuerdo ni en desacuerdo" in page
    assert "Strongly agree" not in page and "Did it help you clarify" not in page

    refused = client.post(f"/s/{study.slug}/survey/", {})
    assert refused.status_code == 400
    assert "Elija una respuesta." in _page(refused) and "Please choose an answer." not in _page(refused)


def test_a_coordinator_s_own_question_is_shown_as_written(study):
    from surveys import services

    draft = services.new_version(study)
    draft.items.filter(key="clarify").update(text="¿Qué tal el estudio? (pregunta propia)")
    services.publish_bank(draft)
    participant, client = at_step(study, "encuestada", step=Step.SURVEY)
    _speaks(participant, "es")
    page = _page(client.get(f"/s/{study.slug}/journey/"))
    assert "¿Qué tal el estudio? (pregunta propia)" in page
    assert "¿Los valores que envió y votó expresan lo que le importa?" in page  # the paper's, translated


def test_an_arabic_participant_withdraws_and_reads_the_receipt_in_arabic(study):
    study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    study.save(update_fields=["withdrawal_policy"])
    participant, client = consented_participant(study, "ar-leaver")
    run_interview(participant, study.scenarios.get(key="parenting"))
    _speaks(participant, "ar")

    too_long = _page(client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes", "reason": "x" * 501}))
    assert "رسالتك: الحد الأقصى 500 حرفًا" in too_long and "at most" not in too_long

    page = _page(client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"}))
    assert '<html lang="ar" dir="rtl">' in page
    cells = re.findall(r'<tr data-key="([a-z_]+)"><td>([^<]+)</td>', page)
    labels = dict(cells)
    assert labels["messages"] == "رسائل المحادثة" and labels["interviews"] == "المقابلات"
    assert "chat messages" not in page.lower()


def test_a_chinese_participant_s_story_votes_are_answered_in_chinese(graph_study):
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    participant, client = parent_with_card(study, "zh-judge", values[1])
    _speaks(participant, "zh-hans")
    move_to(participant, Step.STORIES)
    page = _page(client.get(f"/s/{study.slug}/journey/"))
    assert '<html lang="zh-hans"' in page
    assert "这个人变得更明智了吗？" in page and "是，更明智了" in page and "不确定" in page
    assignment = StoryAssignment.objects.filter(participant=participant).order_by("position")[0]
    refused = client.post(f"/s/{study.slug}/stories/vote/", {"assignment": assignment.pk, "answer": "maybe"})
    assert refused.status_code == 400 and "请选择“是”、“否”或“不确定”。" in _page(refused)
    lost = client.post(f"/s/{study.slug}/stories/vote/", {"assignment": "0", "answer": "yes"})
    assert lost.status_code == 400 and "找不到那个故事。请回答这一个。" in _page(lost)


def test_the_follow_up_page_is_in_the_participant_s_language(study):
    from surveys import services

    participant = finished_participant(study, "volviendo")[0]
    _speaks(participant, "es")
    services.issue_follow_up_links(participant.study, days_valid=30)
    link = FollowUpLink.objects.get(participant=participant)
    client = Client()
    page = _page(client.get(f"/f/{link.token}/"))
    assert '<html lang="es"' in page
    assert "Preguntas de seguimiento" in page
    assert "¿Este valor representa lo que le importa?" in page
    assert "Sí, representa lo que me importa" in page
    assert "¿Algo está mal en cómo se le representa? Impúgnelo" in page

    missing = client.post(f"/f/{link.token}/", {"dedup_represents": "partly"})
    assert missing.status_code == 400 and "Elija una respuesta." in _page(missing)

    # A link that is nobody's cannot say whose language to use: the platform's own.
    unknown = _page(Client().get("/f/not-a-token/"))
    assert '<html lang="en" dir="ltr">' in unknown and "This link does not work" in unknown

    # The disputes page reached from the link is in Spanish too.
    disputes = _page(client.get(f"/f/{link.token}/disputes/"))
    assert '<html lang="es"' in disputes and "Sus impugnaciones" in disputes
