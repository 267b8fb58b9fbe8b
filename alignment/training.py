"""Training data from a moral graph (paper 6.2): for each prompt of a prompt
set, the moral contexts it is in; per context, an answer guided by the
graph's winner there (supervised fine-tuning) and, per kept edge in the
context, answers guided by the less wise and the wiser value, judged for
adherence to the wiser value's policies (preference pairs).

Progress is stored per (prompt, context, edge) in TrainingExample rows, so
running the same prompts on the same snapshot again resumes the run and
never repeats a model call; the files are written from the rows each time.
Model failures are recorded on the example and the LLMCall, never raised."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from alignment import events, services, targets
from alignment.models import TrainingExample, TrainingRun
from graph import selectors as graph_selectors
from graph.models import MoralContext, WisdomVote
from mgeplatform import inputs
from mgeplatform.audit import record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.pricing import estimate_cost
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.providers.offline import approx_tokens
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from studies import selectors as study_selectors
from values import selectors as value_selectors

COMPLETION_TOKENS = 600
JUDGE_TOKENS = 800
CONTEXT_TOKENS = 400

DROP_REASONS = {
    "wiser_not_better": "the wiser-guided answer did not adhere to the wiser value's policies better than the "
    "less-wise-guided one",
    "judge_failed": "the judge's answer was unusable for one of the two answers (its LLMCall is marked)",
    "completion_failed": "a guided answer could not be written (the call failed)",
}


# --- the prompt set ----------------------------------------------------------------------


def read_prompts(text: str, name: str = "") -> tuple[list[dict], list[str]]:
    """Prompts from a JSONL file ({"prompt": ...} per line) or, for a name
    ending in .csv, a CSV with a "prompt" column. Returns ([{text, source}],
    [problems with line numbers])."""
    prompts, problems = [], []
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if "prompt" not in (reader.fieldnames or []):
            return [], ["line 1: the CSV needs a 'prompt' column"]
        for number, row in enumerate(reader, start=2):
            value = (row.get("prompt") or "").strip()
            if value:
                prompts.append({"text": value, "source": f"{name or 'file'}:{number}", "line": number})
            else:
                problems.append(f"line {number}: empty prompt; skipped")
        return _storable(prompts, problems)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as err:
            problems.append(f"line {number}: not JSON ({err.msg}); skipped")
            continue
        value = item.get("prompt") if isinstance(item, dict) else None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"line {number}: needs 'prompt' as non-empty text; skipped")
            continue
        prompts.append({"text": value.strip(), "source": f"{name or 'file'}:{number}", "line": number})
    return _storable(prompts, problems)


def _storable(prompts: list[dict], problems: list[str]) -> tuple[list[dict], list[str]]:
    """Leave out prompts the database cannot store (a NUL, a broken character)."""
    kept = []
    for item in prompts:
        number = item.pop("line")
        try:
            inputs.check_text(item["text"], what="The prompt")
        except inputs.BadInput as err:
            problems.append(f"line {number}: {err.message.split('. Please')[0]}; skipped")
            continue
        kept.append(item)
    return kept, problems


def prompt_set(study, extra: list[dict] = ()) -> list[dict]:
    """The study's active scenarios' prompts, then the extra ones; a prompt
    given twice is used once."""
    items = [
        {"text": s.prompt.strip(), "source": f"scenario:{s.key}"}
        for s in study_selectors.active_scenarios(study)
        if s.prompt.strip()
    ]
    seen, out = set(), []
    for item in [*items, *extra]:
        if item["text"] not in seen:
            seen.add(item["text"])
            out.append(item)
    return out


# --- the graph -----------------------------------------------------------------------------


def edge_key(edge: dict) -> str:
    return f"{edge['source']}>{edge['target']}"


def kept_edges(snapshot, context_id: int) -> list[dict]:
    """The snapshot's kept edges (less wise -> wiser) voted on in the context."""
    return [e for e in (snapshot.edges or []) if e.get("kept") and context_id in (e.get("contexts") or [])]


def _value(snapshot, value_id) -> dict:
    value = (snapshot.values or {}).get(str(value_id), {})
    return {
        "id": int(value_id),
        "title": value.get("title", f"value {value_id}"),
        "policies": list(value.get("policies", [])),
    }


