"""A quick build: the edges and PageRank scores from the pair counts, without
the stages that resample the votes or go through every vote; its pages say
what it did not compute instead of claiming it."""

import io

import pytest
from django.core.management import call_command

from graph import aggregation, services
from graph.services import build
from tests.factories import stories_and_honest_votes

SKIPPED = ["coordination", "bootstrap", "context_bootstrap", "aggregators", "bridging", "splits"]


@pytest.fixture
def built(graph_study):
    study, values = graph_study
    stories_and_honest_votes(study, values[:4], voters=30, per_voter=8)
    params = aggregation.Parameters(bootstrap_samples=20, min_wiser=2)
    full = services.build_snapshot(study, parameters=params)
    quick = services.build_snapshot(study, parameters=params, quick=True)
    return study, full, quick


def test_a_quick_build_keeps_the_same_edges_and_scores_and_names_what_it_skipped(built):
    study, full, quick = built
    assert quick.edges == full.edges and quick.summary["edges_kept"] > 0
    assert quick.scores["global"] == full.scores["global"] and quick.scores["scenario"] == full.scores["scenario"]
    assert quick.summary["skipped_stages"] == SKIPPED and "skipped_stages" not in full.summary
    assert set(quick.stage_seconds) == {"sql_aggregation", "filtering", "pagerank", "lineage"}
    assert quick.bootstrap == {} and not {
        "aggregators",
        "bridging",
        "coordination",
        "context_intervals",
        "splits",
    } & set(quick.scores)
    assert quick.summary["votes"] == full.summary["votes"]


def test_a_quick_snapshot_s_pages_say_what_it_did_not_compute(built, coordinator, client):
    study, full, quick = built
    client.force_login(coordinator)
    admin_page = client.get(f"/admin/graph/graphsnapshot/{quick.pk}/change/")
    assert admin_page.status_code == 200
    html = admin_page.content.decode()
    assert "A quick build" in html
    assert "Not computed: the check for coordinated voting, rank intervals (bootstrap)" in html
    assert "built before the other aggregators" not in html and "Coordinated voting (" not in html
    explorer = client.get(f"/graph/{study.slug}/?snapshot={quick.pk}")
    assert explorer.status_code == 200
    assert "A quick build: it computed the edges and PageRank scores only" in explorer.content.decode()
    winners = client.get(f"/graph/{study.slug}/winners/?snapshot={quick.pk}")
    assert winners.status_code == 200
    html = winners.content.decode()
    assert "did not resample the votes" in html and "Stable?" not in html
    # The study report reads the newest snapshot: the quick one.
    report = client.get(f"/admin/studies/study/{study.pk}/report/")
    assert report.status_code == 200
    assert "A quick build: the other aggregators were not computed" in report.content.decode()
    for fmt in ("json", "csv", "graphml"):
        assert client.get(f"/admin/graph/graphsnapshot/{quick.pk}/export/{fmt}/").status_code == 200
    # The full build's pages are as before.
    html = client.get(f"/admin/graph/graphsnapshot/{full.pk}/change/").content.decode()
    assert "A quick build" not in html and "Coordinated voting (" in html


def test_the_command_builds_a_quick_snapshot(built):
    study, *_ = built
    out = io.StringIO()
    call_command("build_moral_graph", "--study", study.slug, "--quick", stdout=out)
    text = out.getvalue()
    assert "Quick build, skipped: coordination, bootstrap, context_bootstrap, aggregators, bridging, splits." in text
    assert "Bridging by" not in text


def test_a_quick_build_cannot_leave_flagged_participants_out(built):
    study, *_ = built
    with pytest.raises(ValueError, match="quick build does not look for coordinated voting"):
        services.build_snapshot(study, quick=True, exclude={"someone": "flagged"})


def test_the_collector_pause_restores_the_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), build._collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failed build")
    assert gc.isenabled()
    gc.disable()
    try:
        with build._collector_paused():
            pass
        assert not gc.isenabled()  # someone else's pause is left alone
    finally:
        gc.enable()
