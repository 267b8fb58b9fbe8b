"""A study's data for analysis: long-format CSV files (one row per event),
a wide per-participant CSV, the moral graph as JSON, and a codebook.

Rows are keyed by the pseudonymous participant id. Prolific identifiers are
left out unless a coordinator asks for them with a stated reason, which is
recorded as a domain event. Simulated participants are left out unless
asked for.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import defaultdict
from pathlib import Path

from django.db import transaction

from graph import interchange
from graph import selectors as graph_selectors
from graph.models import WisdomVote
from interviews import selectors
from interviews.models import Interview, TranscriptRating
from journey import events, weighting
from mgeplatform import csvfiles
from mgeplatform.audit import record_event
from studies import contributions
from studies import selectors as study_selectors
from studies.contributions import iso
from studies.models import Participant, ProlificDemographics, ProlificIdentity, RetestInvitation, Step, StepTiming
from surveys import selectors as survey_selectors
from values.models import CanonicalApproval, ValuesCard
from weights import services as weight_services

# Prolific's identifiers in its demographic export: they would link the
# pseudonymous data back to Prolific accounts, so they are not kept.
PROLIFIC_ID_COLUMNS = {"submission id", "session id", "study id"}

CODEBOOK = Path(__file__).resolve().parent.parent / "docs" / "export-codebook.md"


def _write(directory: Path, name: str, header: list[str], rows) -> int:
    n = 0
    with (directory / name).open("w", newline="", encoding="utf-8") as fh:
        writer = csvfiles.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def long_tables(study, pids) -> dict[str, tuple[list[str], object]]:
    """{file name: (header, rows)} for every event-level table, as the apps
    registered them (studies.contributions)."""
    return {table.name: (table.header, table.rows(study, pids)) for table in contributions.export_tables()}


def wide_rows(study, pids) -> tuple[list[str], list[list]]:
    """One row per participant: where they got to, how long each step took,
    their card and value, their vote and survey counts, ratings,
    demographics if imported."""

    participants = list(Participant.objects.filter(pk__in=pids).select_related("arm").order_by("created_at"))
    steps = list(Step.values)
    seconds: dict = defaultdict(dict)
    for t in StepTiming.objects.filter(participant__in=pids):
        seconds[t.participant_id][t.step] = t.seconds
    skipped = study_selectors.skipped_steps(pids)
    cards = {}
    for c in (
        ValuesCard.objects.filter(interview__participant__in=pids, submitted=True)
        .select_related("interview__scenario")
        .order_by("submitted_at")
    ):
        cards[c.interview.participant_id] = c
    # The latest round each took part in (an interview of it; 1 without a retest) and the retest rounds
    # they were invited to (studies.rounds).
    rounds: dict = defaultdict(lambda: 1)
    for pid, number in Interview.objects.filter(participant__in=pids).values_list("participant_id", "round"):
        rounds[pid] = max(rounds[pid], number)
    invited: dict = defaultdict(list)
    for pid, number in (
        RetestInvitation.objects.filter(participant__in=pids)
        .order_by("round__number")
        .values_list("participant_id", "round__number")
    ):
        invited[pid].append(str(number))
    approvals = {a.card_id: a.answer for a in CanonicalApproval.objects.filter(card__interview__participant__in=pids)}
    votes: dict = defaultdict(lambda: defaultdict(int))
    for v in WisdomVote.objects.filter(participant__in=pids).values("participant_id", "answer"):
        votes[v["participant_id"]][v["answer"]] += 1
    rated = TranscriptRating.objects.filter(interview__participant__in=pids)
    ideology = selectors.latest_ratings(rated.filter(kind="ideology"), "score")
    expert = selectors.latest_ratings(rated.filter(kind="expert"), "is_expert")
    survey = survey_selectors.answers_by_participant(pids)
    survey_keys = sorted({k for answers in survey.values() for k in answers})
    demographics = {d.participant_id: d.data for d in ProlificDemographics.objects.filter(participant__in=pids)}
    demo_keys = sorted({k for data in demographics.values() for k in data})
    header = (
        [
            "participant",
            "simulated",
            "via_prolific",
            "arm",
            "round",
            "retest_invited",
            "current_step",
            "joined_at",
            "scenario",
            "card_title",
            "canonical_value",
            "approval",
            "votes_yes",
            "votes_no",
            "votes_unsure",
            "ideology_score",
            "expert",
            "steps_skipped",
        ]
        + [f"seconds_{s}" for s in steps]
        + [f"survey_{k}" for k in survey_keys]
        + [f"demographic_{k}" for k in demo_keys]
    )
    rows = []
    for p in participants:
        card = cards.get(p.pk)
        rows.append(
            [
                p.pk,
                p.simulated,
                p.via_prolific,
                p.arm.name if p.arm else None,
                rounds[p.pk],
                ";".join(invited[p.pk]),
                p.current_step,
                iso(p.created_at),
                card.interview.scenario.key if card else None,
                card.title if card else None,
                card.canonical_id if card else None,
                approvals.get(card.pk) if card else None,
                votes[p.pk]["yes"],
                votes[p.pk]["no"],
                votes[p.pk]["unsure"],
                ideology.get(p.pk),
                expert.get(p.pk),
                ";".join(s for s in steps if s in skipped.get(p.pk, ())),
            ]
            + [seconds[p.pk].get(s) for s in steps]
            + [survey.get(p.pk, {}).get(k) for k in survey_keys]
            + [demographics.get(p.pk, {}).get(k) for k in demo_keys]
        )
    return header, rows


def export_study(
    study, directory: Path, *, include_simulated: bool = False, identities_reason: str = "", user=None
) -> dict:
    """Write every file into `directory`; returns {file: rows}. Identities
    are written only with a reason, and the export is audited either way."""
    directory.mkdir(parents=True, exist_ok=True)
    pids = list(study.participants.for_analysis(include_simulated).values_list("pk", flat=True))
    written = {}
    for name, (header, rows) in long_tables(study, pids).items():
        written[name] = _write(directory, name, header, rows)
    header, rows = wide_rows(study, pids)
    written["participants.csv"] = _write(directory, "participants.csv", header, rows)

    snapshot = graph_selectors.latest_snapshot(study)
    if snapshot is not None:
        interchange.write_json(snapshot, directory / "moral_graph.json")
        written["moral_graph.json"] = len(snapshot.edges)
    run = weight_services.latest_run(study)
    if run is not None:
        written["weights.csv"] = _write(
            directory,
            "weights.csv",
            ["participant_id", "weight", "cell"],
            run.weights.filter(participant__in=pids)
            .order_by("participant_id")
            .values_list("participant_id", "weight", "cell"),
        )
        weighted_tables = weighting.export_rows(study, include_simulated=include_simulated)
        if weighted_tables is not None:
            written[weighting.EXPORT_NAME] = _write(
                directory, weighting.EXPORT_NAME, weighting.EXPORT_HEADER, weighted_tables
            )
    shutil.copyfile(CODEBOOK, directory / "codebook.md")
    if identities_reason.strip():
        written["prolific_identities.csv"] = _write(
            directory,
            "prolific_identities.csv",
            ["participant", "prolific_pid", "prolific_study_id", "prolific_session_id"],
            ProlificIdentity.objects.filter(participant__in=pids).values_list(
                "participant_id", "prolific_pid", "prolific_study_id", "prolific_session_id"
            ),
        )
    record_event(
        events.STUDY_EXPORTED,
        user=user,
        study_slug=study.slug,
        subject=study,
        payload={
            "files": written,
            "include_simulated": include_simulated,
            "identities": bool(identities_reason.strip()),
            "reason": identities_reason.strip(),
        },
    )
    return written


def import_demographics(study, raw: bytes, *, source_name: str, user=None) -> dict:
    """Prolific's demographics export, matched to participants by their
    Prolific ID ("Participant id" column). Rows for unknown IDs are counted,
    not stored."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"The file is not UTF-8 text: {err}") from err
    reader = csv.DictReader(io.StringIO(text))
    id_column = next(
        (
            c
            for c in reader.fieldnames or []
            if c.strip().lower() in ("participant id", "participant_id", "prolific_pid")
        ),
        None,
    )
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
            data = {
                k.strip(): (v or "").strip()
                for k, v in row.items()
                if k and k != id_column and k.strip().lower() not in PROLIFIC_ID_COLUMNS
            }
            ProlificDemographics.objects.update_or_create(
                participant_id=participant_id, defaults={"data": data, "source_name": source_name}
            )
            matched += 1
        summary = {"matched": matched, "unmatched": unmatched, "source": source_name}
        record_event(
            events.STUDY_DEMOGRAPHICS_IMPORTED, user=user, study_slug=study.slug, subject=study, payload=summary
        )
    return summary
