"""Shared fixtures for the graph tests: a study whose parenting scenario has
canonical values written by participants, embedded with the offline model."""

import pytest

from mgeplatform.llm.providers import offline as offline_provider
from tests.conftest import consented_participant
from values import embeddings
from values.models import CanonicalValue, ValuesCard

POLICIES = [
    ["EXAMPLES of discipline that can inspire the child", "ROLE MODELS who embody discipline"],
    ["MOMENTS when the child's eyes light up with interest", "QUESTIONS the child asks on their own",
     "OPPORTUNITIES to follow the child's passions"],
    ["ROUTINES that give the family a calm evening", "SIGNS that the child feels safe at home"],
    ["CONVERSATIONS where the child explains their reasons", "AGREEMENTS the child helped shape"],
    ["CONSEQUENCES the child can understand", "CONSISTENCY between what parents say and do"],
    ["PLAY that builds the child's confidence", "PRAISE for effort rather than results",
     "CHANCES for the child to teach the parent"],
]


def make_values(study, scenario_key="parenting", policies=POLICIES, prefix="author"):
    from interviews import services as chat

    scenario = study.scenarios.get(key=scenario_key)
    values = []
    for i, value_policies in enumerate(policies):
        author, _ = consented_participant(study, f"{prefix}-{scenario_key}-{i}")
        interview = chat.choose_scenario(participant=author, scenario=scenario)
        card = ValuesCard.objects.create(interview=interview, revision=1, title=f"Value {i}",
                                         description=f"An assistant with value {i}.", policies=value_policies,
                                         source="articulator", submitted=True)
        value = CanonicalValue.objects.create(study=study, title=f"Value {i}", description=card.description,
                                              policies=value_policies, origin="manual", representative_card=card)
        ValuesCard.objects.filter(pk=card.pk).update(canonical=value)
        values.append(value)
    embeddings.embed_objects(values, study=study)
    return values


@pytest.fixture
def graph_study(transactional_db):
    from studies import services as journey

    study, _ = journey.seed_case_study()
    return study, make_values(study)


@pytest.fixture
def replace_script():
    """Swap an offline script for one test (a model that misbehaves)."""
    saved = dict(offline_provider._SCRIPTS)

    def replace(role, script):
        offline_provider.register_script(role, script)

    yield replace
    offline_provider._SCRIPTS.clear()
    offline_provider._SCRIPTS.update(saved)
