"""The survey's maths (paper 5.6, Tables 3 and 4), as pure functions over
plain answers and snapshot JSON: no database, so each one is checked
against a hand computation."""

from __future__ import annotations

from collections import Counter

LIKERT_POINTS = (1, 2, 3, 4, 5)


def percent(part: int, whole: int) -> float | None:
    """One decimal, as the paper reports; None when nobody answered (not 0%)."""
    return round(100 * part / whole, 1) if whole else None


def likert_table(answers_by_item: dict[str, list[int]]) -> list[dict]:
    """Table 3: per item, the share of each answer 1-5 and the share who
    agree. The paper's "Agree" is 3 or above; 4 or above is the stricter
    reading a reader may want beside it. Shares come from counts, not from
    the rounded distribution."""
    rows = []
    for key, answers in answers_by_item.items():
        values = [int(a) for a in answers]
        if any(v not in LIKERT_POINTS for v in values):
            raise ValueError(f"{key}: Likert answers must be 1 to 5")
        n, counts = len(values), Counter(values)
        rows.append(
            {
                "key": key,
                "n": n,
                "distribution": {point: percent(counts[point], n) for point in LIKERT_POINTS},
                "agree_3_or_more": percent(counts[3] + counts[4] + counts[5], n),
                "agree_4_or_more": percent(counts[4] + counts[5], n),
            }
        )
    return rows


def _yes(answer) -> bool:
    if isinstance(answer, bool):
        return answer
    if answer in ("yes", "no"):
        return answer == "yes"
    raise ValueError(f"not a yes/no answer: {answer!r}")


def yes_no_table(answers) -> dict:
    """Table 4: the share answering yes and no."""
    flags = [_yes(a) for a in answers]
    n, yes = len(flags), sum(flags)
    return {"n": n, "yes_percent": percent(yes, n), "no_percent": percent(n - yes, n)}


def dedup_table(answers) -> dict:
    """Section 4.5: how well the merged value represents each participant."""
    counts = Counter(answers)
    unknown = set(counts) - {"well", "partly", "not"}
    if unknown:
        raise ValueError(f"not a deduplication answer: {sorted(unknown)}")
    n = sum(counts.values())
    return {
        "n": n,
        "well_percent": percent(counts["well"], n),
        "partly_percent": percent(counts["partly"], n),
        "not_percent": percent(counts["not"], n),
    }


def judged(edge: dict) -> int:
    """Participants who judged this move (the story from source to target)."""
    counts = edge.get("counts", {})
    return counts.get("wiser", 0) + counts.get("not_wiser", 0) + counts.get("unsure", 0)


def _strongest(edges: list[dict], other_end: str) -> dict | None:
    # Most wiser votes; ties: higher wiser-likelihood, then the smaller id.
    return min(
        edges,
        default=None,
        key=lambda e: (-e.get("counts", {}).get("wiser", 0), -(e.get("likelihood") or 0.0), int(e[other_end])),
    )


def fairness_neighbours(edges: list[dict], value_id: int) -> dict:
    """The two neighbours shown beside a participant's value (Table 4): the
    value others most often judged a wiser move from it, and the value from
    which a move to it was most often judged wiser. Edges point from the
    less wise value (source) to the wiser one (target); only kept edges
    count. Either may be None."""
    kept = [e for e in edges if e.get("kept")]
    value_id = int(value_id)
    return {
        "wiser": _strongest([e for e in kept if int(e["source"]) == value_id], "target"),
        "less_wise": _strongest([e for e in kept if int(e["target"]) == value_id], "source"),
    }


# --- with survey weights (studies.weighting) --------------------------------------


def weighted_percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def weighted_likert_table(answers_by_item: dict[str, list[tuple[int, float]]]) -> list[dict]:
    """Table 3 with each answer counted by its participant's weight: per item
    the respondents (`n`), their summed weight, the weighted share of each
    answer 1-5 and the weighted shares who agree (3 or more, 4 or more).
    Answers are (answer, weight) pairs."""
    rows = []
    for key, pairs in answers_by_item.items():
        totals = dict.fromkeys(LIKERT_POINTS, 0.0)
        for answer, weight in pairs:
            if int(answer) not in LIKERT_POINTS:
                raise ValueError(f"{key}: Likert answers must be 1 to 5")
            totals[int(answer)] += weight
        whole = sum(totals.values())
        rows.append(
            {
                "key": key,
                "n": len(pairs),
                "weight_total": round(whole, 6),
                "distribution": {point: weighted_percent(totals[point], whole) for point in LIKERT_POINTS},
                "agree_3_or_more": weighted_percent(totals[3] + totals[4] + totals[5], whole),
                "agree_4_or_more": weighted_percent(totals[4] + totals[5], whole),
            }
        )
    return rows


def weighted_yes_no_table(pairs) -> dict:
    """Table 4 with each answer counted by its participant's weight ((answer, weight) pairs)."""
    yes = sum(w for a, w in pairs if _yes(a))
    whole = sum(w for _, w in pairs)
    return {
        "n": len(pairs),
        "weight_total": round(whole, 6),
        "yes_percent": weighted_percent(yes, whole),
        "no_percent": weighted_percent(whole - yes, whole),
    }
