"""Studies as experiments: arms, the assignment of newcomers to them, and the
settings each arm overrides.

A study with no arms runs as before. With arms, every participant gets one at
entry (`assign`, called by `studies.services.create_participant` in its
transaction): seeded blocked randomisation, each block holding every arm
`weight` times in an order drawn from (study seed, stratum, block number), so
the k-th newcomer of a stratum always gets the same arm for the same seed.
The arm never changes afterwards (a trigger on the participants' table).

Features read an overridden setting through `effective(participant, field)`,
which falls back to the study's own; the fields are those of
`studies.arm_settings.ArmSettings`.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction

from mgeplatform.audit import record_event
from studies import arm_settings, events
from studies.arm_settings import ArmSettingsError
from studies.models import Arm, Cohort, Participant, Study

# pg_advisory_xact_lock(namespace, study id): one assignment at a time per study.
ASSIGNMENT_LOCK = 7_204_029

# What each field is when the participant's arm does not set it.
_STUDY_DEFAULTS: dict[str, Any] = {
    "llm_provider": lambda study: study.llm_provider,
    "llm_model": lambda study: study.llm_model,
    "stories_per_participant": lambda study: study.stories_per_participant,
    "interviewer_prompt_version": lambda study: None,  # the prompt file as it is now
    "story_prompt_version": lambda study: None,  # stories of any prompt version
    "scenarios": lambda study: None,  # every active question
    "relevance_step": lambda study: True,
}
assert set(_STUDY_DEFAULTS) == set(arm_settings.FIELDS), "every arm field needs the study's own value"


def effective(participant: Participant, field: str) -> Any:
    """The setting `field` for this participant: their arm's override, or
    the study's own. An arm that changes the provider without naming a model
    gets that provider's default model, not the study's."""
    arm = participant.arm if participant.arm_id is not None else None
    return setting_of(participant.study, arm, field)


def setting_of(study: Study, arm: Arm | None, field: str) -> Any:
    """`effective` for whoever is in `arm` of `study` (None: no arm)."""
    if field not in _STUDY_DEFAULTS:
        raise KeyError(f"{field!r} is not an arm setting; the fields are {', '.join(arm_settings.FIELDS)}")
    overrides = arm.settings if arm is not None else {}
    if field in overrides:
        return overrides[field]
    if field == "llm_model" and "llm_provider" in overrides:
        return ""
    return _STUDY_DEFAULTS[field](study)


class LLMSettings:
    """Stand-in for the study when routing a participant's interviewer: the
    study's model settings with the arm's provider and model (what
    `gateway.resolve` reads)."""

    def __init__(self, study: Study, llm_provider: str, llm_model: str):
        self.study, self.llm_provider, self.llm_model = study, llm_provider, llm_model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.study, name)


def interviewer_settings(participant: Participant):
    """What `gateway.resolve` routes this participant's interviewer by: the
    study itself without an override, else the study with the arm's provider
    and model."""
    return _interviewer_settings(participant.study, participant.arm if participant.arm_id is not None else None)


def _interviewer_settings(study: Study, arm: Arm | None):
    provider, model = setting_of(study, arm, "llm_provider"), setting_of(study, arm, "llm_model")
    if (provider, model) == (study.llm_provider, study.llm_model):
        return study
    return LLMSettings(study=study, llm_provider=provider, llm_model=model)


def every_interviewer(study, arm_list: list[Arm] | None = None) -> list:
    """The route settings of every arm's interviewer (the study's own without
    arms): what a check that the study runs offline must look at. `study` may
    be the settings as a form submits them, with the study's `arm_list`."""
    arm_list = list(study.arms.all()) if arm_list is None else arm_list
    return [_interviewer_settings(study, arm) for arm in arm_list] or [study]


def offered_scenarios(participant: Participant):
    """The active questions this participant may choose from."""
    scenarios = participant.study.scenarios.filter(active=True)
    ids = effective(participant, "scenarios")
    return scenarios if ids is None else scenarios.filter(pk__in=ids)


def relevance_off(participant: Participant) -> bool:
    """The participant's arm leaves the relevance step out (journey table's skip_if)."""
    return not effective(participant, "relevance_step")


# --- assignment --------------------------------------------------------------------


