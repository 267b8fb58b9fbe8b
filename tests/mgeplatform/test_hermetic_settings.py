"""Tests are hermetic: a developer's `.env` and shell (a real API key, a
provider of their choice) change nothing a test sees, and no test's model
call leaves the machine unless the test routes it somewhere itself."""

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from mgeplatform.llm import gateway
from mgeplatform.llm.types import ChatRequest, Message
from mgeplatform.models import LLMCall
from studies import services
from studies.models import Study

ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "sk-ant-fake-0000000000000000"
SETTINGS_SEEN = [
    "LLM_DEFAULT_PROVIDER",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SITE_URL",
    "EMBEDDING_PROVIDER",
]


def _settings_in_a_copy(tmp_path, module: str) -> dict:
    """Load `module` in a fresh interpreter from a copy of config/ whose repo
    root holds a `.env` with a fake key (the real `.env`, if any, is never
    touched), with the same fake key in the shell's environment."""
    shutil.copytree(ROOT / "config", tmp_path / "config", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".env").write_text(
        f"ANTHROPIC_API_KEY={FAKE_KEY}\nLLM_DEFAULT_PROVIDER=anthropic\n"
        "OPENAI_BASE_URL=http://127.0.0.1:9/v1\nSITE_URL=http://from-dotenv.test\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{tmp_path}:{ROOT}",
        "MGE_DEV": "1",
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "OPENAI_API_KEY": "sk-fake-openai",
        # Any address will do: settings only parse it, and no embedded database is started for the copy.
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    }
    code = (
        "import importlib, json, os, sys; m = importlib.import_module(sys.argv[1]); "
        "print(json.dumps({'file': m.__file__, 'environ': os.environ.get('ANTHROPIC_API_KEY'), "
        f"**{{k: str(getattr(m, k)) for k in {SETTINGS_SEEN!r}}}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, module],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["file"].startswith(str(tmp_path))  # the copy, next to the fake `.env`, was loaded
    return seen


def test_the_normal_settings_do_read_the_dotenv_and_the_shell(tmp_path):
    """The control: without it the next test could pass because the copy's `.env` was never where it is read."""
    seen = _settings_in_a_copy(tmp_path, "config.settings")
    assert seen["LLM_DEFAULT_PROVIDER"] == "anthropic" and seen["ANTHROPIC_API_KEY"] == FAKE_KEY
    assert seen["SITE_URL"] == "http://from-dotenv.test"


def test_the_test_settings_ignore_the_dotenv_and_blank_every_provider_key(tmp_path):
    seen = _settings_in_a_copy(tmp_path, "config.settings_test")
    assert seen["LLM_DEFAULT_PROVIDER"] == "offline" and seen["EMBEDDING_PROVIDER"] == "offline"
    assert seen["ANTHROPIC_API_KEY"] == seen["OPENAI_API_KEY"] == seen["OPENAI_BASE_URL"] == ""
    assert seen["SITE_URL"] == "http://localhost:8000"  # the default: nothing of `.env` was read
    assert seen["environ"] is None  # processes the tests start inherit no key either


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every IP connection from this process (the database is on a Unix socket, already open)."""
    connect = socket.socket.connect

    def refuse(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"a test tried to reach {address}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_a_model_call_in_a_test_goes_to_the_offline_provider_whatever_the_shell_holds(db, monkeypatch, no_network):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("LLM_DEFAULT_PROVIDER", "anthropic")
    assert settings.ANTHROPIC_API_KEY == "" and gateway.resolve().offline
    # A study that asks for Anthropic falls back, and says why.
    study, _ = services.seed_case_study()
    study.llm_provider = "anthropic"
    route = gateway.resolve(study)
    assert route.offline and "ANTHROPIC_API_KEY is not set" in route.fallback_reason
    gateway.complete(
        ChatRequest(model="", system="s", messages=[Message(role="user", content="hi")], role_hint="plain_reply"),
        gateway.CallContext(purpose="test.hermetic", study=study),
    )
    assert list(LLMCall.objects.values_list("purpose", "provider")) == [("test.hermetic", "offline")]


def test_the_case_study_is_seeded_the_same_whatever_keys_the_shell_holds(db, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-openai")
    study, created = services.seed_case_study()
    assert created and (study.status, study.scripted_interviewer_ok) == (Study.Status.PILOT, True)
