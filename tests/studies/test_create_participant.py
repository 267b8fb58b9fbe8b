"""One way a participant is made (issue 26): the study link, Prolific, a
staff preview, a simulation and an attack test all go through
studies.services.create_participant, so every participant.joined event has
one shape (studies.events.Joined), which record_event enforces."""

import random

import pydantic
import pytest
from django.contrib.sessions.backends.db import SessionStore

from mgeplatform.audit import record_event
from mgeplatform.models import DomainEvent
from studies import events
from studies import services as journey
from studies.models import Cohort, Participant


@pytest.fixture
def study(db):
    study, _ = journey.seed_case_study()
    study.require_prolific = False
    study.save()
    return study


def _joined(participant) -> dict:
    return DomainEvent.objects.get(kind="participant.joined", actor_participant=participant.pk).payload


def test_every_way_in_writes_the_same_shape_of_joined_event(study, django_user_model):
    from journey import attack, simulation

    coordinator = django_user_model.objects.create_user("coord", is_staff=True, is_superuser=True)
    by_link = journey.enter_study(study=study, session=SessionStore(), prolific=None)
    by_prolific = journey.enter_study(
        study=study, session=SessionStore(), prolific=journey.ProlificParams(pid="p1", study_id="s", session_id="t")
    )
    preview = journey.start_preview(study=study, session=SessionStore(), user=coordinator)
    simulated = simulation.create_participant(study, random.Random(1))
    bloc = attack._bloc_member(study, random.Random(2))

    shapes = {
        name: _joined(p)
        for name, p in [
            ("link", by_link),
            ("prolific", by_prolific),
            ("preview", preview),
            ("simulation", simulated),
            ("attack", bloc),
        ]
    }
    for name, payload in shapes.items():
        assert events.Joined.model_validate(payload).via == name
    assert shapes["prolific"]["via_prolific"] and not shapes["link"]["via_prolific"]
    assert shapes["preview"] == {
        "via": "preview",
        "via_prolific": False,
        "cohort": Cohort.PREVIEW,
        "simulated": False,
        "preview_via": "coordinator",
    }
    assert shapes["simulation"]["simulated"] and shapes["attack"]["simulated"]
    assert Participant.objects.get(pk=simulated.pk).simulated and Participant.objects.get(pk=bloc.pk).simulated
    assert by_prolific.prolific_identity.prolific_pid == "p1"
    assert DomainEvent.objects.get(kind="participant.joined", actor_participant=preview.pk).actor_user == coordinator


def test_a_joined_event_of_another_shape_is_refused(study):
    participant = journey.create_participant(study, via="link")
    with pytest.raises(pydantic.ValidationError):
        record_event(
            events.PARTICIPANT_JOINED,
            participant_id=participant.pk,
            study_slug=study.slug,
            payload={"via_prolific": False, "attack_bloc": True},
        )
    with pytest.raises(pydantic.ValidationError):
        journey.create_participant(study, via="somewhere")
    assert DomainEvent.objects.filter(kind="participant.joined").count() == 1


def test_an_untyped_kind_still_takes_any_payload(study):
    event = record_event(events.STUDY_SEEDED, study_slug=study.slug, payload={"anything": [1, 2]})
    assert event.payload == {"anything": [1, 2]}
