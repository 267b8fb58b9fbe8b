#!/usr/bin/env python3
"""Check that the apps depend one way (docs/architecture.md, "Layers").

    python3 scripts/check_layers.py

Parses every production module's imports (no Django needed) and fails on:
- an import from a lower layer into a higher one;
- a cycle between apps (features may use each other, but never both ways);
- a function-local import of a project module with no comment saying why
  (on the import's line or the line above).

Migrations and tests are not checked. Exits 1 with one line per problem.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The layers, lowest first. An app may import apps of its own layer or lower.
LAYERS = {
    "mgeplatform": 0,  # platform: audit trail, roles, LLM gateway, embedded database
    "studies": 1,  # base: studies, consent, participants, the step table
    "values": 2,  # features
    "interviews": 2,
    "graph": 2,
    "surveys": 2,
    "alignment": 3,  # uses of the moral graph: reads graph and values, which never read it
    "journey": 4,  # orchestration
    "config": 5,  # project: settings, URLs, ASGI
}
LAYER_NAMES = {0: "platform", 1: "base", 2: "feature", 3: "graph use", 4: "orchestration", 5: "project"}


def modules(root: Path = ROOT):
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
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


def check(root: Path = ROOT) -> list[str]:
    problems, edges = [], {}
    for app, path in modules(root):
        rel = path.relative_to(root)
        lines = path.read_text().splitlines()
        for line, target, inside_function in project_imports(ast.parse(path.read_text())):
            if target != app:
                edges.setdefault(app, set()).add(target)
            if LAYERS[target] > LAYERS[app]:
                problems.append(f"{rel}:{line}: {LAYER_NAMES[LAYERS[app]]} app {app} imports {target}, "
                                f"a {LAYER_NAMES[LAYERS[target]]} app above it")
            commented = "#" in lines[line - 1] or (line > 1 and lines[line - 2].strip().startswith("#"))
            if inside_function and not commented and path.name != "apps.py":
                problems.append(f"{rel}:{line}: function-local import of {target} with no comment saying why")
    for cycle in find_cycles(edges):
        problems.append("apps import each other in a circle: " + " -> ".join(cycle))
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem)
    print(f"layers: {len(problems)} problem(s)" if problems else "layers: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