def _prompts() -> dict:
    return {
        name: app_prompt(services.__file__, name) for name in ("choose_context", "guided_completion", "judge_adherence")
    }


def prompt_versions() -> dict:
    return {name: {"version": p.version, "sha256": p.sha256} for name, p in _prompts().items()}


# --- model calls ---------------------------------------------------------------------------


@dataclass
class Completion:
    text: str = ""
    error: str = ""
    llm_call: object = None


def guided_completion(study, prompt: str, value: dict) -> Completion:
    """An answer to the prompt written by a model told to follow the value."""
    template = app_prompt(services.__file__, "guided_completion")
    system = template.render(title=value["title"], policies="\n".join(f"- {p}" for p in value["policies"]))
    request = ChatRequest(
        model="",
        system=system,
        messages=[Message(role="user", content=prompt[: services.MAX_TEXT])],
        max_tokens=COMPLETION_TOKENS,
        temperature=0,
    )
    ctx = gateway.CallContext(
        purpose="alignment.guided_completion",
        prompt=template,
        study=study,
        content_of=value_selectors.authors([value["id"]]) if value.get("id") else (),
    )
    try:
        result, record = gateway.complete(request, ctx)
    except LLMError as err:
        return Completion(error=str(err), llm_call=getattr(err, "record", None))
    if not result.text.strip():
        gateway.mark_bad_output(record, "empty answer")
        return Completion(error="bad output: empty answer", llm_call=record)
    return Completion(text=result.text.strip(), llm_call=record)


def _id(record):
    return getattr(record, "pk", None)


# --- the run ---------------------------------------------------------------------------------


