"""`manage.py audit_answers`: JSONL in, one JSON result per good line out;
bad lines are reported by number and skipped."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alignment.models import AnswerAudit
from tests.alignment.conftest import FOLLOWS_AUTONOMY, FOLLOWS_STRICT, PROMPT

pytestmark = pytest.mark.django_db


def test_audits_each_good_line_and_reports_the_bad_one(target, tmp_path):
    source, out = tmp_path / "answers.jsonl", tmp_path / "audits.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"prompt": PROMPT, "answer": FOLLOWS_AUTONOMY}),
                '{"prompt": "half a line',
                "",
                json.dumps({"prompt": PROMPT, "answer": FOLLOWS_STRICT}),
                json.dumps({"prompt": PROMPT}),
            ]
        )
        + "\n"
    )
    err = StringIO()
    call_command("audit_answers", study=target.study.slug, infile=str(source), outfile=str(out), stderr=err)
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in results] == [1, 4]
    assert [r["verdicts"][0]["follows_winner"] for r in results] == [True, False]
    assert results[1]["verdicts"][0]["follows_best_title"] == "Strict rules"
    assert results[0]["snapshot"] == target.snapshot.pk
    assert {r["audit"] for r in results} == set(AnswerAudit.objects.values_list("pk", flat=True))
    report = err.getvalue()
    assert "line 2: not JSON" in report and "line 5: needs 'answer'" in report
    assert "2 answer(s) audited, 2 bad line(s) skipped." in report


def test_an_unknown_study_or_snapshot_stops_before_any_audit(target, tmp_path):
    source = tmp_path / "answers.jsonl"
    source.write_text(json.dumps({"prompt": PROMPT, "answer": FOLLOWS_AUTONOMY}) + "\n")
    with pytest.raises(CommandError, match="No study"):
        call_command("audit_answers", study="nope", infile=str(source))
    with pytest.raises(CommandError, match="no graph snapshot"):
        call_command("audit_answers", study=target.study.slug, infile=str(source), snapshot=999999)
    assert not AnswerAudit.objects.exists()
