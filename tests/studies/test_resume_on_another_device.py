"""Resuming on another device (issue 25, item 4). Knowing a participant's
PROLIFIC_PID is not enough to become them: another browser must bring the
Prolific SESSION_ID they entered with, or the resume code shown on their
pages. A stranger gets the resume-code page, and neither the pages nor the
websockets give them anything of the participant's."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from config.asgi import application
from interviews import services as chat
from mgeplatform.models import DomainEvent
from studies import services
from studies.models import Participant, ProlificIdentity, Step
from tests.factories import PROLIFIC, enter

SECRET_ANSWER = "My sister Odalys moved back home after the divorce last spring."


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # the resume-code tries are counted in the cache, which outlives a test
    yield
    cache.clear()


def _victim(study):
    """A participant from Prolific in the middle of their interview, with
    something personal in the transcript."""
    browser = Client()
    enter(browser, study, **PROLIFIC)
    participant = Participant.objects.get()
    services.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    chat.add_user_message(interview_id=interview.pk, text=SECRET_ANSWER, client_message_id="c1")
    return participant, browser


def _their_interview(page) -> bool:
    """The page is the participant's interview (its transcript then comes over the websocket)."""
    html = page.content.decode()
    return page.status_code == 200 and 'id="chat-log"' in html and "data-interview=" in html


def _code(page) -> str:
    found = re.search(r'id="resume-code">([A-Z0-9-]+)<', page.content.decode())
    return found.group(1) if found else ""


def _kinds(kind):
    return list(DomainEvent.objects.filter(kind=kind).values_list("payload", flat=True))


# --- HTTP ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_someone_with_only_the_prolific_id_gets_the_resume_page_and_nothing_of_the_participant(study):
    participant, victim = _victim(study)
    stranger = Client()
    response = enter(stranger, study, **{**PROLIFIC, "SESSION_ID": "someone-elses-session"})
    assert response.status_code == 302 and response["Location"] == f"/s/{study.slug}/resume/"
    page = stranger.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "This study is already open on another device" in html and "enter your resume code" in html
    assert SECRET_ANSWER not in html and 'id="resume-code"' not in html  # no code of theirs, nothing they wrote
    # Every participant page stays shut to the stranger, and they cannot withdraw the participant.
    for path in ("journey", "consent", "withdraw"):
        shut = stranger.get(f"/s/{study.slug}/{path}/")
        assert shut.status_code == 403 and not _their_interview(shut)
    assert stranger.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"}).status_code == 403
    participant.refresh_from_db()
    assert participant.current_step == Step.INTERVIEW
    # The participant's own browser carries on, and the stored session id is still theirs.
    assert _their_interview(victim.get(f"/s/{study.slug}/journey/"))
    assert ProlificIdentity.objects.get().prolific_session_id == PROLIFIC["SESSION_ID"]
    assert _kinds("participant.resume_refused") == [{"reason": "another Prolific session id"}]
    assert _kinds("participant.resume_accepted") == []


@pytest.mark.django_db
def test_the_same_prolific_session_on_a_second_device_carries_on(study):
    participant, _ = _victim(study)
    phone = Client()
    response = enter(phone, study, **PROLIFIC)
    assert response.status_code == 302 and response["Location"] == f"/s/{study.slug}/journey/"
    assert _their_interview(phone.get(response["Location"]))
    assert Participant.objects.count() == 1
    assert _kinds("participant.resume_accepted") == [{"proof": "prolific_session_id"}]


