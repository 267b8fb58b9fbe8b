"""The study report a coordinator opens in the admin: the paper's Table 2
(relevance), Table 3 (legitimacy survey), Table 4 (fairness), Fig. 8
(ideology vs feeling represented), Fig. 12 (an expert value's position as
participation grows), the disputes (rate and outcomes), with charts, and the robustness of the latest moral
graph (other aggregators, cycle policies, bridging across groups). The
maths are pure functions here and in the apps that own the data; this
module only gathers and lays out."""

from __future__ import annotations

from collections import Counter
from statistics import mean, median

from django.db.models import Max, Min
from django.db.models.functions import Coalesce

from graph import explorer
from graph import reports as graph_reports
from graph import selectors as graph_selectors
from interviews import selectors
from interviews.models import TranscriptRating
from interviews.ratings import GROUPS, ideology_group
from journey import attack, weighting
from journey import selectors as journey_selectors
from journey.arms_report import arms_report
from mgeplatform import charts
from studies import steps
from studies.models import Step, StepTiming, counted
from surveys import selectors as survey_selectors
from values import selectors as value_selectors
from values.models import CanonicalValue, ValuesCard
from values.relevance import relevance_table

REPRESENTATION_ITEM = "expresses_care"  # "Did the values you submitted and voted for express what you care about?"


def ideology_vs_representation(rows) -> list[dict]:
    """Fig. 8 from (ideology score 1-5, answer 1-5) pairs: per group, how
    many, the mean answer and the share answering 3 or above."""
    out = []
    for group in GROUPS:
        answers = [answer for score, answer in rows if ideology_group(score) == group]
        out.append(
            {
                "group": group,
                "n": len(answers),
                "mean": round(mean(answers), 2) if answers else None,
                "agree_percent": round(100 * sum(a >= 3 for a in answers) / len(answers), 1) if answers else None,
            }
        )
    return out


def most_common_value(value_ids) -> tuple[int | None, float]:
    """The value most often held, and its share (ties: the smaller id)."""
    counts = Counter(v for v in value_ids if v is not None)
    if not counts:
        return None, 0.0
    value, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return value, round(100 * n / sum(counts.values()), 1)


def progress_summary(study, include_simulated=False) -> dict:
    participants = study.participants.for_analysis(include_simulated)
    by_step = Counter(participants.values_list("current_step", flat=True))
    spans = (
        StepTiming.objects.filter(participant__in=participants.filter(current_step=Step.COMPLETE))
        .values("participant")
        .annotate(start=Min("started_at"), end=Max(Coalesce("ended_at", "started_at")))
    )
    durations = [(row["end"] - row["start"]).total_seconds() / 60 for row in spans]
    order = [*steps.JOURNEY, *(s for s in Step.values if s not in steps.JOURNEY)]
    return {
        "participants": participants.count(),
        "by_step": [(steps.label(s), by_step[s]) for s in order if by_step.get(s)],
        "completed": by_step.get(Step.COMPLETE, 0),
        "median_minutes": round(median(durations), 1) if durations else None,
    }


def _representation_answers(study, include_simulated) -> dict:
    return survey_selectors.answers_for_item(study, REPRESENTATION_ITEM, include_simulated=include_simulated)


def fig8_rows(study, include_simulated=False) -> list[tuple[int, int]]:
    answers = _representation_answers(study, include_simulated)
    latest = selectors.latest_ratings(
        TranscriptRating.objects.filter(interview__participant__study=study, kind="ideology", score__isnull=False),
        "score",
    )
    return [(score, int(answers[pid])) for pid, score in latest.items() if pid in answers]


