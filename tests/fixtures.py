"""The pytest fixtures more than one test package uses, loaded for every test
as a plugin (`pytest_plugins` in tests/conftest.py). Fixtures only one package
uses stay in that package's conftest.py; plain builders are in
tests/factories.py."""

import pytest
from django.test import Client

from mgeplatform import services as platform_services
from studies import services
from studies.models import Study
from tests.factories import PROLIFIC, enter, make_values


@pytest.fixture
def study(db) -> Study:
    study, _ = services.seed_case_study()
    return study


@pytest.fixture
def prolific_params():
    return dict(PROLIFIC)


@pytest.fixture
def participant_client(study, prolific_params):
    client = Client()
    response = enter(client, study, **prolific_params)
    assert response.status_code == 302
    return client


@pytest.fixture
def coordinator(db):
    return platform_services.upsert_staff_user(email="coord@example.org", role="coordinator", password="x-coord-pass-1")


@pytest.fixture
def auditor(db):
    return platform_services.upsert_staff_user(email="audit@example.org", role="auditor", password="x-audit-pass-1")


@pytest.fixture
def graph_study(db):
    """A study whose parenting scenario has canonical values written by
    participants, embedded with the offline model."""
    from studies import services as journey

    study, _ = journey.seed_case_study()
    return study, make_values(study)
