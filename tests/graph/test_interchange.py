"""Import a published graph, build it, export it: the file's edges and
counts survive, and the default thresholds decide as the original did."""

import csv
import json
from pathlib import Path

import networkx as nx
import pytest
from django.core.management import CommandError, call_command

from graph import aggregation, interchange, services
from graph.models import GraphImport, WisdomVote
from values.models import CanonicalValue

DATA = Path(__file__).parent / "data" / "original_graph.json"
COUNT_KEYS = ["markedWiser", "markedNotWiser", "markedUnsure", "markedLessWise", "impressions"]


@pytest.fixture
def imported(db):
    from studies import services as journey

    study, _ = journey.seed_case_study()
    graph_import = interchange.import_graph(study, DATA.read_bytes(), source_name=DATA.name)
    return study, graph_import


def _edges_by_external(document):
    return {(e["sourceExternalId"], e["wiserExternalId"]): e for e in document["edges"]}


def test_import_build_export_keeps_every_edge_and_its_counts(imported, tmp_path):
    study, graph_import = imported
    assert graph_import.summary["values"] == 6 and graph_import.summary["direction_mismatches"] == []
    assert (
        CanonicalValue.objects.get(study=study, external_id="104").policies[1] == "SPACE for the user's own reasoning"
    )
    assert CanonicalValue.objects.get(study=study, external_id="101").description.startswith("ChatGPT should inspire")
    assert (
        WisdomVote.objects.filter(graph_import=graph_import, participant__isnull=True).count()
        == graph_import.summary["votes"]
    )

    snapshot = services.build_snapshot(study)
    out = tmp_path / "graph.json"
    call_command("export_moral_graph", study=study.slug, format="json", out=str(out))
    document = json.loads(out.read_text())
    exported = _edges_by_external(document)
    for edge in json.loads(DATA.read_text())["edges"]:
        mine = exported[(str(edge["sourceValueId"]), str(edge["wiserValueId"]))]
        assert [mine["counts"][k] for k in COUNT_KEYS] == [edge["counts"][k] for k in COUNT_KEYS]
        assert sorted(mine["contexts"]) == sorted(edge["contexts"])
    kept = {k for k, e in exported.items() if e["kept"]}
    # Hand-computed with the defaults (wiser >= 2, likelihood >= 0.33, entropy over five counts <= 1.69):
    # 101→102 H=1.325 kept; 102→103 one wiser vote; 103→104 H=1.971 over (3,2,2,0,3); 104→105 L=0.6 H=1.361;
    # 105→104 one wiser vote; 101→106 L=(4-2)/6=0.333 H=1.522 kept; 106→101 (implied by markedLessWise) L<0.
    assert kept == {("101", "102"), ("104", "105"), ("101", "106")}
    assert exported[("103", "104")]["droppedBecause"] == "high_entropy"
    assert exported[("102", "103")]["droppedBecause"] == "too_few_wiser"
    assert exported[("106", "101")]["droppedBecause"] == "low_likelihood"
    values = {v["externalId"]: v for v in document["values"]}
    assert values["102"]["pagerank"] > values["101"]["pagerank"]
    assert document["snapshot"]["parameters"]["max_entropy"] == 1.69 and document["users"] == []
    assert snapshot.summary["edges_kept"] == 3


def test_entropy_over_answers_only_keeps_the_edge_impressions_pushed_out(imported):
    study, _ = imported
    params = aggregation.Parameters(entropy_over="answers", bootstrap_samples=0)
    snapshot = services.build_snapshot(study, parameters=params)
    by_title = {
        (snapshot.values[str(e["source"])]["external_id"], snapshot.values[str(e["target"])]["external_id"]): e
        for e in snapshot.edges
    }
    # (3,2,2,0) over 7 answers: H = 1.557 <= 1.69.
    assert by_title[("103", "104")]["kept"] is True
    assert snapshot.parameters["entropy_over"] == "answers"


