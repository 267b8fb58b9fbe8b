"""Domain event kinds written by the alignment app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

ALIGNMENT_ANSWER_AUDITED = kind("alignment.answer_audited",
                                "An answer was audited against the moral graph's values for its contexts")
