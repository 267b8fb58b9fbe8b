"""Audit answers from a JSONL file against a study's moral graph
(docs/alignment-target.md)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from alignment import selectors, services
from graph.models import GraphSnapshot
from studies import selectors as study_selectors


def read_lines(stream):
    """(line number, {"prompt", "answer"} or None, problem) for each non-blank line."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as err:
            yield number, None, f"not JSON ({err.msg})"
            continue
        if not isinstance(item, dict):
            yield number, None, "not a JSON object"
            continue
        missing = [k for k in ("prompt", "answer") if not isinstance(item.get(k), str) or not item[k].strip()]
        if missing:
            yield number, None, f"needs {' and '.join(repr(k) for k in missing)} as non-empty text"
            continue
        yield number, item, ""


class Command(BaseCommand):
    help = (
        'Audit answers against a study\'s moral graph. Reads JSONL lines {"prompt": ..., "answer": ...}; '
        "writes one JSON result per good line. Bad lines are reported by number and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's slug")
        parser.add_argument("--in", dest="infile", required=True, help="JSONL input ('-' for stdin)")
        parser.add_argument("--out", dest="outfile", help="JSONL output (default: stdout)")
        parser.add_argument("--snapshot", type=int, help="a graph snapshot id (default: the study's latest)")

    def handle(self, *args, study, infile, outfile=None, snapshot=None, **options):
        study_obj = study_selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        graph = None
        if snapshot is not None:
            graph = GraphSnapshot.objects.filter(study=study_obj, pk=snapshot).first()
            if graph is None:
                raise CommandError(f"Study {study!r} has no graph snapshot {snapshot}.")
        try:
            source = sys.stdin if infile == "-" else open(infile, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as err:
            raise CommandError(f"Cannot read {infile}: {err}") from err
        out = open(outfile, "w", encoding="utf-8") if outfile else self.stdout  # noqa: SIM115 - closed below
        audited = bad = 0
        try:
            for number, item, problem in read_lines(source):
                if problem:
                    bad += 1
                    self.stderr.write(f"line {number}: {problem}; skipped")
                    continue
                audit = services.audit_answer(study_obj, item["prompt"], item["answer"], graph)
                record = {"line": number, **selectors.audit_record(audit)}
                out.write(json.dumps(record, ensure_ascii=False) + ("\n" if outfile else ""))
                audited += 1
        finally:
            if source is not sys.stdin:
                source.close()
            if outfile:
                out.close()
        self.stderr.write(f"{audited} answer(s) audited, {bad} bad line(s) skipped.")
