"""The structure docs/architecture.md promises, checked on the code itself:
apps depend one way, and every step change goes through the transition
service. Both checks are also tried on small made-up trees, so a check that
stopped finding anything would fail here."""

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
check_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_layers)

# The one module allowed to change Participant.current_step.
TRANSITION_SERVICE = Path("studies/steps.py")


def test_apps_depend_one_way_with_no_cycles_and_no_unexplained_local_imports():
    assert check_layers.check() == []


def _tree(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_layer_check_finds_an_upward_import_a_cycle_and_a_bare_local_import(tmp_path):
    root = _tree(
        tmp_path,
        {
            "studies/services.py": "from journey import views\n",
            "values/services.py": "from graph import selectors\n",
            "graph/selectors.py": "from values import services\n",
            "surveys/views.py": "def page():\n    from values import selectors\n",
            "interviews/views.py": "def page():\n    # loads lazily on purpose\n    from values import selectors\n",
        },
    )
    problems = check_layers.check(root)
    assert any("studies/services.py:1: base app studies imports journey" in p for p in problems)
    assert any(
        "in a circle: graph -> values -> graph (graph -> values by import graph/selectors.py:1; "
        "values -> graph by import values/services.py:1)" in p
        for p in problems
    )
    assert any("surveys/views.py:2: function-local import of values" in p for p in problems)
    assert not any("interviews/views.py" in p for p in problems)
    assert len(problems) == 3


def test_alignment_may_read_the_graph_but_the_graph_may_not_read_alignment(tmp_path):
    root = _tree(
        tmp_path,
        {
            "alignment/services.py": "from graph import selectors\nfrom values import models\n",
            "graph/reports.py": "from alignment import selectors\n",
            "journey/report.py": "from alignment import selectors\n",
        },
    )
    # The upward import is reported once, not again as the circle it closes.
    assert check_layers.check(root) == [
        "graph/reports.py:1: feature app graph imports alignment, a graph use app above it"
    ]


def test_a_string_relation_to_a_higher_layers_model_fails_and_one_downward_passes(tmp_path):
    root = _tree(
        tmp_path,
        {
            "mgeplatform/models.py": "from django.db import models\n\nclass Call(models.Model):\n"
            '    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE)\n',
            "graph/models.py": "from django.db import models\n\nclass Vote(models.Model):\n"
            '    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE)\n'
            '    tags = models.ManyToManyField(to="alignment.Tag")\n'
            '    me = models.ForeignKey("self", on_delete=models.CASCADE)\n',
        },
    )
    assert check_layers.check(root) == [
        "mgeplatform/models.py:4: platform app mgeplatform has a relation to a model of studies, a base app above it",
        "graph/models.py:5: feature app graph has a relation to a model of alignment, a graph use app above it",
    ]


def test_migrations_may_not_depend_up_nor_both_ways_between_features(tmp_path):
    def migration(*deps):
        return "dependencies = [" + ", ".join(f"({app!r}, {name!r})" for app, name in deps) + "]\n"

    root = _tree(
        tmp_path,
        {
            "studies/migrations/0002_x.py": migration(("studies", "0001_initial"), ("graph", "0001_initial")),
            "values/migrations/0002_x.py": migration(("surveys", "0001_initial"), ("mgeplatform", "0001_initial")),
            "surveys/migrations/0002_x.py": migration(("values", "0002_x")),
        },
    )
    problems = check_layers.check(root)
    assert problems[0] == (
        "studies/migrations/0002_x.py:1: base app studies has a migration after one of graph, a feature app above it"
    )
    assert problems[1].startswith(
        "apps depend on each other in a circle: surveys -> values -> surveys "
        "(surveys -> values by migration surveys/migrations/0002_x.py:1"
    )
    assert len(problems) == 2


def test_a_lower_layer_may_not_name_a_higher_layers_urls_or_message_types(tmp_path):
    root = _tree(
        tmp_path,
        {
            "studies/views.py": "from django.urls import reverse\n\ndef go():\n"
            '    return reverse("journey:consent"), reverse("studies:own")\n',
            "studies/steps.py": 'MESSAGE = {"type": "journey.state"}\nOWN = {"type": "participant.state"}\n',
            "templates/graph/page.html": "<a href=\"{% url 'alignment:playground' slug %}\">\n"
            '<a href="{% url "graph:explorer" slug %}">\n',
            "templates/alignment/page.html": '<a href="{% url "graph:explorer" slug %}">\n',
        },
    )
    assert sorted(check_layers.check(root)) == [
        "studies/steps.py:1: base app studies sends a channel message of journey, a orchestration app above it",
        "studies/views.py:4: base app studies names a URL of journey, a orchestration app above it",
        "templates/graph/page.html:1: feature app graph names a URL of alignment, a graph use app above it",
    ]


def test_a_trigger_on_another_apps_table_is_flagged_unless_explained(tmp_path, monkeypatch):
    root = _tree(
        tmp_path,
        {
            "studies/models.py": "class Participant:\n    class Meta:\n        db_table = 'interviews_participant'\n",
            "surveys/models.py": "class Answer:\n    pass\n",
            "surveys/triggers.py": 'SQL = ("CREATE TRIGGER watch AFTER UPDATE ON interviews_participant "\n'
            '       "FOR EACH ROW EXECUTE FUNCTION f();")\n'
            'OWN = "CREATE OR REPLACE TRIGGER t BEFORE INSERT ON surveys_answer FOR EACH ROW"\n',
        },
    )
    assert check_layers.check(root) == [
        "surveys/triggers.py:1: surveys installs a trigger on interviews_participant, a table of studies"
    ]
    monkeypatch.setitem(check_layers.ALLOWED_TRIGGERS, ("surveys", "interviews_participant"), "a reason")
    assert check_layers.check(root) == []


def test_a_cycle_between_two_features_fails_whatever_closes_it(tmp_path):
    # The card points at its interview; interviews importing values back would close a circle.
    files = {
        "values/models.py": 'class ValuesCard:\n    interview = ForeignKey("interviews.Interview")\n',
        "interviews/services.py": "from interviews import card_store\n",
    }
    assert check_layers.check(_tree(tmp_path / "one_way", files)) == []
    back = {**files, "interviews/services.py": "from values.models import ValuesCard\n"}
    assert check_layers.check(_tree(tmp_path / "circle", back))[0].startswith(
        "apps depend on each other in a circle: interviews -> values -> interviews"
    )


def test_the_graph_option_lists_the_real_edges_by_kind():
    edges = check_layers.edge_kinds()
    # values points at interviews (a card names its interview), never the other way.
    assert "model" in edges["values", "interviews"] and ("interviews", "values") not in edges
    assert {"import", "model", "migration", "url"} <= edges["alignment", "graph"]
    # Nothing points down from a layer to one above it, by any kind.
    assert not [e for e in edges if check_layers.LAYERS[e[1]] > check_layers.LAYERS[e[0]]]
    assert ("mgeplatform", "studies") not in edges and ("studies", "journey") not in edges


def step_writes(root: Path) -> list[str]:
    """Places outside the transition service that set Participant.current_step:
    an assignment to `.current_step`, or `current_step=` given to a write
    (update, create, get_or_create, update_or_create, bulk_update)."""
    writes = {"update", "create", "get_or_create", "update_or_create", "bulk_update"}
    found = []
    for app in check_layers.LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts or rel == TRANSITION_SERVICE:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                targets = []
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    targets = [t for tgt in targets for t in ast.walk(tgt)]
                if any(isinstance(t, ast.Attribute) and t.attr == "current_step" for t in targets):
                    found.append(f"{rel}:{node.lineno}")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in writes
                    and any(k.arg == "current_step" for k in node.keywords)
                ):
                    found.append(f"{rel}:{node.lineno}")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "setattr"
                    and any(isinstance(a, ast.Constant) and a.value == "current_step" for a in node.args)
                ):
                    found.append(f"{rel}:{node.lineno}")
    return found