def test_graphml_and_csv_exports(imported, tmp_path):
    study, _ = imported
    services.build_snapshot(study)
    call_command("export_moral_graph", study=study.slug, format="graphml", out=str(tmp_path / "g.graphml"))
    graph = nx.read_graphml(tmp_path / "g.graphml")
    assert graph.number_of_edges() == 3 and graph.number_of_nodes() == 6
    call_command("export_moral_graph", study=study.slug, format="csv", out=str(tmp_path / "csv"))
    with (tmp_path / "csv" / "edges.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7 and sum(r["kept"] == "True" for r in rows) == 3
    assert {r["external_id"] for r in csv.DictReader((tmp_path / "csv" / "values.csv").open())} == {
        "101",
        "102",
        "103",
        "104",
        "105",
        "106",
    }


@pytest.mark.parametrize(
    "content,message",
    [
        (b"{not json", "not JSON"),
        (b'{"values": []}', '"edges" list'),
        (
            json.dumps(
                {
                    "values": [{"id": 1, "title": "A", "description": "d", "policies": ["p"]}],
                    "edges": [{"sourceValueId": 1, "wiserValueId": 2, "counts": {}}],
                }
            ).encode(),
            "edges[0].wiserValueId = '2' is not the id of a value",
        ),
        (
            json.dumps(
                {
                    "values": [
                        {"id": 1, "title": "A", "description": "d", "policies": ["p"]},
                        {"id": 2, "title": "B", "description": "d", "policies": ["p"]},
                    ],
                    "edges": [{"sourceValueId": 1, "wiserValueId": 2, "counts": {"markedWiser": -1}}],
                }
            ).encode(),
            "counts.markedWiser must be a whole number",
        ),
        (json.dumps({"values": [{"id": 1, "title": "A"}], "edges": []}).encode(), "values[0] needs policies"),
        (
            json.dumps(
                {
                    "values": [{"id": 1, "title": "A", "evaluationCriteria": ["ok", 2], "instructionsShort": "d"}],
                    "edges": [],
                }
            ).encode(),
            "values[0] needs policies (or evaluationCriteria) as a list of strings",
        ),
        (json.dumps({"values": ["A"], "edges": []}).encode(), "values[0] needs an id and a title"),
        (
            json.dumps(
                {
                    "values": [
                        {"id": 1, "title": "A", "description": "d", "policies": []},
                        {"id": "1", "title": "B", "description": "d", "policies": []},
                    ],
                    "edges": [],
                }
            ).encode(),
            "Two values in the file share an id",
        ),
        (
            json.dumps(
                {
                    "values": [
                        {"id": 1, "title": "A", "description": "d", "policies": ["p"]},
                        {"id": 2, "title": "B", "description": "d", "policies": ["p"]},
                    ],
                    "edges": [{"sourceValueId": 1, "wiserValueId": 2, "counts": {"impressions": True}}],
                }
            ).encode(),
            "edges[0].counts.impressions must be a whole number",
        ),
        (
            json.dumps(
                {
                    "values": [
                        {"id": 1, "title": "A", "description": "d", "policies": ["p"]},
                        {"id": 2, "title": "B", "description": "d", "policies": ["p"]},
                    ],
                    "edges": [{"sourceValueId": 1, "wiserValueId": 2}, {"sourceValueId": 2, "wiserValueId": 2}],
                }
            ).encode(),
            "edges[1] goes from a value to itself",
        ),
        (json.dumps({"values": [], "edges": [7]}).encode(), "edges[0] is not an object"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_change_nothing(db, content, message):
    from studies import services as journey

    study, _ = journey.seed_case_study()
    with pytest.raises(interchange.GraphFileError, match=None) as err:
        interchange.import_graph(study, content, source_name="bad.json")
    assert message in str(err.value)
    assert CanonicalValue.objects.filter(study=study).count() == 0 and GraphImport.objects.count() == 0


def test_the_same_file_is_not_imported_twice(imported, tmp_path):
    study, _ = imported
    with pytest.raises(CommandError, match="already been imported"):
        call_command("import_moral_graph", str(DATA), study=study.slug)
    assert CanonicalValue.objects.filter(study=study).count() == 6
