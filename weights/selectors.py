"""Reads of a study's weighting runs for the pages that offer or show them."""

from __future__ import annotations

from studies import demographics
from studies.models import ProlificDemographics
from weights import representativeness as rep
from weights import targets
from weights.models import WeightingRun


def run_choices(study) -> list[dict]:
    """The study's weighting runs, newest first, as {id, label} for a choice."""
    return [
        {
            "id": run.pk,
            "label": (
                f"Run {run.pk}: {run.target}, trim {run.trim or 'none'}, "
                f"{(run.report or {}).get('weighted_n', 0)} weighted, {run.created_at:%Y-%m-%d %H:%M} UTC"
            ),
        }
        for run in WeightingRun.objects.filter(study=study)
    ]


def representativeness(study, *, include_simulated: bool = False) -> dict | None:
    """How the study's counted participants, as they are now, compare with
    the target of its latest weighting run: per attribute the sample's share
    of each category against the target's, the total variation distance, the
    GRI-style score (1 − TVD over the joint cells when the target has them,
    else 1 − the mean TVD), and how many participants miss the attribute (no
    demographics, one of Prolific's placeholders, or an answer the target has
    no category for). Kish effective N and the design effect are the run's,
    as of when it was made. None when the study has no weighting run."""
    run = WeightingRun.objects.filter(study=study).first()
    if run is None:
        return None
    target = targets.Target.model_validate(run.target_spec)
    pids = list(study.participants.for_analysis(include_simulated).values_list("pk", flat=True))
    data = dict(ProlificDemographics.objects.filter(participant__in=pids).values_list("participant_id", "data"))
    categories = {
        pid: {a: targets.category(target, a, demographics.answer_of(data.get(pid) or {}, a)) for a in target.attributes}
        for pid in pids
    }
    # The run's spec comes back from the database with its keys reordered; a shipped target's file has the order.
    order = (
        {a: list(c) for a, c in targets.load(run.target).margins.items()}
        if run.target in targets.shipped_names()
        else {}
    )
    rows, tvds = [], {}
    for attribute, target_shares in target.margins.items():
        sample = rep.shares([categories[pid][attribute] for pid in pids])
        tvds[attribute] = rep.tvd(sample, target_shares) if sample else None
        names = _in_order(list(target_shares), order.get(attribute, [])) + [c for c in sample if c not in target_shares]
        rows.append(
            {
                "attribute": attribute,
                "categories": [
                    {"category": c, "sample": sample.get(c, 0.0), "target": target_shares.get(c, 0.0)} for c in names
                ],
                "tvd": tvds[attribute],
                "missing": sum(1 for pid in pids if categories[pid][attribute] is None),
            }
        )
    complete = [pid for pid in pids if all(c is not None for c in categories[pid].values())]
    joint = None
    if target.cells and complete:
        joint = rep.tvd(
            rep.shares([targets.cell_key(categories[pid], target.attributes) for pid in complete]), target.cells
        )
    known = {a: t for a, t in tvds.items() if t is not None}
    report = run.report or {}
    return {
        "run": run,
        "target": run.target,
        "participants": len(pids),
        "no_demographics": sum(1 for pid in pids if pid not in data),
        "complete": len(complete),
        "any_missing": len(pids) - len(complete),
        "attributes": rows,
        # no score while an attribute has no answers yet, or joint cells have no complete participant
        "gri": None if len(known) < len(tvds) or (target.cells and joint is None) else rep.gri(known, joint),
        "gri_over": "joint cells" if target.cells else "mean over attributes",
        "effective_n": report.get("effective_n"),
        "design_effect": report.get("design_effect"),
        "run_weighted": report.get("weighted_n"),
        "run_participants": report.get("participants"),
    }


def _in_order(categories: list[str], order: list[str]) -> list[str]:
    return sorted(categories, key=lambda c: (order.index(c) if c in order else len(order), c))
