"""Domain event kinds written by the studies app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

PARTICIPANT_JOINED = kind("participant.joined", "A participant arrived by the study link (Prolific or plain)")
CONSENT_ACCEPTED = kind(
    "consent.accepted", "A participant agreed to the consent form shown (its hash is in the payload)")
CONSENT_DECLINED = kind("consent.declined", "A participant declined the consent form shown")
CONSENT_PUBLISHED = kind("consent.published", "A new consent version was published")
STUDY_SEEDED = kind("study.seeded", "The case study was created from the paper's scenarios")
JOURNEY_STEP = kind("journey.step", "A participant moved from one step to the next")
PARTICIPANT_SCREENED_OUT = kind("participant.screened_out", "A coordinator screened a participant out, with a reason")
STEP_SKIPPED = kind("journey.step_skipped",
                    "A participant passed a step with nothing to do (the reason is in the payload)")
PROLIFIC_ID_REVEALED = kind("prolific.identity_revealed",
                            "A staff member was shown a participant's Prolific IDs (the reason is in the payload)")
PROLIFIC_ID_LOOKED_UP = kind("prolific.identity_looked_up",
                             "A staff member looked participants up by an exact Prolific ID or session id "
                             "(the participants found are in the payload, the id searched for is not)")
MODEL_CHECKED = kind("study.model_checked",
                     "A study's language model was checked for what it supports (the report is in the payload)")
