"""A weighting run read as plain data (`studies.weighting.Weighting`) for the
features that count with survey weights: the graph build and the survey
tables. Registered with `studies.weighting` when the app loads."""

from __future__ import annotations

from studies.weighting import Weighting
from weights import representativeness as rep
from weights import targets
from weights.models import ParticipantWeight, WeightingRun


def figures(target: dict, cells: dict[str, str], weights: dict[str, float], participant_ids) -> dict:
    """Representativeness of some of a run's participants, pure: per attribute
    their shares (unweighted and with their weights) against the target's,
    TVD both ways, the GRI-style score both ways, Kish effective N and design
    effect of their weights. `cells`: {participant id: the run's cell key};
    participants the run did not weigh are counted in `unweighted`, not in the shares."""
    ids = [str(p) for p in participant_ids]
    weighed = [p for p in ids if p in weights]
    rows = [targets.parse_cell(cells[p]) for p in weighed]
    w = [weights[p] for p in weighed]
    attributes, tvd_sample, tvd_weighted = {}, {}, {}
    for attribute, target_shares in (target.get("margins") or {}).items():
        values = [r.get(attribute) for r in rows]
        sample, weighted = rep.shares(values), rep.shares(values, w)
        names = list(target_shares) + [c for c in sample if c not in target_shares]
        attributes[attribute] = {
            c: {
                "sample": round(sample.get(c, 0.0), 6),
                "weighted": round(weighted.get(c, 0.0), 6),
                "target": target_shares.get(c, 0.0),
            }
            for c in names
        }
        tvd_sample[attribute] = round(rep.tvd(sample, target_shares), 6)
        tvd_weighted[attribute] = round(rep.tvd(weighted, target_shares), 6)
    return {
        "participants": len(ids),
        "weighted": len(weighed),
        "unweighted": len(ids) - len(weighed),
        "attributes": attributes,
        "tvd": tvd_sample,
        "tvd_weighted": tvd_weighted,
        "gri": round(rep.gri(tvd_sample), 6) if rows else None,
        "gri_weighted": round(rep.gri(tvd_weighted), 6) if rows else None,
        "effective_n": round(rep.effective_n(w), 6),
        "design_effect": round(rep.design_effect(w), 6),
    }


def read(run_id: int):
    """The run as a `Weighting`, or None when there is no such run."""
    run = WeightingRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    rows = list(ParticipantWeight.objects.filter(run=run).values_list("participant_id", "weight", "cell"))
    weights = {str(pid): float(w) for pid, w, _ in rows}
    cells = {str(pid): cell for pid, _, cell in rows}
    spec = run.target_spec or {}
    return Weighting(
        run_id=run.pk,
        study_id=run.study_id,
        weights=weights,
        missing_policy=run.missing_policy,
        description={
            "target": run.target,
            "trim": run.trim,
            "missing_policy": run.missing_policy,
            "created_at": run.created_at.isoformat(),
            "attributes": list((spec.get("margins") or {}).keys()),
        },
        figures=lambda ids: figures(spec, cells, weights, ids),
    )
