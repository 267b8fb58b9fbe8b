#!/usr/bin/env python3
"""Check that the apps depend one way (docs/architecture.md, "Layers").

    python3 scripts/check_layers.py           # the problems, one a line
    python3 scripts/check_layers.py --graph   # the app dependency edges, by kind

Reads the code without Django and finds, per app, what it depends on:
- import: the modules it imports;
- model: the "app.Model" targets of its ForeignKey, OneToOneField and ManyToManyField;
- migration: the other apps' migrations its migrations depend on;
- url: the URL namespaces it names (reverse("ns:name"), redirect(...), {% url "ns:name" %}
  in templates/<app>/);
- message: the channel-layer message types it sends ({"type": "ns.kind"}: the handler's
  namespace).

It fails on an edge from a lower layer to a higher one, on a cycle between
apps (features may use each other, but never both ways), on a trigger an app
installs on another app's table, and on a function-local import of a project
module with no comment saying why (on the import's line or the line above).
Exceptions are listed below, each with its reason; they are printed as notes.
Exits 1 with one line per problem.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The layers, lowest first. An app may depend on apps of its own layer or lower.
LAYERS = {
    "mgeplatform": 0,  # platform: audit trail, roles, LLM gateway, embedded database
    "studies": 1,  # base: studies, consent, participants, the step table
    "values": 2,  # features
    "interviews": 2,
    "graph": 2,
    "surveys": 2,
    "weights": 2,  # survey weights to a target population; graph may read them later
    "alignment": 3,  # uses of the moral graph: reads graph and values, which never read it
    "journey": 4,  # orchestration
    "config": 5,  # project: settings, URLs, ASGI
}
LAYER_NAMES = {0: "platform", 1: "base", 2: "feature", 3: "graph use", 4: "orchestration", 5: "project"}
KINDS = ("import", "model", "migration", "url", "message")

# Migrations written while Study, Participant and Scenario lived in interviews
# (studies/0001 and interviews/0007 moved them; docs/architecture.md), or while
# LLMCall.study was a foreign key (mgeplatform/0004, 0005; a plain id since
# 0010): their dependencies name the apps that held those models then.
# Applied migrations keep their dependencies, so these are left out of the
# edges (and of --graph); every later migration is checked.
MIGRATION_HISTORY = {
    "mgeplatform/migrations/0004_llmcall.py",
    "mgeplatform/migrations/0005_alter_llmcall_study.py",
    "studies/migrations/0001_initial.py",
    "interviews/migrations/0007_move_base_models_to_studies.py",
    "values/migrations/0001_initial.py",
    "values/migrations/0002_canonicalvalue_canonicalvalueevent_and_more.py",
    "values/migrations/0005_relevancedraw_relevanceitem_relevanceitemevent_and_more.py",
    "values/migrations/0006_deduplicationrun.py",
    "graph/migrations/0001_initial.py",
    "surveys/migrations/0001_initial.py",
}

# Cycles left on purpose: the apps in them -> (the one edge allowed to close
# the cycle, by the kinds it may have; the reason). The same apps in a circle
# by any other kind of edge is a problem.
ALLOWED_CYCLES: dict[frozenset[str], tuple[tuple[str, str, set[str]], str]] = {}

# Edges from a lower layer up, left on purpose: (kind, from app, to app) -> reason.
ALLOWED_UPWARD: dict[tuple[str, str, str], str] = {}

# Triggers an app installs on another app's table: (app, table) -> reason.
ALLOWED_TRIGGERS = {
    (
        "graph",
        "interviews_participant",
    ): "graph.PairCount counts votes by the voter's kind (real, simulated, preview); a statement trigger on "
    "the participants' table moves a participant's counts when their kind changes, in the same "
    "transaction, whoever writes it. The base layer's code never sees it: the dependency points down, "
    "as an FK would.",
}

RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}
URL_CALLS = {"reverse", "reverse_lazy", "redirect", "resolve_url"}
TEMPLATE_URL = re.compile(r"""\{%\s*url\s+["']([a-z_]+):[\w-]+["']""")
CREATE_TRIGGER = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+\w+\s.*?\bON\s+\"?(\w+)", re.IGNORECASE | re.DOTALL
)


def modules(root: Path = ROOT):
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                yield app, path


def migrations(root: Path = ROOT):
    for app in LAYERS:
        for path in sorted((root / app / "migrations").glob("*.py")):
            yield app, path


def templates(root: Path = ROOT):
    """Templates of an app: templates/<app>/ and <app>/templates/."""
    for app in LAYERS:
        for base in (root / "templates" / app, root / app / "templates"):
            for path in sorted(base.rglob("*.html")) if base.is_dir() else ():
                yield app, path


def project_imports(tree: ast.AST):
    """(line, imported app, inside a function?) for imports of project modules."""
    local = set()
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(id(n) for n in ast.walk(func) if isinstance(n, (ast.Import, ast.ImportFrom)))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                yield node.lineno, top, id(node) in local


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _first_string(node: ast.Call, keyword: str | None = None) -> str | None:
    arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == keyword), None)
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def relation_targets(tree: ast.AST):
    """(line, app label) of every relation field naming its model as "app.Model"."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in RELATIONS:
            target = _first_string(node, "to")
            if target and "." in target:
                yield node.lineno, target.split(".")[0]


def url_namespaces(tree: ast.AST):
    """(line, namespace) of every "ns:name" given to reverse(), redirect() and the like."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in URL_CALLS:
            name = _first_string(node, "viewname")
            if name and ":" in name:
                yield node.lineno, name.split(":")[0]