@pytest.mark.django_db
def test_the_resume_code_on_the_participants_pages_lets_them_carry_on_elsewhere(study):
    participant, victim = _victim(study)
    code = _code(victim.get(f"/s/{study.slug}/journey/"))
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), "the page shows a resume code"
    assert not set(code) & set("01OIL5S")  # nothing to misread

    laptop = Client()
    assert enter(laptop, study, **{**PROLIFIC, "SESSION_ID": "a-new-session"})["Location"].endswith("/resume/")
    wrong = laptop.post(f"/s/{study.slug}/resume/", {"code": "AAAA-AAAA" if code != "AAAA-AAAA" else "BBBB-BBBB"})
    assert wrong.status_code == 400 and "does not match" in wrong.content.decode()
    assert SECRET_ANSWER not in wrong.content.decode()
    assert laptop.get(f"/s/{study.slug}/journey/").status_code == 403

    # Typed as people type it: small letters, a space instead of the hyphen.
    right = laptop.post(f"/s/{study.slug}/resume/", {"code": code.lower().replace("-", " ")})
    assert right.status_code == 302 and right["Location"] == f"/s/{study.slug}/journey/"
    assert _their_interview(laptop.get(right["Location"]))
    assert sorted(e["reason"] for e in _kinds("participant.resume_refused")) == [
        "another Prolific session id",
        "wrong resume code",
    ]
    assert _kinds("participant.resume_accepted") == [{"proof": "resume_code"}]
    # Once in, the page is not asked for again.
    assert laptop.get(f"/s/{study.slug}/resume/")["Location"] == f"/s/{study.slug}/journey/"


@pytest.mark.django_db
def test_resume_code_tries_are_rate_limited(study):
    participant, victim = _victim(study)
    code = _code(victim.get(f"/s/{study.slug}/journey/"))
    guesser = Client(REMOTE_ADDR="203.0.113.50")
    enter(guesser, study, **{**PROLIFIC, "SESSION_ID": "guessing"})
    guesses = [g for g in ["ABCD-EFGH", "BCDE-FGHJ", "CDEF-GHJK", "DEFG-HJKM", "EFGH-JKMN", "FGHJ-KMNP"] if g != code][
        :5
    ]
    for guess in guesses:
        assert guesser.post(f"/s/{study.slug}/resume/", {"code": guess}).status_code == 400
    # Even the right code is refused once the tries are used up, and says why.
    limited = guesser.post(f"/s/{study.slug}/resume/", {"code": code})
    assert limited.status_code == 429 and "Too many tries" in limited.content.decode()
    assert guesser.get(f"/s/{study.slug}/journey/").status_code == 403
    assert {"reason": "too many tries"} in _kinds("participant.resume_refused")


@pytest.mark.django_db
def test_the_resume_page_without_a_pending_resume_says_to_start_from_the_link(study):
    page = Client().get(f"/s/{study.slug}/resume/")
    assert page.status_code == 400 and "open the study from Prolific" in page.content.decode()
    empty = Client()
    enter(empty, study, **PROLIFIC)  # the participant themself
    stranger = Client()
    enter(stranger, study, **{**PROLIFIC, "SESSION_ID": "other"})
    blank = stranger.post(f"/s/{study.slug}/resume/", {"code": "  "})
    assert blank.status_code == 400 and "Please enter your resume code" in blank.content.decode()


# --- websockets -----------------------------------------------------------------------------


def _stranger_cookie():
    study, _ = services.seed_case_study()
    participant, _ = _victim(study)
    stranger = Client()
    enter(stranger, study, **{**PROLIFIC, "SESSION_ID": "someone-elses-session"})
    return study, stranger.cookies["sessionid"].value


def _same_session_cookie():
    study, _ = services.seed_case_study()
    _victim(study)
    phone = Client()
    enter(phone, study, **PROLIFIC)
    return study, phone.cookies["sessionid"].value


async def _socket(slug, path, cookie):
    ws = WebsocketCommunicator(
        application,
        f"/ws/s/{slug}/{path}/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    return ws


@pytest.mark.django_db(transaction=True)
async def test_the_interview_and_journey_sockets_give_the_stranger_nothing():
    study, cookie = await sync_to_async(_stranger_cookie)()
    for path in ("interview", "journey"):
        ws = await _socket(study.slug, path, cookie)
        # Closed as not a participant, with no state frame (and so no transcript) before it.
        assert await ws.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db(transaction=True)
async def test_the_same_prolific_session_on_a_second_device_gets_the_transcript():
    study, cookie = await sync_to_async(_same_session_cookie)()
    ws = await _socket(study.slug, "interview", cookie)
    state = await ws.receive_json_from(timeout=5)
    assert state["type"] == "state" and SECRET_ANSWER in str(state)
    await ws.disconnect()
