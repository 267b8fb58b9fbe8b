"""Domain event kinds written by the journey app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

PARTICIPANT_WITHDRAWN = kind("participant.withdrawn", "A participant withdrew; the payload says what was deleted")
STUDY_EXPORTED = kind("study.exported", "A study's data was exported (with the reason, if identities were included)")
STUDY_DEMOGRAPHICS_IMPORTED = kind("study.demographics_imported", "Prolific's demographics export was imported")
PREVIEWS_DELETED = kind("study.previews_deleted", "A coordinator deleted the staff previews of a study")
ROBUSTNESS_RUN = kind(
    "study.robustness_run",
    "The manipulation simulator ran on a study (rolled back); the payload "
    "has the target's ranks per bloc share and the detector's precision "
    "and recall",
)
DISPUTE_OPENED = kind("dispute.opened", "A participant disputed how they are represented (merge, story or place)")
DISPUTE_UPHELD = kind("dispute.upheld", "A coordinator upheld a participant's dispute; the payload says what changed")
DISPUTE_REJECTED = kind("dispute.rejected", "A coordinator rejected a participant's dispute, with a reason")
RETEST_ROUND_OPENED = kind(
    "study.retest_round_opened",
    "A coordinator opened a retest round: a seeded sample of completed participants invited back "
    "through their follow-up links (the payload has the settings and the counts per stratum)",
)
