"""The answer audits in the admin: coordinators run an audit by pasting a
prompt and answer; auditors read audits, with links to values and model
calls, but cannot run one."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from alignment import services
from alignment.models import AnswerAudit
from tests.alignment.conftest import FOLLOWS_AUTONOMY, PROMPT

pytestmark = pytest.mark.django_db

RUN = "/admin/alignment/answeraudit/run/"


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_coordinator_pastes_a_prompt_and_answer_and_sees_the_audit(target, coordinator):
    client = _client(coordinator)
    assert "Audit an answer" in client.get(reverse("admin:alignment_answeraudit_changelist")).content.decode()
    response = client.post(RUN, {"study": target.study.pk, "prompt": PROMPT, "answer": FOLLOWS_AUTONOMY})
    audit = AnswerAudit.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{audit.pk}/change/")
    assert audit.created_by == coordinator
    page = unescape(client.get(response["Location"]).content.decode())
    assert target.child.text in page and "yes: Informed autonomy" in page
    assert "Let the child make some choices alone" in page


def test_a_graph_from_another_study_is_refused(target, coordinator):
    from studies.services import seed_case_study  # a second study only this test needs

    other, _ = seed_case_study(slug="another-study")
    response = _client(coordinator).post(
        RUN, {"study": other.pk, "snapshot": target.snapshot.pk, "prompt": PROMPT, "answer": FOLLOWS_AUTONOMY}
    )
    assert response.status_code == 200 and "belongs to another study" in response.content.decode()
    assert not AnswerAudit.objects.exists()


def test_an_auditor_reads_audits_and_their_trail_but_cannot_run_one(target, auditor):
    audit = services.audit_answer(target.study, PROMPT, FOLLOWS_AUTONOMY)
    client = _client(auditor)
    listing = client.get(reverse("admin:alignment_answeraudit_changelist")).content.decode()
    assert PROMPT[:40] in listing and "Audit an answer" not in listing
    page = client.get(reverse("admin:alignment_answeraudit_change", args=[audit.pk])).content.decode()
    judge_call = audit.items.get(value=target.autonomy).llm_call_id
    assert reverse("admin:mgeplatform_llmcall_change", args=[judge_call]) in page
    assert reverse("admin:values_canonicalvalue_change", args=[target.autonomy.pk]) in page
    assert 'name="_save"' not in page  # read-only
    assert client.get(RUN).status_code == 403
    assert client.post(RUN, {"study": target.study.pk, "prompt": PROMPT, "answer": "x"}).status_code == 403
    assert AnswerAudit.objects.count() == 1
