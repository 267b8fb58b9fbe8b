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
    root = _tree(tmp_path, {
        "studies/services.py": "from journey import views\n",
        "values/services.py": "from graph import selectors\n",
        "graph/selectors.py": "from values import services\n",
        "surveys/views.py": "def page():\n    from values import selectors\n",
        "interviews/views.py": "def page():\n    # loads lazily on purpose\n    from values import selectors\n",
    })
    problems = check_layers.check(root)
    assert any("studies/services.py:1: base app studies imports journey" in p for p in problems)
    assert any("graph -> values -> graph" in p for p in problems)
    assert any("surveys/views.py:2: function-local import of values" in p for p in problems)
    assert not any("interviews/views.py" in p for p in problems)
    assert len(problems) == 3


def test_alignment_may_read_the_graph_but_the_graph_may_not_read_alignment(tmp_path):
    root = _tree(tmp_path, {
        "alignment/services.py": "from graph import selectors\nfrom values import models\n",
        "graph/reports.py": "from alignment import selectors\n",
        "journey/report.py": "from alignment import selectors\n",
    })
    assert check_layers.check(root) == [
        "graph/reports.py:1: feature app graph imports alignment, a graph use app above it",
        "apps import each other in a circle: alignment -> graph -> alignment"]


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
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in writes
                        and any(k.arg == "current_step" for k in node.keywords)):
                    found.append(f"{rel}:{node.lineno}")
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                        and any(isinstance(a, ast.Constant) and a.value == "current_step" for a in node.args)):
                    found.append(f"{rel}:{node.lineno}")
    return found


def test_every_step_change_goes_through_the_transition_service():
    assert step_writes(ROOT) == []


@pytest.mark.parametrize("code", [
    "participant.current_step = 'survey'\n",
    "Participant.objects.filter(pk=1).update(current_step='survey')\n",
    "Participant.objects.create(study=s, current_step='survey')\n",
    "setattr(participant, 'current_step', 'survey')\n",
    "a, participant.current_step = 1, 'survey'\n",
])
def test_the_step_check_finds_a_step_written_elsewhere(tmp_path, code):
    root = _tree(tmp_path, {"graph/views.py": code, "studies/steps.py": code})
    assert step_writes(root) == ["graph/views.py:1"]
