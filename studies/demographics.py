"""Prolific's demographic answers, as the features that read them agree on.

Prolific writes a placeholder where it no longer has an answer or never had
one (CONSENT_REVOKED, DATA_EXPIRED, a blank); weighting, bridging and the
console all count such an answer as missing, never as a category.
"""

from __future__ import annotations

# Lowered and with spaces collapsed: how an answer is compared with them.
PLACEHOLDERS = frozenset(
    {"", "consent_revoked", "data_expired", "consent revoked", "data expired", "none", "n/a", "na"}
)


def clean(answer) -> str | None:
    """The answer with its spaces collapsed, or None when it is missing (no
    answer or one of Prolific's placeholders)."""
    if answer is None:
        return None
    text = " ".join(str(answer).split())
    return None if text.lower() in PLACEHOLDERS else text


def answer_of(data: dict, attribute: str):
    """A participant's answer for `attribute` in their demographic export:
    the column of that name, else one that differs only in case and spaces."""
    if attribute in data:
        return data[attribute]
    wanted = " ".join(attribute.lower().split())
    return next((v for k, v in data.items() if " ".join(str(k).lower().split()) == wanted), None)