def message_types(tree: ast.AST):
    """(line, namespace) of every dict {"type": "ns.kind", ...} (a channel-layer message)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and "." in value.value
                ):
                    yield value.lineno, value.value.split(".")[0]


def migration_dependencies(tree: ast.AST):
    """(line, app) of every ("app", "migration") in a migration's dependencies."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "dependencies" for t in node.targets):
            for item in getattr(node.value, "elts", []):
                if isinstance(item, ast.Tuple) and isinstance(item.elts[0], ast.Constant):
                    yield item.lineno, item.elts[0].value


def table_owners(root: Path = ROOT) -> dict[str, str]:
    """Database table -> the app whose model it is (a Meta's db_table, else app_model)."""
    owners = {}
    for app, path in modules(root):
        if path.name != "models.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                owners.setdefault(f"{app}_{node.name.lower()}", app)
                for meta in (n for n in node.body if isinstance(n, ast.ClassDef) and n.name == "Meta"):
                    for stmt in meta.body:
                        if (
                            isinstance(stmt, ast.Assign)
                            and getattr(stmt.targets[0], "id", "") == "db_table"
                            and isinstance(stmt.value, ast.Constant)
                        ):
                            owners[stmt.value.value] = app
    return owners


def triggers(tree: ast.AST):
    """(line, table) of every CREATE TRIGGER ... ON table written in a string."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in CREATE_TRIGGER.finditer(node.value):
                yield node.lineno, match.group(1)


def dependencies(root: Path = ROOT):
    """Every edge between two apps: (kind, from app, to app, where), and the problems found on the way."""
    edges, problems = [], []
    owners = table_owners(root)
    for app, path in modules(root):
        rel = path.relative_to(root)
        text = path.read_text()
        lines, tree = text.splitlines(), ast.parse(text)
        for line, target, inside_function in project_imports(tree):
            edges.append(("import", app, target, f"{rel}:{line}"))
            commented = "#" in lines[line - 1] or (line > 1 and lines[line - 2].strip().startswith("#"))
            if inside_function and not commented and path.name != "apps.py":
                problems.append(f"{rel}:{line}: function-local import of {target} with no comment saying why")
        for kind, found in (("model", relation_targets), ("url", url_namespaces), ("message", message_types)):
            edges.extend((kind, app, target, f"{rel}:{line}") for line, target in found(tree) if target in LAYERS)
        problems.extend(foreign_triggers(app, rel, tree, owners))
    for app, path in migrations(root):
        rel, tree = path.relative_to(root), ast.parse(path.read_text())
        problems.extend(foreign_triggers(app, rel, tree, owners))
        if rel.as_posix() in MIGRATION_HISTORY:
            continue
        for line, target in migration_dependencies(tree):
            if target in LAYERS:
                edges.append(("migration", app, target, f"{rel}:{line}"))
    for app, path in templates(root):
        rel = path.relative_to(root)
        for number, line in enumerate(path.read_text().splitlines(), 1):
            edges.extend(("url", app, ns, f"{rel}:{number}") for ns in TEMPLATE_URL.findall(line) if ns in LAYERS)
    return list(dict.fromkeys(e for e in edges if e[1] != e[2])), problems


def foreign_triggers(app: str, rel: Path, tree: ast.AST, owners: dict[str, str]):
    """Triggers `app` installs on another app's table (a library's own tables are no app's)."""
    for line, table in triggers(tree):
        owner = owners.get(table)
        if owner and owner != app and (app, table) not in ALLOWED_TRIGGERS:
            yield f"{rel}:{line}: {app} installs a trigger on {table}, a table of {owner}"


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle between apps, each listed once (apps are few)."""
    cycles, seen = [], set()

    def walk(start, node, path):
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    cycles.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for app in sorted(edges):
        walk(app, app, [app])
    return cycles


def _verb(kind: str) -> str:
    return {
        "import": "imports",
        "model": "has a relation to a model of",
        "migration": "has a migration after one of",
        "url": "names a URL of",
        "message": "sends a channel message of",
    }[kind]


def check(root: Path = ROOT, notes: list[str] | None = None) -> list[str]:
    edges, problems = dependencies(root)
    notes = [] if notes is None else notes
    graph, where, kinds = defaultdict(set), defaultdict(list), defaultdict(set)
    for kind, app, target, place in edges:
        if LAYERS[target] <= LAYERS[app]:  # an upward edge is reported once, below, not in every circle it closes
            graph[app].add(target)
            where[app, target].append(f"{kind} {place}")
            kinds[app, target].add(kind)
        else:
            reason = ALLOWED_UPWARD.get((kind, app, target))
            line = (
                f"{place}: {LAYER_NAMES[LAYERS[app]]} app {app} {_verb(kind)} {target}, "
                f"a {LAYER_NAMES[LAYERS[target]]} app above it"
            )
            (notes.append(f"allowed: {line} ({reason})") if reason else problems.append(line))
    for cycle in find_cycles(graph):
        steps = "; ".join(
            f"{a} -> {b} by {', '.join(where[a, b][:3])}" + (" ..." if len(where[a, b]) > 3 else "")
            for a, b in zip(cycle, cycle[1:])
        )
        line = "apps depend on each other in a circle: " + " -> ".join(cycle) + f" ({steps})"
        (back_from, back_to, back_kinds), reason = ALLOWED_CYCLES.get(frozenset(cycle), ((None, None, set()), ""))
        if (back_from, back_to) not in zip(cycle, cycle[1:]) or not kinds[back_from, back_to] <= back_kinds:
            reason = ""
        (notes.append(f"allowed: {line}: {reason}") if reason else problems.append(line))
    return problems


def edge_kinds(root: Path = ROOT) -> dict[tuple[str, str], set[str]]:
    """(from app, to app) -> the kinds of dependency between them."""
    kinds = defaultdict(set)
    for kind, app, target, _ in dependencies(root)[0]:
        kinds[app, target].add(kind)
    return dict(kinds)


def main(argv: list[str]) -> int:
    if "--graph" in argv:
        order = {app: n for n, app in enumerate(LAYERS)}
        for (app, target), kinds in sorted(edge_kinds().items(), key=lambda e: (order[e[0][0]], order[e[0][1]])):
            print(f"{app} -> {target}: {', '.join(k for k in KINDS if k in kinds)}")
        return 0
    notes: list[str] = []
    problems = check(notes=notes)
    for line in notes + problems:
        print(line)
    print(f"layers: {len(problems)} problem(s)" if problems else "layers: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
