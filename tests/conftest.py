import pytest

# The shared fixtures; the plain builders and test data are in tests/factories.py.
pytest_plugins = ["tests.fixtures"]


def pytest_collection_modifyitems(items):
    """Mark the real-browser tests, so `-m "not slow and not browser"` is the fast tier."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """The test database is created and migrated by the schema's owner, as
    `migrate` is in production (mgeplatform/dbroles.py)..."""
    from mgeplatform import dbroles

    dbroles.switch_to_owner("default")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """...and the tests then run as the application's role, which owns
    nothing: what the tests see is what the deployed application may do."""
    from mgeplatform import dbroles

    with django_db_blocker.unblock():
        dbroles.switch_to_app("default")
    yield
    with django_db_blocker.unblock():
        dbroles.switch_to_owner("default")  # pytest-django drops the database (without --reuse-db)