def stratum_of(study: Study, *, language: str, demographics: dict | None = None) -> str:
    """The stratum a newcomer is randomised within ("" when not stratified)."""
    rule = (study.arm_strata or "").strip()
    if not rule:
        return ""
    if rule == "language":
        return f"language:{language}"
    if rule.startswith("demographic:"):
        # Prolific's answers stay out of the audit trail (like ProlificDemographics):
        # the participant's row and joined event keep only a digest of the stratum.
        column = rule.split(":", 1)[1]
        answer = (demographics or {}).get(column)
        answer = "unknown" if answer in (None, "") else str(answer)
        digest = hashlib.sha256(f"{study.pk}:{column}:{answer}".encode()).hexdigest()[:16]
        return f"{column}#{digest}"[:120]
    raise ArmSettingsError(f"unknown stratification {rule!r}: blank, language or demographic:<column>")


def block_order(study: Study, arms: list[Arm], stratum: str, block: int) -> list[Arm]:
    """The arms of one block in their drawn order: each arm `weight` times."""
    places = [arm for arm in arms for _ in range(arm.weight)]
    random.Random(f"{study.arm_seed}:{stratum}:{block}").shuffle(places)
    return places


def assign(
    study: Study,
    *,
    language: str,
    cohort: str,
    arm_name: str | None = None,
    demographics: dict | None = None,
) -> tuple[Arm | None, str]:
    """(arm, stratum) for a newcomer, inside the creating transaction. A
    preview takes the arm its coordinator chose (else the first) and leaves
    the sequence alone; everyone else takes the next place of their
    stratum's blocks, under a per-study lock so two entries never take one
    place."""
    arms = list(study.arms.order_by("id"))
    if not arms:
        if arm_name:
            raise ArmSettingsError(f"study {study.slug} has no arms")
        return None, ""
    if cohort == Cohort.PREVIEW or arm_name:
        if cohort != Cohort.PREVIEW:
            raise ArmSettingsError("only a preview chooses its arm")
        if not arm_name:
            return arms[0], ""
        chosen = next((a for a in arms if a.name == arm_name), None)
        if chosen is None:
            raise ArmSettingsError(f"study {study.slug} has no arm {arm_name!r}")
        return chosen, ""
    stratum = stratum_of(study, language=language, demographics=demographics)
    if not connection.in_atomic_block:
        raise RuntimeError("arms.assign runs inside the transaction that creates the participant")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ASSIGNMENT_LOCK, study.pk])
    taken = (
        Participant.objects.filter(study=study, arm__isnull=False, arm_stratum=stratum)
        .exclude(cohort=Cohort.PREVIEW)
        .count()
    )
    places = block_order(study, arms, stratum, taken // sum(a.weight for a in arms))
    return places[taken % len(places)], stratum


# --- writes ------------------------------------------------------------------------


def check_settings(study: Study, settings: dict) -> dict:
    """Validated overrides for an arm of `study` (questions must be its own)."""
    checked = arm_settings.check(settings)
    ids = checked.get("scenarios")
    if ids is not None:
        own = set(study.scenarios.values_list("pk", flat=True))
        foreign = [i for i in ids if i not in own]
        if foreign:
            raise ArmSettingsError(f"scenarios: {', '.join(map(str, foreign))} are not questions of {study.slug}")
    return checked


@transaction.atomic
def add_arm(*, study: Study, name: str, weight: int = 1, settings: dict | None = None, user=None) -> Arm:
    """Add an arm to a study, with its checked overrides and the audit event."""
    try:
        validate_slug(name)
    except ValidationError:
        raise ArmSettingsError(f"name {name!r}: letters, digits, hyphens and underscores only") from None
    if weight < 1:
        raise ArmSettingsError("weight: at least 1")
    if study.arms.filter(name=name).exists():
        raise ArmSettingsError(f"study {study.slug} already has an arm {name!r}")
    checked = check_settings(study, settings or {})
    arm = Arm.objects.create(study=study, name=name, weight=weight, settings=checked)
    record_event(
        events.ARM_ADDED,
        user=user,
        study_slug=study.slug,
        subject=arm,
        payload=events.ArmAdded(arm=name, weight=weight, settings=checked),
    )
    return arm