def test_every_step_change_goes_through_the_transition_service():
    assert step_writes(ROOT) == []


@pytest.mark.parametrize(
    "code",
    [
        "participant.current_step = 'survey'\n",
        "Participant.objects.filter(pk=1).update(current_step='survey')\n",
        "Participant.objects.create(study=s, current_step='survey')\n",
        "setattr(participant, 'current_step', 'survey')\n",
        "a, participant.current_step = 1, 'survey'\n",
    ],
)
def test_the_step_check_finds_a_step_written_elsewhere(tmp_path, code):
    root = _tree(tmp_path, {"graph/views.py": code, "studies/steps.py": code})
    assert step_writes(root) == ["graph/views.py:1"]


def orm_queries_in_pages(root: Path) -> list[str]:
    """`Model.objects...` in a view or a consumer (reads belong in selectors,
    writes in services); an empty `objects.none()` placeholder is no query."""
    found = []
    for path in sorted(root.glob("*/*.py")):
        if not (path.name.endswith("views.py") or path.name == "consumers.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "objects"
                and node.attr != "none"
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_views_and_consumers_read_through_selectors_and_write_through_services(tmp_path):
    assert orm_queries_in_pages(ROOT) == []
    code = "def page(request):\n    return TransitionStory.objects.filter(pk=1)\n"
    root = _tree(tmp_path, {"graph/views.py": code, "graph/explorer_views.py": code, "graph/selectors.py": code})
    assert orm_queries_in_pages(root) == ["graph/explorer_views.py:2", "graph/views.py:2"]
