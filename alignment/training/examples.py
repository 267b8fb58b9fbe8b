"""The examples of a training-data run (paper 6.2): for each prompt and moral
context, an answer guided by the winner (supervised fine-tuning) and, per kept
edge, answers guided by the less wise and the wiser value, judged for
adherence (preference pairs). Progress is stored per (prompt, context, edge)
in TrainingExample rows, so a run resumes and never repeats a model call.
Model failures are recorded on the example and the LLMCall, never raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alignment import services, targets
from alignment.models import TrainingExample, TrainingRun
from graph import splits
from graph.models import MoralContext
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from mgeplatform.models import LLMCall
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


@dataclass
class Completion:
    text: str = ""
    error: str = ""
    llm_call: LLMCall | None = None


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


def group_key(group: str) -> str:
    """The example's `edge` key for a group's winner in a split context."""
    return f"group:{group}"[:40]


def sft_targets(snapshot, context_id: int) -> list[tuple[str, dict]]:
    """The values an SFT answer is guided by in a context, with each
    example's key: the winner (key ""), or in a split context
    (graph/splits.py) the winner of each group (key "group:NAME"),
    "contested here: wise values by group"."""
    by_group = splits.group_winners(snapshot, context_id)
    if by_group:
        attribute = ((snapshot.scores or {}).get("splits") or {}).get("attribute", "")
        return [
            (
                group_key(row["group"]),
                {
                    **_value(snapshot, row["winner"]),
                    "score": row.get("score"),
                    "group": row["group"],
                    "attribute": attribute,
                    "rank_interval": [row.get("rank_low"), row.get("rank_high")],
                },
            )
            for row in by_group
        ]
    winner = next(iter(targets.ranked_in_context(snapshot, context_id, top=1)), None)
    if winner is None:
        return []
    return [("", {"id": winner.id, "title": winner.title, "policies": winner.policies, "score": winner.score})]


def _sft(run, item, index, context, detection, winner, key: str = "") -> TrainingExample:
    done = guided_completion(run.study, item["text"], winner)
    row = TrainingExample(run=run, kind=TrainingExample.Kind.SFT, prompt_index=index, context=context, edge=key)
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
    if winner.get("group"):
        meta["contested"] = {
            "text": splits.CONTESTED_TEXT,
            "attribute": winner["attribute"],
            "group": winner["group"],
            "rank_interval": winner["rank_interval"],
        }
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
    assert judged_chosen.adherence is not None and judged_rejected.adherence is not None  # neither failed
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
                for key, winner in sft_targets(run.snapshot, cid):
                    if (TrainingExample.Kind.SFT, index, cid, key) in done:
                        continue
                    step()
                    _save(_sft(run, item, index, context, detect.detail, winner, key))
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
    out: dict[str, Any] = {
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
