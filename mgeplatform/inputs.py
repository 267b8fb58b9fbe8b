"""What participants send, checked in one place before anything is stored:
websocket frames (size, JSON, nesting, characters) and the text of form
fields. Postgres cannot store a NUL character (text or jsonb) and a lone
UTF-16 surrogate cannot be encoded as UTF-8, so both are refused here with a
message the participant can act on, instead of failing deep in a save."""

from __future__ import annotations

import json
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# A lone surrogate is the only way a Python str holds U+D800..U+DFFF (a
# well-formed pair is decoded to one code point).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

MAX_DEPTH = 10  # the deepest real frame (card_edit's policies) is 2

BAD_TEXT = "bad_text"
MESSAGES = {
    "\x00": "contains an invisible control character (NUL) that cannot be saved",
    "surrogate": "contains a broken character (half of an emoji or symbol) that cannot be saved",
}


# What a participant's form field is called in the messages below; a name the
# catalogs have is shown in the participant's language.
FIELD_NAMES = [
    gettext_noop("Your text"),
    gettext_noop("Your reason"),
    gettext_noop("Your message"),
    gettext_noop("Your explanation"),
    gettext_noop("The reason"),
    gettext_noop("The card"),
]


class BadInput(ValueError):
    """Input refused; `code` is for the client, `message` for the participant."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return MESSAGES["\x00"] if found.group() == "\x00" else MESSAGES["surrogate"]


def storable(text: str) -> str:
    """The text without the characters that cannot be saved: what a page
    shows back to the participant after refusing it."""
    return _UNSTORABLE.sub("", text)


def check_text(value, *, what: str = "Your text", max_chars: int | None = None, code_too_long: str = "too_long") -> str:
    """Return `value` if it is a str that can be stored (within `max_chars`
    when given, counted after stripping surrounding whitespace); else raise
    BadInput. Does not strip: callers decide what blank means."""
    field = _(what)
    if not isinstance(value, str):
        raise BadInput("malformed", _("%(what)s should be text.") % {"what": field})
    found = _UNSTORABLE.search(value)
    if found is not None:
        if found.group() == "\x00":
            message = _(
                "%(what)s contains an invisible control character (NUL) that cannot be saved. "
                "Please check it and send it again."
            )
        else:
            message = _(
                "%(what)s contains a broken character (half of an emoji or symbol) that cannot be saved. "
                "Please check it and send it again."
            )
        raise BadInput(BAD_TEXT, message % {"what": field})
    if max_chars is not None and len(value.strip()) > max_chars:
        raise BadInput(
            code_too_long,
            _("%(what)s can be at most %(max)s characters; it has %(count)s. Please shorten it.")
            % {"what": field, "max": f"{max_chars:,}", "count": f"{len(value.strip()):,}"},
        )
    return value


def parse_id(raw) -> int | None:
    """A database id typed into a form field: ASCII digits only ("²" and
    "١" are digits to str.isdigit but not ids), at most 18 of them."""
    if isinstance(raw, str) and 0 < len(raw) <= 18 and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


# --- websocket frames ---------------------------------------------------------------


def _walk(content) -> None:
    """Refuse frames nested deeper than MAX_DEPTH or holding unstorable text
    anywhere (keys included). Iterative: no recursion on hostile input."""
    stack = [(content, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            found = _UNSTORABLE.search(node)
            if found is not None:
                if found.group() == "\x00":
                    message = _(
                        "This message contains an invisible control character (NUL) that cannot be saved. "
                        "Please check your text and send it again."
                    )
                else:
                    message = _(
                        "This message contains a broken character (half of an emoji or symbol) that cannot be "
                        "saved. Please check your text and send it again."
                    )
                raise BadInput(BAD_TEXT, message)
        elif isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadInput("malformed", "The message is nested too deeply.")
            items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
            for key, value in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((value, depth + 1))


def parse_frame(text_data: str | None, *, max_chars: int) -> dict:
    """A websocket text frame as a JSON object with a string `type`, or BadInput."""
    if text_data is None:
        raise BadInput("malformed", "Only text frames are accepted.")
    if len(text_data) > max_chars:
        raise BadInput("too_long", "That message is too long to send.")
    try:
        content = json.loads(text_data)
    except RecursionError:
        raise BadInput("malformed", "The message is nested too deeply.") from None
    except ValueError:  # not JSON, or an integer with thousands of digits
        raise BadInput("malformed", "The message was not valid JSON.") from None
    _walk(content)
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        raise BadInput("malformed", "Expected a JSON object with a type.")
    return content
