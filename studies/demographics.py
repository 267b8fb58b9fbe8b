"""Prolific's demographic answers, as the features that read them agree on.

Prolific writes a placeholder where it no longer has an answer or never had
one (CONSENT_REVOKED, DATA_EXPIRED, a blank); weighting, bridging and the
console all count such an answer as missing, never as a category.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

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


# Prolific's column for the language a participant speaks (their profile's answer).
LANGUAGE = "Language"


def prolific_language(participant) -> str | None:
    """The participant's answer to Prolific's "Language" question, once their
    demographics are imported; None when not imported or missing."""
    try:
        data = participant.demographics.data
    except ObjectDoesNotExist:
        return None
    return clean(answer_of(data, LANGUAGE))


def language_beside_prolific(participant) -> str:
    """The language the participant chose, with Prolific's answer beside it
    when there is one: "es (Prolific: Spanish)"."""
    spoken = prolific_language(participant)
    return f"{participant.language} (Prolific: {spoken})" if spoken else participant.language