def expert_trajectories(study, include_simulated=False) -> list[dict]:
    """Fig. 12 for each scenario with an expert question: the value most
    often articulated by participants rated as experts, and its position by
    PageRank and by direct votes as participation grew."""

    snapshot = graph_selectors.latest_snapshot(study)
    out = []
    for scenario in study.scenarios.exclude(expert_question="").order_by("order", "pk"):
        ratings = TranscriptRating.objects.filter(
            interview__scenario=scenario, kind="expert", question=scenario.expert_question
        )
        ratings = ratings.filter(counted("interview__participant", include_simulated))
        experts = {pid for pid, is_expert in selectors.latest_ratings(ratings, "is_expert").items() if is_expert}
        cards = ValuesCard.objects.filter(interview__participant_id__in=experts, submitted=True).values_list(
            "canonical_id", flat=True
        )
        live = value_selectors.live_value_id({c for c in cards if c}, study)
        value_id, share = most_common_value([live.get(c) for c in cards])
        entry = {
            "scenario": scenario,
            "question": scenario.expert_question,
            "experts": len(experts),
            "value": None,
            "share": share,
        }
        if value_id is not None:
            result = explorer.scalability(study, value_id, snapshot=snapshot, include_simulated=include_simulated)
            entry.update(
                value=CanonicalValue.objects.get(pk=value_id),
                points=result["points"],
                chart=charts.line_chart(result["points"]),
            )
        out.append(entry)
    return out


def robustness_chart(run: dict) -> dict | None:
    """The robustness curve of one simulator run: the target's position at
    each bloc share by PageRank and by direct votes (None: never ranked)."""
    return charts.line_chart(attack.curve_points(run))


def robustness_section(study) -> list[dict]:
    """The simulator's latest runs on the study, each with its table and curve."""
    out = []
    methods = attack.methods()
    for run in attack.robustness_runs(study):
        rows = [
            {
                "share": r["share"],
                "bloc": r["bloc"],
                "voters": r["voters"],
                "ranks": [
                    (attack.fmt_rank(r["ranks_before"].get(m)), attack.fmt_rank(r["ranks_after"].get(m)))
                    for m in methods
                ],
                "precision": r["precision"],
                "recall": r["recall"],
                "flagged": r["flagged"],
            }
            for r in run.get("results", [])
        ]
        out.append(
            {
                **run,
                "rows": rows,
                "chart": robustness_chart(run),
                "methods": [attack.method_label(m) for m in methods],
                "needed": [
                    (attack.method_label(m), attack.fmt_share(run.get("share_needed", {}).get(m))) for m in methods
                ],
            }
        )
    return out


def study_report(study, *, include_simulated: bool = False) -> dict:
    table2 = relevance_table(study, include_simulated=include_simulated)
    table3 = survey_selectors.legitimacy_table(study, include_simulated=include_simulated)
    for row in table3:
        row["distribution_list"] = sorted(row["distribution"].items())
    table4 = survey_selectors.fairness_table(study, include_simulated=include_simulated)
    fig8 = ideology_vs_representation(fig8_rows(study, include_simulated))
    weighted = weighting.report_section(study, table3, include_simulated=include_simulated)
    return {
        **weighted,
        "progress": progress_summary(study, include_simulated),
        "table2": table2,
        "table2_chart": charts.horizontal_bars(
            [
                ("Cards for the selected scenario", table2["same_scenario"]["percent"]),
                ("Cards for another scenario", table2["other_scenario"]["percent"]),
            ]
        ),
        "table3": table3,
        "table3_chart": charts.stacked_likert([(row["text"], row["distribution"]) for row in table3]),
        "table4": table4,
        "table4_chart": charts.horizontal_bars([("Yes", table4.get("yes_percent")), ("No", table4.get("no_percent"))]),
        "fig8": fig8,
        "fig8_chart": charts.horizontal_bars(
            [(f"{row['group']} (n={row['n']})", row["mean"]) for row in fig8], maximum=5, unit=""
        ),
        "fig12": expert_trajectories(study, include_simulated),
        "disputes": journey_selectors.dispute_report(study, include_simulated=include_simulated),
        "robustness": robustness(study),
        "lineage": _latest_lineage(study),
        "attack_runs": robustness_section(study),
        "arms": arms_report(study, include_simulated=include_simulated),
        "include_simulated": include_simulated,
    }


def _latest_lineage(study) -> dict | None:
    snapshot = graph_selectors.latest_snapshot(study)
    return graph_selectors.lineage(snapshot) if snapshot is not None else None


def robustness(study) -> dict | None:
    """The latest snapshot's other aggregators, cycle policies and bridging
    (as it was built: with or without simulated votes, whatever the page's switch)."""
    snapshot = graph_selectors.latest_snapshot(study)
    return graph_reports.robustness_report(snapshot) if snapshot is not None else None
