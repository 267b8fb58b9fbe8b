"""Resume codes: what a Prolific participant proves on another device, when
the link there carries a different Prolific SESSION_ID (anyone may know a
PROLIFIC_PID; only the participant sees their code on their pages)."""

from __future__ import annotations

import secrets

# Nothing to mistake for something else (no 0/O, 1/I/L, 5/S): 29 characters,
# so 29**8 (about 5 * 10**11) codes, and guessing is rate-limited.
ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
LENGTH = 8


def new_code() -> str:
    """A fresh random code, stored as 8 characters without the hyphen."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """The code as participants see it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}" if code else ""


def normalise(typed: str) -> str:
    """What a participant typed, as stored: capitals, without spaces or
    hyphens. Does not check it is a code (a wrong code simply does not match)."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())[:32]
