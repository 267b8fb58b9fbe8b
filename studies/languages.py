"""Which language a participant's pages are in (issue 27, first slice: the
participant-facing interface; the interviewer and the study's own texts,
consent and questions, stay as the coordinators wrote them).

A study offers some of the languages the platform ships (settings.LANGUAGES),
the first being its pivot. A participant's language is chosen on entry, from
`?lang=`, then the browser's Accept-Language, then the study's first, and is
always one of the study's. They may switch until the interview starts."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop
from django.utils.translation.trans_real import parse_accept_lang_header

# Codes people write for a language we ship under another code.
ALIASES = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh-sg": "zh-hans", "zh-my": "zh-hans"}


def shipped() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def normalize(code: str | None) -> str | None:
    """The shipped Django code for a BCP-47 tag (es-ES → es, zh → zh-hans), or None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    known = shipped()
    if code in known:
        return code
    if code in ALIASES:
        return ALIASES[code]
    if code.startswith("zh-hans"):
        return "zh-hans"
    base = code.split("-")[0]
    return base if base in known else None


def validate_languages(codes) -> None:
    if not codes:
        raise ValidationError("A study needs at least one language.")
    unknown = [c for c in codes if c not in shipped()]
    if unknown:
        raise ValidationError(
            "Not a language the platform ships: %(codes)s (choose from %(known)s).",
            params={"codes": ", ".join(unknown), "known": ", ".join(shipped())},
        )
    if len(set(codes)) != len(codes):
        raise ValidationError("A language is listed twice.")


def clean_languages(codes) -> list[str]:
    """Aliases and regional tags to shipped codes, order kept (for the admin form)."""
    return [normalize(c) or c.strip() for c in codes]


def study_languages(study) -> list[str]:
    return [c for c in (study.languages or []) if c in shipped()] or [settings.LANGUAGE_CODE]


def choose(study, requested: str | None = None, accept_language: str = "") -> str:
    """The study's language that fits best: the requested one, else the
    browser's most preferred one the study offers, else the study's first."""
    offered = study_languages(study)
    wanted = normalize(requested)
    if wanted in offered:
        return wanted
    for tag, _q in parse_accept_lang_header(accept_language or ""):
        if tag != "*" and (code := normalize(tag)) in offered:
            return code
    return offered[0]


def for_request(request, study) -> str:
    """The language of a participant page drawn before (or without) a participant."""
    return choose(study, request.GET.get("lang"), request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


def language_name(code: str) -> str:
    """The shipped language's English name ("es": "Spanish"), as prompts name it; else the code."""
    return str(dict(settings.LANGUAGES).get(code, code))


def participant_language(participant) -> str:
    offered = study_languages(participant.study)
    return participant.language if participant.language in offered else offered[0]


def default_languages() -> list[str]:
    return ["en"]


# Steps at which the participant may still change language: before the interview starts.
SWITCHABLE_STEPS = ("consent", "scenario")


def may_switch(participant) -> bool:
    return participant.current_step in SWITCHABLE_STEPS and len(study_languages(participant.study)) > 1


# The step names in the progress bar (Step's labels, and a page's own label
# such as values' "Your value"), for the catalogs: the template translates them.
STEP_NAMES = [
    gettext_noop("Consent"),
    gettext_noop("Choose a scenario"),
    gettext_noop("Interview"),
    gettext_noop("Relevance"),
    gettext_noop("Transition stories"),
    gettext_noop("Survey"),
    gettext_noop("Complete"),
    gettext_noop("Declined consent"),
    gettext_noop("Screened out"),
    gettext_noop("Withdrawn"),
    gettext_noop("Your value"),
]
