"""Fixtures only the graph tests use. The shared graph_study fixture is in
tests/fixtures.py, and make_values, which writes its values, in tests/factories.py."""

import pytest

from mgeplatform.llm.providers import offline as offline_provider


@pytest.fixture
def replace_script():
    """Swap an offline script for one test (a model that misbehaves)."""
    saved = dict(offline_provider._SCRIPTS)

    def replace(role, script):
        offline_provider.register_script(role, script)

    yield replace
    offline_provider._SCRIPTS.clear()
    offline_provider._SCRIPTS.update(saved)
