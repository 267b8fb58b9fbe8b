"""A study's data for analysis: long-format CSV files (one row per event),
a wide per-participant CSV, the moral graph as JSON, and a codebook.

Rows are keyed by the pseudonymous participant id. Prolific identifiers are
left out unless a coordinator asks for them with a stated reason, which is
recorded as a domain event. Simulated participants are left out unless
asked for.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

from django.db import transaction

from graph import interchange
from graph import selectors as graph_selectors
from graph.models import StoryAssignment, WisdomVote
from interviews import selectors
from interviews.models import ChatMessage, TranscriptRating
from journey import events
from mgeplatform.audit import record_event
from studies.models import Participant, ProlificDemographics, ProlificIdentity, Step, StepTiming
from surveys import selectors as survey_selectors
from values.models import CanonicalApproval, CanonicalValue, DeduplicationDecision, RelevanceItem, ValuesCard

# Prolific's identifiers in its demographic export: they would link the
# pseudonymous data back to Prolific accounts, so they are not kept.
PROLIFIC_ID_COLUMNS = {"submission id", "session id", "study id"}

CODEBOOK = Path(__file__).resolve().parent.parent / "docs" / "export-codebook.md"


def _participants(study, include_simulated: bool):
    participants = Participant.objects.filter(study=study)
    return participants.for_analysis(include_simulated)


def _write(directory: Path, name: str, header: list[str], rows) -> int:
    n = 0
    with (directory / name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            n += 1
    return n


def _iso(value):
    return value.isoformat() if value else None


def long_tables(study, pids) -> dict[str, tuple[list[str], object]]:
    """{file name: (header, rows)} for every event-level table."""

    tables = {
        "participants_steps.csv": (["participant", "step", "started_at", "ended_at", "seconds"], (
            (t.participant_id, t.step, _iso(t.started_at), _iso(t.ended_at), t.seconds)
            for t in StepTiming.objects.filter(participant__in=pids).order_by("participant", "started_at"))),
        "messages.csv": (["participant", "interview", "scenario", "seq", "role", "content", "created_at"], (
            (m.interview.participant_id, m.interview_id, m.interview.scenario.key, m.seq, m.role, m.content,
             _iso(m.created_at))
            for m in ChatMessage.objects.filter(interview__participant__in=pids,
                                                role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT])
            .exclude(content="").select_related("interview__scenario").order_by("interview", "seq"))),
        "cards.csv": (["participant", "interview", "card", "revision", "title", "description", "policies", "source",
                       "submitted", "canonical_value", "created_at"], (
            (c.interview.participant_id, c.interview_id, c.pk, c.revision, c.title, c.description,
             " | ".join(c.policies), c.source, c.submitted, c.canonical_id, _iso(c.created_at))
            for c in ValuesCard.objects.filter(interview__participant__in=pids).select_related("interview")
            .order_by("interview", "revision"))),
        "dedup_decisions.csv": (["participant", "card", "kind", "outcome", "matched_value", "candidates",
                                 "created_at"], (
            (d.card.interview.participant_id, d.card_id, d.kind, d.outcome, d.matched_id,
             json.dumps(d.candidates), _iso(d.created_at))
            for d in DeduplicationDecision.objects.filter(card__interview__participant__in=pids)
            .select_related("card__interview").order_by("created_at"))),
        "approvals.csv": (["participant", "card", "canonical_value", "answer", "created_at"], (
            (a.card.interview.participant_id, a.card_id, a.canonical_id, a.answer, _iso(a.created_at))
            for a in CanonicalApproval.objects.filter(card__interview__participant__in=pids)
            .select_related("card__interview").order_by("created_at"))),
        "canonical_values.csv": (["canonical_value", "title", "description", "policies", "origin", "merged_into",
                                  "external_id", "created_at"], (
            (v.pk, v.title, v.description, " | ".join(v.policies), v.origin, v.merged_into_id, v.external_id,
             _iso(v.created_at)) for v in CanonicalValue.objects.filter(study=study).order_by("pk"))),
        "relevance.csv": (["participant", "canonical_value", "position", "pool", "value_scenario", "own_scenario",
                           "relevant", "drawn_at"], (
            (i.draw.participant_id, i.canonical_id, i.position, i.pool, i.source_scenario_id, i.draw.scenario_id,
             i.relevant, _iso(i.draw.created_at))
            for i in RelevanceItem.objects.filter(draw__participant__in=pids).select_related("draw")
            .order_by("draw", "position"))),
        "story_impressions.csv": (["participant", "story", "from_value", "to_value", "context", "position",
                                   "shown_at"], (
            (a.participant_id, a.story_id, a.story.from_value_id, a.story.to_value_id, a.story.context_id,
             a.position, _iso(a.shown_at))
            for a in StoryAssignment.objects.filter(participant__in=pids).select_related("story")
            .order_by("participant", "position"))),
        "votes.csv": (["participant", "from_value", "to_value", "context", "story", "answer", "reason",
                       "time_taken_ms", "created_at", "updated_at"], (
            (v.participant_id, v.from_value_id, v.to_value_id, v.context_id, v.story_id, v.answer, v.reason,
             v.time_taken_ms, _iso(v.created_at), _iso(v.updated_at))
            for v in WisdomVote.objects.filter(participant__in=pids).order_by("created_at"))),
        "ratings.csv": (["participant", "interview", "kind", "score", "is_expert", "question", "prompt_version",
                         "created_at"], (
            (r.interview.participant_id, r.interview_id, r.kind, r.score, r.is_expert, r.question,
             r.prompt_version, _iso(r.created_at))
            for r in TranscriptRating.objects.filter(interview__participant__in=pids).select_related("interview")
            .order_by("created_at"))),
    }
    tables["survey_answers.csv"] = _survey_table(pids)
    return tables


def _survey_table(pids):
    return (["participant", "item", "bank_version", "kind", "answer", "created_at", "updated_at"],
            survey_selectors.export_rows(pids))


def wide_rows(study, pids) -> tuple[list[str], list[list]]:
    """One row per participant: where they got to, how long each step took,
    their card and value, their vote and survey counts, ratings,
    demographics if imported."""

    participants = list(Participant.objects.filter(pk__in=pids).order_by("created_at"))
    steps = [s for s in Step.values]
    seconds = defaultdict(dict)
    for t in StepTiming.objects.filter(participant__in=pids):
        seconds[t.participant_id][t.step] = t.seconds
    cards = {}
    for c in ValuesCard.objects.filter(interview__participant__in=pids, submitted=True).select_related(
            "interview__scenario").order_by("submitted_at"):
        cards[c.interview.participant_id] = c
    approvals = {a.card_id: a.answer for a in CanonicalApproval.objects.filter(card__interview__participant__in=pids)}
    votes = defaultdict(lambda: defaultdict(int))
    for v in WisdomVote.objects.filter(participant__in=pids).values("participant_id", "answer"):
        votes[v["participant_id"]][v["answer"]] += 1
    rated = TranscriptRating.objects.filter(interview__participant__in=pids)
    ideology = selectors.latest_ratings(rated.filter(kind="ideology"), "score")
    expert = selectors.latest_ratings(rated.filter(kind="expert"), "is_expert")
    survey = _survey_wide(pids)
    survey_keys = sorted({k for answers in survey.values() for k in answers})
    demographics = {d.participant_id: d.data for d in _demographics(pids)}
    demo_keys = sorted({k for data in demographics.values() for k in data})
    header = (["participant", "simulated", "via_prolific", "current_step", "joined_at", "scenario", "card_title",
               "canonical_value", "approval", "votes_yes", "votes_no", "votes_unsure", "ideology_score", "expert"]
              + [f"seconds_{s}" for s in steps] + [f"survey_{k}" for k in survey_keys]
              + [f"demographic_{k}" for k in demo_keys])
    rows = []
    for p in participants:
        card = cards.get(p.pk)
        rows.append([p.pk, p.simulated, p.via_prolific, p.current_step, _iso(p.created_at),
                     card.interview.scenario.key if card else None, card.title if card else None,
                     card.canonical_id if card else None, approvals.get(card.pk) if card else None,
                     votes[p.pk]["yes"], votes[p.pk]["no"], votes[p.pk]["unsure"],
                     ideology.get(p.pk), expert.get(p.pk)]
                    + [seconds[p.pk].get(s) for s in steps] + [survey.get(p.pk, {}).get(k) for k in survey_keys]
                    + [demographics.get(p.pk, {}).get(k) for k in demo_keys])
    return header, rows


def _survey_wide(pids) -> dict:
    return survey_selectors.answers_by_participant(pids)


def _demographics(pids):
    return ProlificDemographics.objects.filter(participant__in=pids)


def export_study(study, directory: Path, *, include_simulated: bool = False, identities_reason: str = "",
                 user=None) -> dict:
    """Write every file into `directory`; returns {file: rows}. Identities
    are written only with a reason, and the export is audited either way."""
    directory.mkdir(parents=True, exist_ok=True)
    pids = list(_participants(study, include_simulated).values_list("pk", flat=True))
    written = {}
    for name, (header, rows) in long_tables(study, pids).items():
        written[name] = _write(directory, name, header, rows)
    header, rows = wide_rows(study, pids)
    written["participants.csv"] = _write(directory, "participants.csv", header, rows)

    snapshot = graph_selectors.latest_snapshot(study)
    if snapshot is not None:
        interchange.write_json(snapshot, directory / "moral_graph.json")
        written["moral_graph.json"] = len(snapshot.edges)
    shutil.copyfile(CODEBOOK, directory / "codebook.md")
    if identities_reason.strip():
        written["prolific_identities.csv"] = _write(
            directory, "prolific_identities.csv", ["participant", "prolific_pid", "prolific_study_id",
                                                   "prolific_session_id"],
            ProlificIdentity.objects.filter(participant__in=pids).values_list(
                "participant_id", "prolific_pid", "prolific_study_id", "prolific_session_id"))
    record_event(events.STUDY_EXPORTED, user=user, study_slug=study.slug, subject=study,
                 payload={"files": written, "include_simulated": include_simulated,
                          "identities": bool(identities_reason.strip()), "reason": identities_reason.strip()})
    return written


def import_demographics(study, raw: bytes, *, source_name: str, user=None) -> dict:
    """Prolific's demographics export, matched to participants by their
    Prolific ID ("Participant id" column). Rows for unknown IDs are counted,
    not stored."""
    import io


    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"The file is not UTF-8 text: {err}") from err
    reader = csv.DictReader(io.StringIO(text))
    id_column = next((c for c in reader.fieldnames or [] if c.strip().lower() in ("participant id", "participant_id",
                                                                                  "prolific_pid")), None)
    if id_column is None:
        raise ValueError('The file has no "Participant id" column: is it Prolific\'s demographic export?')
    by_pid = dict(ProlificIdentity.objects.filter(study=study).values_list("prolific_pid", "participant_id"))
    matched = unmatched = 0
    with transaction.atomic():
        for row in reader:
            pid = (row.get(id_column) or "").strip()
            participant_id = by_pid.get(pid)
            if participant_id is None:
                unmatched += 1
                continue
            data = {k.strip(): (v or "").strip() for k, v in row.items()
                    if k and k != id_column and k.strip().lower() not in PROLIFIC_ID_COLUMNS}
            ProlificDemographics.objects.update_or_create(participant_id=participant_id,
                                                          defaults={"data": data, "source_name": source_name})
            matched += 1
        summary = {"matched": matched, "unmatched": unmatched, "source": source_name}
        record_event(events.STUDY_DEMOGRAPHICS_IMPORTED, user=user, study_slug=study.slug, subject=study,
                     payload=summary)
    return summary

