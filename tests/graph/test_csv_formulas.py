"""The moral graph's CSV export neutralises cells that start like a
spreadsheet formula (value titles, policies and contexts are typed by people)."""

import csv

import pytest

from graph import interchange
from graph.models import GraphSnapshot
from mgeplatform.csvfiles import TRIGGERS
from tests.factories import canonical_value

pytestmark = pytest.mark.django_db


def test_graph_csv_files_neutralise_formula_cells(study, tmp_path):
    a = canonical_value(study, '=HYPERLINK("http://evil.example")')
    b = canonical_value(study, "Plain")
    values = {
        str(v.pk): {
            "title": v.title,
            "description": "+cmd|' /C calc'!A0",
            "policies": ["@SUM(1)", "-1"],
            "external_id": "\t=1",
        }
        for v in (a, b)
    }
    snapshot = GraphSnapshot.objects.create(
        study=study,
        parameters={},
        values=values,
        contexts={"1": {"text": "-when someone asks", "scenario": None}},
        edges=[
            {
                "source": a.pk,
                "target": b.pk,
                "likelihood": -0.5,
                "entropy": 1.0,
                "kept": True,
                "reason": "",
                "contexts": [1],
                "counts": {"wiser": 3, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 5},
            }
        ],
    )
    written = interchange.export_snapshot(snapshot, "csv", tmp_path / "csv")
    cells = {}
    for path in written:
        with path.open(encoding="utf-8", newline="") as fh:
            cells[path.name] = [cell for row in csv.reader(fh) for cell in row]
    everything = [cell for row in cells.values() for cell in row]
    # Only numbers may start with "-": a spreadsheet reads them as numbers, not formulas.
    assert [c for c in everything if c.startswith(TRIGGERS) and not c.startswith("'")] == ["-0.5"]
    assert '\'=HYPERLINK("http://evil.example")' in cells["values.csv"]
    assert "'+cmd|' /C calc'!A0" in cells["values.csv"] and "'\t=1" in cells["values.csv"]
    assert "'-when someone asks" in cells["contexts.csv"] and "'-when someone asks" in cells["edges.csv"]
