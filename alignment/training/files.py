"""The files of a training-data run, written from its rows each time:
`sft.jsonl`, `preferences.jsonl` and a dataset card naming whose data it used."""

from __future__ import annotations

import json
from pathlib import Path

from alignment.models import TrainingExample, TrainingRun
from alignment.training.examples import DROP_REASONS, counts, prompt_versions
from graph import selectors as graph_selectors
from graph.models import WisdomVote
from studies import selectors as study_selectors


def participants_behind(run: TrainingRun) -> int:
    """Distinct participants whose votes are behind the edges of the kept pairs."""
    used = {}
    for row in run.examples.filter(kind=TrainingExample.Kind.PAIR, status=TrainingExample.Status.KEPT):
        source, target = (int(v) for v in row.edge.split(">"))
        used.setdefault((source, target), set()).add(row.context_id)
    people = set()
    for (source, target), _ in used.items():
        edge = next((e for e in run.snapshot.edges or [] if e["source"] == source and e["target"] == target), {})
        people.update(
            WisdomVote.objects.filter(
                study=run.study,
                from_value_id=source,
                to_value_id=target,
                context_id__in=edge.get("contexts", []),
                participant__isnull=False,
            ).values_list("participant_id", flat=True)
        )
    return len(people)


FILES = {"sft.jsonl": TrainingExample.Kind.SFT, "preferences.jsonl": TrainingExample.Kind.PAIR, "dataset_card.md": None}


def jsonl_lines(run: TrainingRun, kind: str):
    """The lines of sft.jsonl (kind sft) or preferences.jsonl (kind pair),
    each ending in a newline, from the run's kept examples: one per unit."""
    rows = (
        run.examples.filter(kind=kind, status=TrainingExample.Status.KEPT, line__isnull=False)
        .order_by("prompt_index", "context_id", "edge")
        .values_list("line", flat=True)
    )
    for line in rows.iterator(chunk_size=500):
        yield json.dumps(line, ensure_ascii=False) + "\n"


def file_text(run: TrainingRun, name: str) -> str:
    """One of the run's files (FILES) as text, built from its rows."""
    kind = FILES[name]
    return dataset_card(run) if kind is None else "".join(jsonl_lines(run, kind))


def write_files(run: TrainingRun, out_dir) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, kind in FILES.items():
        if kind is None:
            (out / name).write_text(dataset_card(run), encoding="utf-8")
            continue
        with (out / name).open("w", encoding="utf-8") as handle:
            handle.writelines(jsonl_lines(run, kind))
    return {
        "sft": str(out / "sft.jsonl"),
        "preferences": str(out / "preferences.jsonl"),
        "card": str(out / "dataset_card.md"),
    }


def _lineage_line(snapshot) -> str:
    lineage = graph_selectors.lineage(snapshot)
    if not lineage["recorded"]:
        return "not recorded (the snapshot predates lineage records)."
    if not lineage["withdrawn"]:
        return "no participant whose data the snapshot used has withdrawn since it was built."
    return lineage["text"] + " Run the export again on the rebuilt snapshot to leave them out."


def dataset_card(run: TrainingRun) -> str:
    snapshot, study, c = run.snapshot, run.study, counts(run)
    consent = study_selectors.current_consent(study)
    models = sorted(
        {
            row.line["metadata"].get("model", "")
            for row in run.examples.filter(status=TrainingExample.Status.KEPT, line__isnull=False)
        }
        - {""}
    )
    lines = [
        f"# Training data from the moral graph of study {study.slug}",
        "",
        f"Run {run.pk} ({run.get_status_display()}{': ' + run.stop_reason if run.stop_reason else ''}).",
        "",
        "## Built from",
        "",
        f"- Study: {study.slug} (id {study.pk}).",
        f"- Graph snapshot: {snapshot.pk}, built {snapshot.created_at:%Y-%m-%d %H:%M} UTC; parameters: "
        f"`{json.dumps(snapshot.parameters or {}, sort_keys=True)}`.",
        f"- Prompts: {len(run.prompts)} ({sum(p['source'].startswith('scenario:') for p in run.prompts)} from the "
        "study's scenarios, the rest from the prompt file).",
        f"- Models: {', '.join(models) or 'none recorded'}.",
        "- Prompt files: "
        + "; ".join(f"{name} v{v['version']} (sha256 {v['sha256'][:16]})" for name, v in prompt_versions().items())
        + ".",
        f"- Participants behind the edges used: {participants_behind(run)} (distinct voters on the kept pairs' "
        "edges, in those edges' contexts; 0 for a graph without recorded votes).",
        f"- Withdrawals: {_lineage_line(snapshot)}",
        "",
        "## Counts",
        "",
        f"- SFT examples (`sft.jsonl`): {c['sft']}.",
        f"- Preference pairs (`preferences.jsonl`): {c['pairs']}.",
        f"- Prompts in no context: {c['prompts_without_context']}; prompts whose contexts could not be found: "
        f"{c['detection_failed']}.",
        "- Dropped:" + ("" if c["dropped"] else " none."),
    ]
    for key, n in sorted(c["dropped"].items()):
        kind, reason = key.split(":", 1)
        lines.append(f"  - {n} {kind}: {reason} ({DROP_REASONS.get(reason, reason)}).")
    lines += [
        "",
        "## Licence and consent",
        "",
        f"Built from the votes and values of participants of study {study.slug} under its consent form "
        f"{'version ' + consent.version_label if consent else '(no active consent form)'}"
        f"{' (IRB protocol ' + consent.irb_protocol_id + ')' if consent and consent.irb_protocol_id else ''}. "
        "Use it only as that consent allows; the guided answers are model outputs and subject to the terms "
        "of the model providers named above. Every line's `metadata` traces it to the snapshot, values, "
        "edge, vote counts and LLM calls (see docs/alignment-target.md, Training data).",
        "",
    ]
    return "\n".join(lines)
