"""Survey weights in the study report and the export: Tables 3 and 4 with
each answer counted by its participant's weight beside the unweighted
figures, and the latest weighted snapshot's winners against the unweighted
ones with the representativeness of the voters behind its kept edges. Only
gathers: the maths are in surveys/analysis.py, graph/weighting.py and
weights/representativeness.py."""

from __future__ import annotations

from graph import selectors as graph_selectors
from graph.weighting_report import weighting_report
from surveys import selectors as survey_selectors
from weights import services as weight_services

EXPORT_NAME = "survey_tables_weighted.csv"
EXPORT_HEADER = [
    "table",
    "item",
    "n",
    "agree_3_or_more",
    "agree_4_or_more",
    "yes_percent",
    "weighting_run",
    "weighted_n",
    "weight_total",
    "weighted_agree_3_or_more",
    "weighted_agree_4_or_more",
    "weighted_yes_percent",
    "left_out_no_weight",
]


def weighted_tables(study, *, include_simulated: bool = False) -> dict | None:
    """The latest weighting run's Tables 3 and 4, or None when the study has no run."""
    run = weight_services.latest_run(study)
    if run is None:
        return None
    table3 = survey_selectors.weighted_legitimacy_table(study, run, include_simulated=include_simulated)
    table4 = survey_selectors.weighted_fairness_table(study, run, include_simulated=include_simulated)
    return {
        "run": run,
        "table3": {row["key"]: row for row in table3["rows"]},
        "table3_left_out": table3["left_out_answers"],
        "table4": table4,
    }


def report_section(study, table3_rows, *, include_simulated: bool = False) -> dict:
    """What the study report adds: each Table 3 row gets its weighted figures
    (`row["weighted"]`, None without a run), and the section's tables."""
    tables = weighted_tables(study, include_simulated=include_simulated)
    for row in table3_rows:
        row["weighted"] = tables["table3"].get(row["key"]) if tables else None
    snapshot = graph_selectors.latest_weighted_snapshot(study)
    return {
        "weighted_tables": tables,
        "weighting": weighting_report(snapshot) if snapshot is not None else None,
    }


def export_rows(study, *, include_simulated: bool = False) -> list[list] | None:
    """Rows of survey_tables_weighted.csv: Tables 3 and 4, unweighted and
    weighted side by side; None when the study has no weighting run."""
    tables = weighted_tables(study, include_simulated=include_simulated)
    if tables is None:
        return None
    run = tables["run"].pk
    rows = []
    for row in survey_selectors.legitimacy_table(study, include_simulated=include_simulated):
        w = tables["table3"].get(row["key"]) or {}
        rows.append(
            [
                "3",
                row["key"],
                row["n"],
                row["agree_3_or_more"],
                row["agree_4_or_more"],
                "",
                run,
                w.get("n", 0),
                w.get("weight_total", 0),
                w.get("agree_3_or_more"),
                w.get("agree_4_or_more"),
                "",
                row["n"] - w.get("n", 0),
            ]
        )
    plain = survey_selectors.fairness_table(study, include_simulated=include_simulated)
    w = tables["table4"]
    rows.append(
        [
            "4",
            "fairness",
            plain["n"],
            "",
            "",
            plain["yes_percent"],
            run,
            w["n"],
            w["weight_total"],
            "",
            "",
            w["yes_percent"],
            w["left_out_answers"],
        ]
    )
    return rows
