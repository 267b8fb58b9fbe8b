import pytest

# The shared fixtures; the plain builders and test data are in tests/factories.py.
pytest_plugins = ["tests.fixtures"]


def pytest_collection_modifyitems(items):
    """Mark the real-browser tests, so `-m "not slow and not browser"` is the fast tier."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)
