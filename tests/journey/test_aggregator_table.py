"""graph.aggregators.AGGREGATORS is the one table of rankings: a method
added there (one function, one line) is stored in every snapshot, drawn in
the study report, ranked by the manipulation simulator and exported, with
no label kept anywhere else; its flags keep it out of each place."""

import csv
import json
from collections import Counter

import pytest
from django.core.management import call_command

from graph import aggregation, aggregators, services
from graph.models import WisdomVote
from journey import attack
from tests.factories import stories_and_honest_votes


def fewest_losses(wins, nodes=None):
    """Minus the comparisons each value lost: a ranking the table does not have."""
    out = dict.fromkeys({n for pair in wins for n in pair} | set(nodes or ()), 0.0)
    for (_, loser), n in wins.items():
        out[loser] -= n
    return out


@pytest.fixture
def registered():
    """Register methods for one test only; the table is as it was afterwards."""
    before = dict(aggregators.AGGREGATORS)
    with pytest.MonkeyPatch.context() as mp:

        def register(entry):
            mp.setitem(aggregators.AGGREGATORS, entry.name, entry)

        yield register
    assert before == aggregators.AGGREGATORS


def _built_and_attacked(study, values):
    """A snapshot of 24 honest voters, then one rolled-back attack on the least wise value."""
    stories_and_honest_votes(study, values, voters=24, per_voter=6)
    snapshot = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=0))
    run = attack.simulate_attack(study, values[0], shares=(0.3,), include_simulated=False)
    return snapshot, run


def _report(client, coordinator, study) -> str:
    client.force_login(coordinator)
    response = client.get(f"/admin/studies/study/{study.pk}/report/")
    assert response.status_code == 200
    return response.content.decode()


def _exports(study, tmp_path) -> tuple[dict, list[dict]]:
    call_command("export_moral_graph", "--study", study.slug, "--format", "json", "--out", str(tmp_path / "g.json"))
    call_command("export_moral_graph", "--study", study.slug, "--format", "csv", "--out", str(tmp_path / "csv"))
    with open(tmp_path / "csv" / "aggregators.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return json.loads((tmp_path / "g.json").read_text()), rows


def test_a_method_added_in_one_line_reaches_the_report_the_attack_and_the_export(
    graph_study, registered, client, coordinator, tmp_path
):
    registered(aggregators.Aggregator("fewest_losses", "fewest losses", fewest_losses))
    study, values = graph_study
    snapshot, run = _built_and_attacked(study, values)

    # Stored: minus the "wiser" answers on stories leaving each value, counted from the votes themselves.
    losses = Counter(WisdomVote.objects.filter(study=study, answer="yes").values_list("from_value_id", flat=True))
    stored = snapshot.scores["aggregators"]["global"]["scores"]["fewest_losses"]
    assert stored == {str(v.pk): -float(losses[v.pk]) for v in values}
    assert "pagerank|fewest_losses" in snapshot.scores["aggregators"]["global"]["tau"]

    # The simulator ranked the target by it, before and after, and says what share it took.
    result = run["results"][0]
    assert isinstance(result["ranks_before"]["fewest_losses"], int)
    assert isinstance(result["ranks_after"]["fewest_losses"], int)
    assert "fewest_losses" in run["share_needed"]

    html = _report(client, coordinator, study)
    assert "<td>fewest losses</td>" in html  # its row in the whole graph's table
    assert "<th>fewest losses</th>" in html  # and in the τ matrix
    assert "<th>fewest losses (before → after)</th>" in html  # the simulator's table
    assert "fewest losses: <strong>" in html

    doc, rows = _exports(study, tmp_path)
    assert doc["aggregators"]["global"]["scores"]["fewest_losses"] == stored
    assert {
        (r["value_id"], float(r["score"])) for r in rows if r["scope"] == "global" and r["method"] == "fewest_losses"
    } == {(k, v) for k, v in stored.items()}


def test_the_flags_keep_a_method_out_of_each_place(graph_study, registered, client, coordinator, tmp_path):
    registered(
        aggregators.Aggregator(
            "fewest_losses", "fewest losses", fewest_losses, report=False, attack=False, export=False
        )
    )
    study, values = graph_study
    snapshot, run = _built_and_attacked(study, values)
    assert "fewest_losses" in snapshot.scores["aggregators"]["global"]["scores"]  # stored all the same
    assert "fewest_losses" not in run["results"][0]["ranks_after"] and "fewest_losses" not in run["share_needed"]
    assert "fewest losses" not in _report(client, coordinator, study)
    doc, rows = _exports(study, tmp_path)
    assert "fewest_losses" not in doc["aggregators"]["global"]["scores"]
    assert not any("fewest_losses" in pair for pair in doc["aggregators"]["global"]["tau"])
    assert "fewest_losses" not in {r["method"] for r in rows}
    assert {r["method"] for r in rows} == set(aggregators.names("export"))


def test_the_report_draws_every_registered_method(graph_study, client, coordinator):
    study, values = graph_study
    _, run = _built_and_attacked(study, values)
    html = _report(client, coordinator, study)
    for name in aggregators.names("report"):
        assert f"<td>{aggregators.label(name, long=True)}</td>" in html, name
        assert f"<th>{aggregators.label(name, long=True)}</th>" in html, name
    for name in attack.methods():
        assert f"<th>{attack.method_label(name)} (before → after)</th>" in html, name
        assert f"{attack.method_label(name)}: <strong>{attack.fmt_share(run['share_needed'][name])}</strong>" in html
