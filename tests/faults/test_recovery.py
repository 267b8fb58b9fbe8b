"""Faults a study meets in the field, on real processes: the database
restarts, the web server dies mid-reply, the worker is killed mid-job. The
platform must come back with nobody stepping in, and the participant must
lose nothing."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from tests.faults.cluster import wait_until
from tests.faults.conftest import Platform
from tests.faults.participant import Participant

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DB_DOWN_SECONDS = 10  # the restart the tester timed
ANSWERS = [
    "I care that people think about everyone affected, not only themselves, when they decide.",
    "When I thought I was pregnant in college I was scared and only thought about myself at first.",
    "Looking back I paid attention to how others would feel and to what my faith teaches me.",
]


def _assistant_replies(state) -> list[str]:
    return [m["content"] for m in state["messages"] if m["role"] == "assistant"]


def test_database_restart_under_a_live_interview(platform):
    person = Participant(platform.base, "fault-db")
    person.join()
    person.open()
    person.say(ANSWERS[0], "a1")
    worker_before = platform.worker_pid()

    platform.cluster.stop()
    time.sleep(DB_DOWN_SECONDS)
    platform.cluster.start()
    restarted = time.monotonic()

    # The participant's next message is answered, on the page they had open
    # or, if the server dropped it, after the page reconnects by itself.
    try:
        frames = person.say(ANSWERS[1], "a2", timeout=45)
    except Exception:  # the socket died with the database: connect again, as the page does
        state, _ = person.reconnect(timeout=30)
        if not any(m["client_message_id"] == "a2" for m in state["messages"]):
            person.send({"type": "user_message", "text": ANSWERS[1], "client_id": "a2"})
        frames = person.until("message_complete", timeout=45)
    answered_after = time.monotonic() - restarted
    assert frames[-1]["message"]["content"]

    # Nothing lost: both answers and both replies are in the transcript.
    person.close()
    state = person.open()
    users = [m["content"] for m in state["messages"] if m["role"] == "user"]
    assert users == ANSWERS[:2]
    assert len(_assistant_replies(state)) == 3  # greeting and two replies
    assert not state["replying"] and not state["awaiting_reply"]

    # No error pages once the database is back: every pooled connection was
    # checked before use.
    statuses = [person.get(f"/s/{person.slug}/journey/")[0] for _ in range(15)]
    statuses += [person.get("/healthz")[0] for _ in range(15)]
    assert set(statuses) == {200}, statuses

    # The worker is still there (reconnected, or stopped and started again
    # by run_worker) and runs jobs.
    job = platform.defer("studies.record_open_study_statistics", timestamp=0)
    wait_until(
        lambda: platform.job_status(job) == "succeeded",
        timeout=30,
        message=f"a job queued after the restart was not run:\n{platform.tail()}",
    )
    assert platform.proc.poll() is None and platform.worker_pid() is not None
    person.close()
    print(
        f"\ndatabase down {DB_DOWN_SECONDS}s; next message answered {answered_after:.1f}s after it came back; "
        f"worker {'restarted' if platform.worker_pid() != worker_before else 'reconnected'}"
    )


def test_web_server_killed_mid_reply_then_the_open_page_gets_the_answer(platform):
    person = Participant(platform.base, "fault-web")
    person.join()
    person.open()
    web_before = platform.web_pid()
    person.send({"type": "user_message", "text": ANSWERS[0], "client_id": "w1"})
    person.until("reply_started", timeout=15)  # the model is thinking (a second per call)

    os.kill(web_before, signal.SIGKILL)
    killed = time.monotonic()

    # The page reconnects by itself once the server is back (restarted by
    # dev.py run); the dead server's reply is still fresh then.
    state, _ = person.reconnect(timeout=40)
    reconnected_after = time.monotonic() - killed
    assert platform.web_pid() not in (None, web_before)
    assert state["awaiting_reply"] is True
    assert state["replying"] is True, "reconnected after the stale window: the takeover timer was not exercised"

    # The participant does nothing: no reload, no retry, no new message.
    frames = person.until("message_complete", timeout=40)
    answered_after = time.monotonic() - killed
    assert frames[-1]["message"]["content"]

    person.close()
    state = person.open()
    assert [m["content"] for m in state["messages"] if m["role"] == "user"] == [ANSWERS[0]]
    assert len(_assistant_replies(state)) == 2  # the greeting and exactly one reply
    person.close()
    print(
        f"\nweb server killed mid-reply; page reconnected after {reconnected_after:.1f}s, "
        f"answer arrived {answered_after:.1f}s after the kill"
    )


SETUP_STUDY = """
from journey import simulation
from studies import services
from studies.models import Study
from values.models import CanonicalValue
study, _ = services.seed_case_study("faults-jobs")
Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)  # no periodic job touches it
simulation.simulate(Study.objects.get(pk=study.pk), 5, seed=3)
print(study.pk, CanonicalValue.objects.filter(study=study).count())
"""


def test_worker_killed_mid_job_then_the_job_finishes_once(platform):
    study_id, values = map(int, platform.manage("shell", "-c", SETUP_STUDY).split()[-2:])
    assert values >= 2
    job = platform.defer("graph.generate_stories", study_id=study_id)
    count = f"SELECT count(*) FROM graph_transitionstory WHERE study_id = {study_id}"
    running = f"SELECT id FROM graph_storyrun WHERE study_id = {study_id} AND status = 'running'"

    # Kill the worker once the job has written a story and is still going.
    wait_until(
        lambda: platform.cluster.query(count)[0][0] >= 1,
        timeout=60,
        interval=0.1,
        message="the story job wrote nothing",
    )
    cut_off = platform.cluster.query(running)
    assert cut_off, "the job finished before it could be killed"
    worker_before = platform.worker_pid()
    written_before = platform.cluster.query(count)[0][0]
    os.kill(worker_before, signal.SIGKILL)
    killed = time.monotonic()

    wait_until(
        lambda: platform.job_status(job) == "succeeded",
        timeout=60,
        interval=0.2,
        message=f"the job did not finish after the worker was killed:\n{platform.tail()}",
    )
    finished_after = time.monotonic() - killed
    assert platform.worker_pid() not in (None, worker_before)

    # The run that was cut off says why; a new run finished the work.
    runs = platform.cluster.query(
        f"SELECT id, status, error FROM graph_storyrun WHERE study_id = {study_id} ORDER BY id"
    )
    assert runs[0][0] == cut_off[0][0] and runs[0][1] == "failed" and "process running it ended" in runs[0][2]
    assert [r[1] for r in runs[1:]] == ["finished"]
    # Nothing written twice, and nothing written before the kill lost.
    duplicates = platform.cluster.query(
        f"SELECT from_value_id, to_value_id, context_id FROM graph_transitionstory WHERE study_id = {study_id} "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    assert duplicates == []
    written = platform.cluster.query(count)[0][0]
    assert written > written_before
    print(
        f"\nworker killed mid-job ({written_before} stories written); job finished {finished_after:.1f}s later "
        f"with {written}"
    )


def test_ctrl_c_stops_run_and_every_process_it_started_even_from_a_background_script():
    """`run` started by a script in the background inherits SIGINT ignored;
    Ctrl-C's signal (or a supervisor's SIGINT) must still stop it, and with
    it the web server and the worker, instead of leaving them serving."""
    running = Platform(sigint_ignored=True)
    try:
        children = running.children()
        assert running.web_pid() and running.worker_pid()
        running.proc.send_signal(signal.SIGINT)
        running.proc.wait(timeout=40)
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, [" ".join(p.cmdline()) for p in alive]
        assert "shutting down" in running.tail()
    finally:
        running.stop()


MORE_ANSWERS = [
    *ANSWERS,
    "I think about what my grandmother would say, and whether I could live with the choice.",
    "Mostly whether everyone involved was heard before deciding.",
    "Yes, that is what I pay attention to.",
]
LAST_MESSAGE = """SELECT m.role, m.tool_calls::text FROM interviews_chatmessage m
                  WHERE m.interview_id = (SELECT max(id) FROM interviews_interview) ORDER BY m.seq DESC LIMIT 1"""
CARDS = "SELECT count(*) FROM values_valuescard WHERE interview_id = (SELECT max(id) FROM interviews_interview)"
REPLY_REQUESTS = """SELECT request_messages FROM mgeplatform_llmcall WHERE purpose = 'interview.reply'
                    AND participant = (SELECT participant_id FROM interviews_interview ORDER BY id DESC LIMIT 1)
                    AND created_at > to_timestamp(%s)"""


USER_MESSAGES = (
    "SELECT count(*) FROM interviews_chatmessage WHERE role = 'user' AND interview_id = "
    "(SELECT max(id) FROM interviews_interview)"
)


def _turn_over(last) -> bool:
    return last[0] == "assistant" and last[1] in ("[]", "", None)


def _at(point: str, last) -> bool:
    role, calls = last
    if point == "card_writer":  # the interviewer asked for the card; its result is not saved yet
        return role == "assistant" and calls not in ("[]", "", None)
    return role == "tool"  # the card is shown; the interviewer's next words are not saved yet


@pytest.mark.parametrize("point", ["card_writer", "follow_up"])
def test_web_server_killed_inside_the_tool_loop_then_the_interview_carries_on(platform, point):
    """The two places a reply can die between a tool call and the end of the
    turn. Afterwards the interview is never stuck: the reply is taken over,
    every request the model is sent answers each tool call, and a card comes."""
    person = Participant(platform.base, f"fault-tool-{point}")
    person.join()
    person.open()
    killed = None
    for i, answer in enumerate(MORE_ANSWERS):
        person.send({"type": "user_message", "text": answer, "client_id": f"t{i}"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            last = platform.cluster.query(LAST_MESSAGE)[0]
            if _at(point, last):
                web = platform.web_pid()
                os.kill(web, signal.SIGKILL)
                killed = time.time()
                break
            if _turn_over(last) and platform.cluster.query(USER_MESSAGES)[0][0] == i + 1:
                break  # a plain reply: answer again
            time.sleep(0.02)
        if killed:
            break
    assert killed, f"the interviewer never reached the {point} point"

    # Nobody steps in: the page reconnects, the reply is taken over and ends in words for the participant.
    person.reconnect(timeout=40)
    wait_until(
        lambda: _turn_over(platform.cluster.query(LAST_MESSAGE)[0]),
        timeout=60,
        message=f"the reply was not taken over:\n{platform.tail()}",
    )
    person.close()
    person.open()
    for j, answer in enumerate(MORE_ANSWERS[-2:]):
        if platform.cluster.query(CARDS)[0][0]:
            break
        person.say(answer, f"after{j}", timeout=40)
    assert platform.cluster.query(CARDS)[0][0] >= 1, "no card after the kill"
    # Every request sent after the kill answered each tool call right after it.
    sent = platform.cluster.query(REPLY_REQUESTS, killed)
    assert sent, "no interviewer request after the kill"
    for (messages,) in sent:
        for k, message in enumerate(messages):
            for call in message.get("tool_calls") or []:
                assert messages[k + 1]["role"] == "tool" and messages[k + 1]["tool_call_id"] == call["id"], messages
    person.close()
