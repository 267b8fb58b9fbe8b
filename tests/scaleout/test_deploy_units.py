"""The production process definitions, run as systemd would run them: the
ExecStart line of deploy/systemd/mge-web@.service, twice, each handed its own
listening socket of mge-web@.socket (SO_REUSEPORT, one port) as file
descriptor 3."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from tests.faults.cluster import wait_until
from tests.faults.participant import Participant
from tests.scaleout.conftest import ROOT

pytestmark = pytest.mark.slow

UNITS = ROOT / "deploy" / "systemd"


def _unit(name: str) -> dict[str, str]:
    values = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def _reuseport_sockets(n: int, backlog: int) -> list[socket.socket]:
    """What systemd makes of n instances of mge-web@.socket: n listening
    sockets on one port, each with SO_REUSEPORT."""
    socks, port = [], 0
    for _ in range(n):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        sock.listen(backlog)
        socks.append(sock)
    return socks


def test_web_units_each_get_a_socket_of_the_port_serve_a_tab_each_and_survive_a_restart(layout):
    socket_unit, service = _unit("mge-web@.socket"), _unit("mge-web@.service")
    assert socket_unit["ListenStream"] == "127.0.0.1:8000" and socket_unit["ReusePort"] == "yes"
    assert socket_unit["Service"] == "mge-web@%i.service" and service["Sockets"] == "mge-web@%i.socket"
    assert service["Restart"] == "always"
    cmd = shlex.split(service["ExecStart"])
    assert cmd[0] == "/srv/mge/.venv/bin/uvicorn" and "--fd" in cmd and cmd[cmd.index("--fd") + 1] == "3"
    assert "--no-proxy-headers" in cmd  # config/asgi.py decides which proxies to believe
    cmd[0] = str(Path(ROOT / ".venv" / "bin" / "uvicorn"))

    socks = _reuseport_sockets(2, int(socket_unit["Backlog"]))
    port = socks[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(layout.cluster.root / "units.log", "w")  # noqa: SIM115 - closed below

    def start(i: int) -> subprocess.Popen:
        def as_fd_3():  # what systemd does for Sockets=: the listening socket is fd 3 (SD_LISTEN_FDS_START)
            os.dup2(socks[i].fileno(), 3)  # a dup2'd descriptor is inheritable

        # close_fds=False: closing "every other" descriptor would close fd 3 after preexec_fn made it (Python's
        # own descriptors are not inheritable, so nothing else leaks into the child).
        return subprocess.Popen(
            cmd, cwd=ROOT, env=layout.env, preexec_fn=as_fd_3, close_fds=False, stdout=log, stderr=subprocess.STDOUT
        )

    procs = [start(0), start(1)]
    try:
        person = Participant(base, "units-tabs")
        wait_until(
            lambda: _answers(base),
            timeout=90,
            message="the web units did not answer: " + (layout.cluster.root / "units.log").read_text()[-2000:],
        )
        person.join()

        async def tabs(n):
            from websockets.asyncio.client import connect

            url = base.replace("http://", "ws://") + f"/ws/s/{person.slug}/interview/"
            sockets = await asyncio.gather(
                *(
                    connect(
                        url, origin=base, open_timeout=30, additional_headers={"Cookie": f"sessionid={person.session}"}
                    )
                    for _ in range(n)
                )
            )
            for ws in sockets:
                assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "state"
            holders = {p.pid for p in procs if _established(p.pid, port)}
            await sockets[0].send(
                json.dumps({"type": "user_message", "text": "I care about honesty.", "client_id": "u1"})
            )
            complete = 0
            for ws in sockets:
                while json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] != "message_complete":
                    pass
                complete += 1
            for ws in sockets:
                await ws.close()
            return holders, complete

        holders, complete = asyncio.run(tabs(16))
        assert complete == 16  # every tab got the reply, whichever process holds it
        assert holders == {p.pid for p in procs}, "all tabs landed on one process: the sockets did not share the port"

        # One process dies. Its socket stays open (systemd holds it), so the connects the kernel hashes to it
        # wait in its backlog until systemd starts the process again (RestartSec), and none is refused.
        procs[0].kill()
        procs[0].wait()

        def timed_answer():
            asked_at = time.monotonic()
            return _answers(base, 90), time.monotonic() - asked_at

        with ThreadPoolExecutor(max_workers=12) as pool:
            asked = [pool.submit(timed_answer) for _ in range(12)]
            time.sleep(float(service["RestartSec"]))
            procs[0] = start(0)
            answered = [f.result() for f in asked]
        assert all(ok for ok, _ in answered), f"{sum(not ok for ok, _ in answered)} of 12 requests failed"
        # Some went to the survivor at once, some waited for the restart (so the restart path was exercised).
        waits = sorted(took for _, took in answered)
        assert waits[0] < 1 and waits[-1] > float(service["RestartSec"]), waits
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for sock in socks:
            sock.close()
        log.close()


def _answers(base: str, timeout: float = 3) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/healthz", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def _established(pid: int, port: int) -> bool:
    """The process holds a connection accepted on the web port (its Redis
    and database connections do not count)."""
    try:
        return any(
            c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
            for c in psutil.Process(pid).net_connections("tcp")
        )
    except psutil.Error:
        return False
