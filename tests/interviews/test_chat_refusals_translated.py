"""The chat's refusals reach the participant in their language (issue 27):
a Spanish participant who sends text that cannot be saved, an empty answer
a card action that is not possible yet or a card edit that cannot be
kept reads why in Spanish."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from interviews import services as chat
from studies import services
from studies.models import Participant, Study
from tests.factories import PROLIFIC, enter

pytestmark = pytest.mark.django_db(transaction=True)


def _spanish_interview():
    study, _ = services.seed_case_study()
    Study.objects.filter(pk=study.pk).update(languages=["en", "es"])
    study.refresh_from_db()
    client = Client()
    enter(client, study, **PROLIFIC, lang="es")
    participant = Participant.objects.get()
    assert participant.language == "es"
    services.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="abortion"))
    return study, client.cookies["sessionid"].value


async def test_a_spanish_participant_reads_the_chat_s_refusals_in_spanish():
    study, cookie = await database_sync_to_async(_spanish_interview)()
    ws = WebsocketCommunicator(
        application,
        f"/ws/s/{study.slug}/interview/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "state"

    refusals = [
        ({"type": "user_message", "text": "Me importa\x00 esto", "client_id": "n1"}, "carácter de control invisible"),
        ({"type": "user_message", "text": "   ", "client_id": "e1"}, "Escriba algo primero."),
        ({"type": "submit"}, "Aún no hay ninguna tarjeta que enviar."),
        # A card edit that cannot be kept: each reason is a whole sentence in Spanish.
        ({"type": "card_edit", "title": " ", "description": "Algo.", "policies": ["uno"]}, "El título está vacío."),
        (
            {"type": "card_edit", "title": "Un título", "description": "Algo.", "policies": ["uno", "  "]},
            "El punto de atención 2 está vacío.",
        ),
        (
            {"type": "card_edit", "title": "Un título", "description": "Algo.", "policies": []},
            "Una tarjeta necesita de 1 a 10 puntos de atención; esta tiene 0.",
        ),
    ]
    for frame, said in refusals:
        await ws.send_json_to(frame)
        error = await ws.receive_json_from(timeout=5)
        assert error["type"] == "error", frame
        assert said in error["message"], error
    await ws.disconnect()
