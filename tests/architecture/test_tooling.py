"""The development checks' configuration: every app is either type-checked
or listed as not yet, the pre-commit hooks are local and pass, and the test
command measures coverage for the fast tier only."""

import importlib.util
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_app_is_type_checked_or_listed_as_not_yet():
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    enabled = set(mypy["packages"])
    ignored = {m.removesuffix(".*") for o in mypy["overrides"] if o.get("ignore_errors") for m in o["module"]}
    apps = set(_load("check_layers").LAYERS)
    assert enabled & ignored == set()
    # A new app must be added to one list or the other, so it is never silently unchecked.
    assert apps <= enabled | ignored, sorted(apps - enabled - ignored)
    assert {"mgeplatform", "studies"} <= enabled


def test_pre_commit_hooks_are_local_and_pass_on_the_tree():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert {r["repo"] for r in config["repos"]} == {"local"}  # nothing to download
    hooks = {h["id"]: h for r in config["repos"] for h in r["hooks"]}
    assert {"ruff", "ruff-format", "check-layers"} <= set(hooks)
    assert all(h["entry"].startswith(".venv/bin/") for h in hooks.values())
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "pre-commit"), "run", "--all-files"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ruff check" in run.stdout and "check_layers" in run.stdout and "ruff format" in run.stdout
    assert all("manual" not in h.get("stages", []) for h in hooks.values())  # every hook runs on commit


def test_coverage_is_measured_for_the_fast_tier_only():
    dev = _load("dev")
    assert dev.coverage_args(["tests/graph", "-m", "not slow and not browser", "-q"]) == ["--cov", "--cov-report="]
    assert dev.coverage_args(["-m=not slow and not browser"]) == ["--cov", "--cov-report="]
    assert dev.coverage_args(["-m", "not slow and not browser", "--no-cov"]) == []
    assert dev.coverage_args(["-m", "fault"]) == []
    assert dev.coverage_args(["tests/graph"]) == []


def test_the_test_command_refuses_an_unformatted_file(tmp_path):
    """`ruff format --check` is one of the test command's checks, and it fails
    on a file written without the formatter."""
    assert _load("dev").static_check_commands()["format"][1:3] == ["format", "--check"]
    messy = tmp_path / "messy.py"
    messy.write_text("x = {  'a':1,\n 'b' :2 }\n")
    ruff = str(ROOT / ".venv" / "bin" / "ruff")
    config = ["--config", str(ROOT / "pyproject.toml")]
    assert subprocess.run([ruff, "format", "--check", *config, str(messy)], capture_output=True).returncode == 1
    assert subprocess.run([ruff, "format", "--check", "--quiet", "."], cwd=ROOT, capture_output=True).returncode == 0
