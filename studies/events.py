"""Domain event kinds written by the studies app (see mgeplatform/events.py)."""

from typing import Literal

from mgeplatform.events import Payload, kind

JoinedVia = Literal["link", "prolific", "preview", "simulation", "attack"]
PreviewVia = Literal["coordinator", "preview_link"]


class Joined(Payload):
    """How a participant came to be (studies.services.create_participant)."""

    via: JoinedVia
    via_prolific: bool
    cohort: str
    simulated: bool = False
    preview_via: PreviewVia | None = None
    arm: str | None = None  # the arm drawn at entry (studies.arms), when the study has arms
    arm_stratum: str | None = None


PARTICIPANT_JOINED = kind(
    "participant.joined",
    "A participant arrived by the study link (Prolific or plain), or "
    "was made for a preview, a simulation or an attack test",
    Joined,
)
CONSENT_ACCEPTED = kind(
    "consent.accepted", "A participant agreed to the consent form shown (its hash is in the payload)"
)
CONSENT_DECLINED = kind("consent.declined", "A participant declined the consent form shown")
CONSENT_PUBLISHED = kind("consent.published", "A new consent version was published")
STUDY_SEEDED = kind("study.seeded", "The case study was created from the paper's scenarios")
JOURNEY_STEP = kind("journey.step", "A participant moved from one step to the next")
PARTICIPANT_SCREENED_OUT = kind("participant.screened_out", "A coordinator screened a participant out, with a reason")
STEP_SKIPPED = kind(
    "journey.step_skipped", "A participant passed a step with nothing to do (the reason is in the payload)"
)
PROLIFIC_ID_REVEALED = kind(
    "prolific.identity_revealed", "A staff member was shown a participant's Prolific IDs (the reason is in the payload)"
)
PROLIFIC_ID_LOOKED_UP = kind(
    "prolific.identity_looked_up",
    "A staff member looked participants up by an exact Prolific ID or session id "
    "(the participants found are in the payload, the id searched for is not)",
)
MODEL_CHECKED = kind(
    "study.model_checked", "A study's language model was checked for what it supports (the report is in the payload)"
)
RESUME_ACCEPTED = kind(
    "participant.resume_accepted",
    "A Prolific participant carried on in another browser, proved by the Prolific session id "
    "they entered with or by their resume code (which one is in the payload)",
)
RESUME_REFUSED = kind(
    "participant.resume_refused",
    "A participant's Prolific ID was opened in another browser without their Prolific session "
    "id or resume code; nothing of theirs was shown (why is in the payload)",
)


class ArmAdded(Payload):
    """An arm added to a study (studies.arms.add_arm)."""

    arm: str
    weight: int
    settings: dict


ARM_ADDED = kind("study.arm_added", "A coordinator added an arm to a study run as an experiment", ArmAdded)
