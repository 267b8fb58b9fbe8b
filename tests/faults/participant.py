"""A participant driven over real HTTP and a real websocket, as the browser
does it (interview.js): join by the study link, consent, choose a question,
then chat; after a dropped connection, connect again and carry on."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect


class Participant:
    def __init__(self, base: str, pid: str):
        self.base = base
        self.pid = pid
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws = None

    # --- pages ------------------------------------------------------------------

    def get(self, path: str, timeout: float = 15) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def post(self, path: str, fields: dict, page: str) -> tuple[int, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=15) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def join(self, slug: str = "case-study") -> str:
        """Through consent and the choice of question to the interview page."""
        status, page = self.get(f"/s/{slug}/?PROLIFIC_PID={self.pid}&STUDY_ID=faults&SESSION_ID={self.pid}")
        assert status == 200 and "I agree" in page, (status, page[:500])
        consent_hash = re.search(r'name="consent_hash" value="([^"]+)"', page).group(1)
        status, page = self.post(f"/s/{slug}/consent/", {"choice": "accept", "consent_hash": consent_hash}, page)
        assert status == 200, (status, page[:500])
        scenario = re.search(r'name="scenario" value="(\d+)"', page).group(1)
        status, page = self.post(f"/s/{slug}/scenario/", {"scenario": scenario}, page)
        assert status == 200 and 'id="interview"' in page, (status, page[:500])
        self.slug = slug
        return page

    @property
    def session(self) -> str:
        return next(c.value for c in self.jar if c.name == "sessionid")

    # --- chat ---------------------------------------------------------------------

    def open(self, timeout: float = 5) -> dict:
        """Connect and return the state snapshot."""
        url = self.base.replace("http://", "ws://") + f"/ws/s/{self.slug}/interview/"
        self.ws = connect(
            url,
            open_timeout=timeout,
            legacy=True,
            additional_headers={"Cookie": f"sessionid={self.session}", "Origin": self.base},
        )
        state = self.recv(timeout)
        assert state["type"] == "state", state
        return state

    def reconnect(self, timeout: float) -> tuple[dict, float]:
        """Try again every half second, as the page does, until connected.
        Returns the snapshot and the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            try:
                return self.open(timeout=3), time.monotonic() - started
            except (OSError, WebSocketException, TimeoutError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def recv(self, timeout: float) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def until(self, kind: str, timeout: float) -> list[dict]:
        """Frames up to and including the first of type `kind`."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            frame = self.recv(timeout=max(0.1, deadline - time.monotonic()))
            frames.append(frame)
            if frame["type"] == kind:
                return frames

    def say(self, text: str, client_id: str, timeout: float = 30) -> list[dict]:
        self.send({"type": "user_message", "text": text, "client_id": client_id})
        return self.until("message_complete", timeout)

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
