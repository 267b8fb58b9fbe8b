"""Compute a study's survey weights to a target population and store them."""

from __future__ import annotations

from django.db import transaction

from studies import demographics
from studies.models import ProlificDemographics
from weights import raking, representativeness, targets
from weights.models import ParticipantWeight, WeightingRun

# Participants missing any of the target's attributes get no weight: they are
# left out of the raking and counted, per attribute, in the report's "missing".
MISSING_POLICY = "left_out"


def weigh(
    study,
    target: targets.Target,
    *,
    trim: float | None = None,
    include_simulated: bool = False,
    user=None,
    label: str | None = None,
) -> tuple[WeightingRun, dict]:
    """Rake the study's counted participants to `target`; store the run and its weights; the report."""
    pids = list(
        study.participants.for_analysis(include_simulated).order_by("created_at", "pk").values_list("pk", flat=True)
    )
    data = dict(ProlificDemographics.objects.filter(participant__in=pids).values_list("participant_id", "data"))
    attributes = target.attributes
    categories = {
        pid: {a: targets.category(target, a, demographics.answer_of(data.get(pid, {}), a)) for a in attributes}
        for pid in pids
    }
    missing = {a: sum(1 for pid in pids if categories[pid][a] is None) for a in attributes}
    complete = [pid for pid in pids if all(categories[pid][a] is not None for a in attributes)]
    rows = [{a: str(categories[pid][a]) for a in attributes} for pid in complete]  # complete: no None left
    if target.cells:  # joint cells: one variable, so raking is post-stratification
        raked = raking.rake(
            [{"cell": targets.cell_key(r, attributes)} for r in rows], {"cell": target.cells}, trim=trim
        )
    else:
        raked = raking.rake(rows, target.margins, trim=trim)
    weights = [float(w) for w in raked]
    report = build_report(target, categories, pids, complete, weights, missing)
    with transaction.atomic():
        run = WeightingRun.objects.create(
            study=study,
            target=label or target.name,
            target_spec=target.model_dump(mode="json"),
            trim=trim,
            missing_policy=MISSING_POLICY,
            created_by=user,
            report={k: v for k, v in report.items() if k != "weights"}
            | {"weighted_n": len(complete), "participants": len(pids)},
        )
        ParticipantWeight.objects.bulk_create(
            ParticipantWeight(run=run, participant_id=pid, weight=w, cell=targets.cell_key(categories[pid], attributes))
            for pid, w in zip(complete, weights)
        )
    return run, report


def build_report(target, categories, pids, complete, weights, missing) -> dict:
    rep = representativeness
    attrs = {}
    tvd = {}
    by_pid = dict(zip(complete, weights))
    for a, target_shares in target.margins.items():
        sample = rep.shares([categories[pid][a] for pid in pids])
        weighted = rep.shares([categories[pid][a] for pid in complete], [by_pid[pid] for pid in complete])
        names = list(target_shares) + [c for c in sample if c not in target_shares]
        attrs[a] = {
            c: {
                "sample": round(sample.get(c, 0.0), 6),
                "target": target_shares.get(c, 0.0),
                "weighted": round(weighted.get(c, 0.0), 6),
            }
            for c in names
        }
        tvd[a] = round(rep.tvd(sample, target_shares), 6)
    joint = None
    if target.cells:
        joint = rep.tvd(
            rep.shares([targets.cell_key(categories[pid], target.attributes) for pid in complete]), target.cells
        )
    return {
        "attributes": attrs,
        "missing": missing,
        "tvd": tvd,
        "gri": round(rep.gri(tvd, joint), 6),
        "gri_over": "joint cells" if target.cells else "mean over attributes",
        "missing_policy": MISSING_POLICY,
        "effective_n": round(rep.effective_n(weights), 6),
        "design_effect": round(rep.design_effect(weights), 6),
        "weights": {str(pid): round(w, 6) for pid, w in by_pid.items()},
    }


def latest_run(study) -> WeightingRun | None:
    return WeightingRun.objects.filter(study=study).first()
