"""The production process definitions, run as systemd would run them: the
ExecStart line of deploy/systemd/mge-web@.service, twice, each handed the
one listening socket of mge-web.socket as file descriptor 3."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import time
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


def test_web_units_share_one_socket_and_serve_a_tab_on_each_process(layout):
    socket_unit, service = _unit("mge-web.socket"), _unit("mge-web@.service")
    assert socket_unit["ListenStream"] == "127.0.0.1:8000" and service["Sockets"] == "mge-web.socket"
    cmd = shlex.split(service["ExecStart"])
    assert cmd[0] == "/srv/mge/.venv/bin/uvicorn" and "--fd" in cmd and cmd[cmd.index("--fd") + 1] == "3"
    assert "--no-proxy-headers" in cmd  # config/asgi.py decides which proxies to believe
    cmd[0] = str(Path(ROOT / ".venv" / "bin" / "uvicorn"))

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(int(socket_unit["Backlog"]))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def as_fd_3():  # what systemd does for Sockets=: the listening socket is fd 3 (SD_LISTEN_FDS_START)
        os.dup2(sock.fileno(), 3)  # a dup2'd descriptor is inheritable

    # close_fds=False: closing "every other" descriptor would close fd 3 after preexec_fn made it (Python's own
    # descriptors are not inheritable, so nothing else leaks into the child).
    log = open(layout.cluster.root / "units.log", "w")  # noqa: SIM115 - closed below
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=layout.env, preexec_fn=as_fd_3, close_fds=False,
                              stdout=log, stderr=subprocess.STDOUT) for _ in range(2)]
    try:
        person = Participant(base, "units-tabs")
        wait_until(lambda: _answers(base), timeout=90,
                   message="the web units did not answer: " + (layout.cluster.root / "units.log").read_text()[-2000:])
        person.join()

        async def tabs(n):
            from websockets.asyncio.client import connect

            url = base.replace("http://", "ws://") + f"/ws/s/{person.slug}/interview/"
            sockets = await asyncio.gather(*(connect(url, origin=base, open_timeout=30, additional_headers={
                "Cookie": f"sessionid={person.session}"}) for _ in range(n)))
            for ws in sockets:
                assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "state"
            holders = {p.pid for p in procs if _established(p.pid)}
            await sockets[0].send(json.dumps({"type": "user_message", "text": "I care about honesty.",
                                              "client_id": "u1"}))
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
        assert holders == {p.pid for p in procs}, "all tabs landed on one process: nothing crossed between them"

        # One process dies (systemd would restart it); the port keeps serving meanwhile.
        procs[0].kill()
        procs[0].wait()
        started = time.monotonic()
        assert _answers(base) and time.monotonic() - started < 5
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sock.close()
        log.close()


def _answers(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/healthz", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def _established(pid: int) -> bool:
    try:
        return any(c.status == psutil.CONN_ESTABLISHED for c in psutil.Process(pid).net_connections("tcp"))
    except psutil.Error:
        return False