def run_key(snapshot, prompts: list[dict]) -> str:
    payload = json.dumps(
        {"snapshot": snapshot.pk, "prompts": [p["text"] for p in prompts], "versions": prompt_versions()},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def existing_run(study, snapshot, prompts: list[dict]) -> TrainingRun | None:
    """The run already made for these prompts on this snapshot, if any."""
    return (
        TrainingRun.objects.filter(study=study, snapshot=snapshot, key=run_key(snapshot, prompts))
        .order_by("-pk")
        .first()
    )


def start_run(study, snapshot, prompts: list[dict], *, user=None) -> TrainingRun:
    """The run for these prompts on this snapshot: the existing one (to
    resume) or a new one."""
    run = existing_run(study, snapshot, prompts)
    return run or TrainingRun.objects.create(
        study=study, snapshot=snapshot, key=run_key(snapshot, prompts), prompts=prompts, created_by=user
    )


@dataclass
class Estimate:
    calls: int
    input_tokens: int
    output_tokens: int
    model: str
    cost_usd: object = None  # Decimal, or None when the model has no price

    def describe(self) -> str:
        cost = f"about ${self.cost_usd}" if self.cost_usd is not None else "no price known for this model"
        return (
            f"At most {self.calls} model call(s) on {self.model}: about {self.input_tokens} input and "
            f"{self.output_tokens} output tokens; {cost}."
        )


def estimate(run: TrainingRun) -> Estimate:
    """An upper bound on the calls still to make: every prompt not yet
    detected takes one context call and is assumed to be in every context
    the graph has anything in; each such context takes one call for the
    winner's answer and four per kept edge (two answers, two judgements)."""
    done = set(run.examples.values_list("kind", "prompt_index", "context_id", "edge"))
    return estimate_for(run.study, run.snapshot, run.prompts, done)


def estimate_for(study, snapshot, prompts: list[dict], done=frozenset()) -> Estimate:
    """`estimate` for a prompt set, before its run exists (`done`: the
    (kind, prompt index, context id, edge) units already made)."""
    detected = {(i, c) for kind, i, c, _ in done if kind == TrainingExample.Kind.DETECT}
    contexts = [int(c) for c in (snapshot.contexts or {})] or list(
        MoralContext.objects.filter(study=study, active=True).values_list("pk", flat=True)
    )
    system = {name: approx_tokens(p.body) for name, p in _prompts().items()}
    calls = tokens_in = tokens_out = 0
    for index, item in enumerate(prompts):
        prompt_tokens = approx_tokens(item["text"])
        if (index, None) not in detected:
            calls += 1
            tokens_in += system["choose_context"] + prompt_tokens + 20 * len(contexts)
            tokens_out += 60
        for cid in contexts:
            if targets.winners(snapshot, [cid])[cid] and (TrainingExample.Kind.SFT, index, cid, "") not in done:
                calls += 1
                tokens_in += system["guided_completion"] + prompt_tokens + 60
                tokens_out += COMPLETION_TOKENS // 2
            for edge in kept_edges(snapshot, cid):
                if (TrainingExample.Kind.PAIR, index, cid, edge_key(edge)) in done:
                    continue
                calls += 4
                tokens_in += 2 * (system["guided_completion"] + prompt_tokens + 60)
                tokens_in += 2 * (system["judge_adherence"] + prompt_tokens + COMPLETION_TOKENS // 2 + 60)
                tokens_out += COMPLETION_TOKENS + 2 * 150
    route = gateway.resolve(study)
    return Estimate(
        calls,
        tokens_in,
        tokens_out,
        f"{route.provider}/{route.model}",
        estimate_cost(route.model, tokens_in, 0, tokens_out),
    )


@dataclass
class Progress:
    processed: int = 0
    stopped: str = ""
    log: list[str] = field(default_factory=list)


class _Stop(Exception):
    pass


def _metadata(run: TrainingRun, item: dict, index: int, context: MoralContext, detection: dict) -> dict:
    return {
        "study": run.study.slug,
        "study_id": run.study_id,
        "run": run.pk,
        "snapshot": run.snapshot_id,
        "prompt_index": index,
        "prompt_source": item["source"],
        "context": {"id": context.pk, "text": context.text},
        "prompt_versions": prompt_versions(),
        "llm_calls": {"contexts": detection.get("llm_call")},
    }


def _model(record) -> str:
    return f"{record.provider}/{record.model}" if record is not None else ""


def _sft(run, item, index, context, detection, winner) -> TrainingExample:
    done = guided_completion(run.study, item["text"], winner)
    row = TrainingExample(run=run, kind=TrainingExample.Kind.SFT, prompt_index=index, context=context)
    if done.error:
        row.status, row.reason, row.error = TrainingExample.Status.DROPPED, "completion_failed", done.error[:4000]
        row.detail = {"llm_call": _id(done.llm_call)}
        return row
    meta = _metadata(run, item, index, context, detection)
    meta.update(
        {
            "value": {"id": winner["id"], "title": winner["title"], "policies": winner["policies"]},
            "position": 1,
            "context_score": winner["score"],
            "model": _model(done.llm_call),
        }
    )
    meta["llm_calls"]["completion"] = _id(done.llm_call)
    row.detail = {"llm_call": _id(done.llm_call)}
    row.line = {
        "messages": [{"role": "user", "content": item["text"]}, {"role": "assistant", "content": done.text}],
        "metadata": meta,
    }
    return row


def _pair(run, item, index, context, detection, edge) -> TrainingExample:
    study, snapshot = run.study, run.snapshot
    less, wiser = _value(snapshot, edge["source"]), _value(snapshot, edge["target"])
    row = TrainingExample(
        run=run, kind=TrainingExample.Kind.PAIR, prompt_index=index, context=context, edge=edge_key(edge)
    )
    rejected = guided_completion(study, item["text"], less)
    chosen = guided_completion(study, item["text"], wiser)
    calls = {"rejected": _id(rejected.llm_call), "chosen": _id(chosen.llm_call)}
    if rejected.error or chosen.error:
        row.status, row.reason = TrainingExample.Status.DROPPED, "completion_failed"
        row.error, row.detail = (rejected.error or chosen.error)[:4000], {"llm_calls": calls}
        return row
    judged_rejected = services.judge(
        study, item["text"], rejected.text, wiser["title"], wiser["policies"], value_id=wiser.get("id")
    )
    judged_chosen = services.judge(
        study, item["text"], chosen.text, wiser["title"], wiser["policies"], value_id=wiser.get("id")
    )
    calls.update(judge_rejected=_id(judged_rejected.llm_call), judge_chosen=_id(judged_chosen.llm_call))
    scores = {"chosen": judged_chosen.adherence, "rejected": judged_rejected.adherence}
    row.detail = {"llm_calls": calls, "judge_scores": scores}
    if judged_rejected.failed or judged_chosen.failed:
        row.status, row.reason = TrainingExample.Status.DROPPED, "judge_failed"
        row.error = (judged_rejected.error or judged_chosen.error)[:4000]
        return row
    if judged_chosen.adherence <= judged_rejected.adherence:
        row.status, row.reason = TrainingExample.Status.DROPPED, "wiser_not_better"
        return row
    meta = _metadata(run, item, index, context, detection)
    meta.update(
        {
            "edge": {
                "source": edge["source"],
                "target": edge["target"],
                "counts": edge.get("counts", {}),
                "likelihood": edge.get("likelihood"),
                "contexts": edge.get("contexts", []),
            },
            "chosen_value": {"id": wiser["id"], "title": wiser["title"], "policies": wiser["policies"]},
            "rejected_value": {"id": less["id"], "title": less["title"], "policies": less["policies"]},
            "judge_scores": scores,
            "model": _model(chosen.llm_call),
            "judge_quotes": {"chosen": judged_chosen.quotes, "rejected": judged_rejected.quotes},
        }
    )
    meta["llm_calls"].update(calls)
    row.line = {
        "prompt": [{"role": "user", "content": item["text"]}],
        "chosen": [{"role": "assistant", "content": chosen.text}],
        "rejected": [{"role": "assistant", "content": rejected.text}],
        "metadata": meta,
    }
    return row


def _save(row: TrainingExample) -> TrainingExample:
    existing = TrainingExample.objects.filter(
        run=row.run, kind=row.kind, prompt_index=row.prompt_index, context=row.context, edge=row.edge
    ).first()
    if existing:  # another worker did it meanwhile: keep theirs
        return existing
    row.save()
    return row


def process(run: TrainingRun, limit: int | None = None) -> Progress:
    """Do what is left of the run, at most `limit` examples (not counting
    context detection); stop early when the study's budget is spent."""
    progress = Progress()
    if run.status != TrainingRun.Status.RUNNING:  # resumed: running again until it stops or is done
        run.status, run.stop_reason = TrainingRun.Status.RUNNING, ""
        run.save(update_fields=["status", "stop_reason", "updated_at"])
    done = {(e.kind, e.prompt_index, e.context_id, e.edge): e for e in run.examples.all()}
    contexts = {c.pk: c for c in MoralContext.objects.filter(study=run.study)}

    def step():
        if limit is not None and progress.processed >= limit:
            raise _Stop(f"stopped after {limit} example(s) as asked")
        if study_selectors.budget_spent(run.study):
            raise _Stop("the study's budget is spent")

    try:
        for index, item in enumerate(run.prompts):
            detect = done.get((TrainingExample.Kind.DETECT, index, None, ""))
            if detect is None:
                step()
                found = services.detect_contexts(run.study, item["text"])
                detect = _save(
                    TrainingExample(
                        run=run,
                        kind=TrainingExample.Kind.DETECT,
                        prompt_index=index,
                        status=TrainingExample.Status.DROPPED if found.failed else TrainingExample.Status.KEPT,
                        reason="detection_failed" if found.failed else "",
                        error=found.error[:4000],
                        detail={
                            "contexts": [c.pk for c in found.contexts],
                            "reason": found.reason,
                            "llm_call": _id(found.llm_call),
                        },
                    )
                )
            for cid in detect.detail.get("contexts", []):
                context = contexts.get(cid)
                if context is None:
                    continue
                winner = next(iter(targets.ranked_in_context(run.snapshot, cid, top=1)), None)
                if winner and (TrainingExample.Kind.SFT, index, cid, "") not in done:
                    step()
                    _save(
                        _sft(
                            run,
                            item,
                            index,
                            context,
                            detect.detail,
                            {
                                "id": winner.id,
                                "title": winner.title,
                                "policies": winner.policies,
                                "score": winner.score,
                            },
                        )
                    )
                    progress.processed += 1
                for edge in kept_edges(run.snapshot, cid):
                    if (TrainingExample.Kind.PAIR, index, cid, edge_key(edge)) in done:
                        continue
                    step()
                    _save(_pair(run, item, index, context, detect.detail, edge))
                    progress.processed += 1
    except _Stop as stop:
        progress.stopped = str(stop)
    run.status = TrainingRun.Status.STOPPED if progress.stopped else TrainingRun.Status.DONE
    run.stop_reason = progress.stopped[:200]
    run.counts = counts(run)
    run.save(update_fields=["status", "stop_reason", "counts", "updated_at"])
    return progress


def counts(run: TrainingRun) -> dict:
    out = {
        "prompts": len(run.prompts),
        "sft": 0,
        "pairs": 0,
        "dropped": {},
        "prompts_without_context": 0,
        "detection_failed": 0,
    }
    for kind, status, reason, contexts in run.examples.values_list("kind", "status", "reason", "detail__contexts"):
        if kind == TrainingExample.Kind.DETECT:
            out["detection_failed"] += reason == "detection_failed"
            out["prompts_without_context"] += not reason and not contexts
        elif status == TrainingExample.Status.DROPPED:
            key = f"{kind}:{reason}"
            out["dropped"][key] = out["dropped"].get(key, 0) + 1
        else:
            out["sft" if kind == TrainingExample.Kind.SFT else "pairs"] += 1
    return out


def units_in_context(snapshot, context_id: int) -> int:
    """Examples a prompt in this context makes: the winner's answer (when
    the graph ranks a value there) and a pair per kept edge voted on in it."""
    return (1 if targets.winners(snapshot, [context_id])[context_id] else 0) + len(kept_edges(snapshot, context_id))


def graph_contexts(run: TrainingRun) -> list[int]:
    return [int(c) for c in (run.snapshot.contexts or {})] or list(
        MoralContext.objects.filter(study=run.study, active=True).values_list("pk", flat=True)
    )


# --- the files -------------------------------------------------------------------------------


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


class AlreadyQueued(Exception):
    """The run has a job waiting or running: a second would only wait for it."""


def job_status(run: TrainingRun) -> str:
    """The state of the run's last queued job ("todo", "doing", "succeeded",
    "failed", ...), or "" when it has none."""
    if run.job_id is None:
        return ""
    return ProcrastinateJob.objects.filter(pk=run.job_id).values_list("status", flat=True).first() or ""


def queue_export(study, snapshot, prompts: list[dict], *, limit: int | None = None, user=None) -> TrainingRun:
    """Start (or resume) the run for these prompts on this snapshot as a
    background job, and record who asked. Raises AlreadyQueued when the
    run's job is still waiting or running."""
    # A function-local import: the tasks module imports this one.
    from alignment import tasks

    with transaction.atomic():
        run = start_run(study, snapshot, prompts, user=user)
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if job_status(run) in ("todo", "doing"):
            raise AlreadyQueued(f"training run {run.pk} already has job {run.job_id} {job_status(run)}")
        # Deferred on the request's connection: the job exists exactly when the run's new state does.
        job_id = tasks.export_training_data.configure(lock=f"training-run-{run.pk}").defer(
            run_id=run.pk, out_dir=None, limit=limit
        )
        run.job_id, run.limit = job_id, limit
        run.save(update_fields=["job_id", "limit", "updated_at"])
        record_event(
            events.ALIGNMENT_TRAINING_EXPORT_QUEUED,
            user=user,
            study_slug=study.slug,
            subject=run,
            payload={"run": run.pk, "job": job_id, "snapshot": snapshot.pk, "prompts": len(prompts), "limit": limit},
        )
    return run


def export(study, snapshot, prompts: list[dict], out_dir, *, limit: int | None = None) -> tuple[TrainingRun, Progress]:
    """Start or resume the run for these prompts on this snapshot, do what
    is left (up to `limit` examples) and write the files."""
    run = start_run(study, snapshot, prompts)
    progress = process(run, limit=limit)
    write_files(run, out_dir)
    return run, progress
