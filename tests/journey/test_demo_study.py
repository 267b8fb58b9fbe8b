"""The demo study a new user sees first (`run --demo`): a graph worth
exploring, built from the personas by the same generator at a smaller size,
and pages that say when it is still being built."""

from collections import Counter

import pytest

from graph.models import GraphSnapshot, TransitionStory
from journey import simulation
from mgeplatform import locks
from studies import selectors as study_selectors
from studies.models import Study
from values.models import CanonicalValue

# The figures at the default size (150), scaled to this run. The run
# is deterministic (seeded; pairing and votes read cards, not ids): it gives
# 41 values and 20 kept edges over all 9 contexts.
SMALL = 45
SCALE = SMALL / simulation.DEMO_SIZE


@pytest.mark.django_db
def test_a_smaller_demo_has_distinct_values_kept_edges_over_contexts_and_a_winner_per_scenario(client):
    out = simulation.populate_demo(SMALL)
    study, snapshot = out["study"], out["snapshot"]
    assert study.graph_public and study.stories_per_participant == simulation.DEMO_STORIES_PER_PARTICIPANT
    live = CanonicalValue.objects.filter(study=study, merged_into__isnull=True)
    titles = Counter(v.title for v in live)
    assert live.count() >= 25 * SCALE * 1.5  # few personas repeat in a small run: nearly one value each
    assert not [t for t, n in titles.items() if n > 1]
    kept = [e for e in snapshot.edges if e["kept"]]
    assert len(kept) >= 30 * SCALE
    assert len({c for e in kept for c in e["contexts"]}) >= 4
    # A winner per scenario, named on the winners page.
    scenario_titles = dict(study.scenarios.values_list("pk", "title"))
    assert set(snapshot.scores["scenario"]) == {str(pk) for pk in scenario_titles}
    html = client.get("/graph/demo/winners/").content.decode()
    for pk in scenario_titles:
        top = max(snapshot.scores["scenario"][str(pk)].items(), key=lambda kv: kv[1])[0]
        section = html.split(f'id="scenario-{pk}"', 1)[1].split("</section>", 1)[0]
        assert snapshot.values[top]["title"] in section
    # Stories differ: built from each pair's own cards, not one template.
    stories = list(TransitionStory.objects.filter(study=study).values_list("story", flat=True))
    assert len(stories) >= 20 and len(set(stories)) == len(stories)
    assert len({s.split(". ")[2] for s in stories if s.count(". ") >= 3}) >= 4


@pytest.mark.django_db
def test_the_demo_pages_say_while_it_is_being_built(client, coordinator):
    study = simulation.demo_study()
    client.force_login(coordinator)
    pages = ["/graph/demo/", "/graph/demo/winners/", f"/admin/studies/study/{study.pk}/report/?simulated=1"]
    for url in pages:
        assert "being built" not in client.get(url).content.decode()
    with locks.try_advisory_lock(study_selectors.DEMO_BUILD_LOCK_NAMESPACE, study.pk) as acquired:
        assert acquired
        for url in pages:
            assert "being built" in client.get(url).content.decode(), url
        # A second build at the same time leaves it to the first.
        assert simulation.populate_demo(3)["busy"]
    assert "being built" not in client.get(pages[0]).content.decode()
    assert not GraphSnapshot.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_a_demo_from_an_earlier_generator_is_set_aside_and_built_again():
    old = Study.objects.create(
        slug="demo",
        title="Demo: simulated participants",
        description="Filled by scripted participants (offline models).",
    )
    study = simulation.demo_study()
    assert study.pk != old.pk and simulation.DEMO_GENERATOR in study.description
    old.refresh_from_db()
    assert old.slug == f"demo-replaced-{old.pk}" and not old.graph_public
    assert simulation.demo_study().pk == study.pk  # the current one stays
