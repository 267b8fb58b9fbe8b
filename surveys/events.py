"""Domain event kinds written by the surveys app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

SURVEY_DEFAULT_BANK_CREATED = kind(
    "survey.default_bank_created", "A study got the paper's questions as its first item bank"
)
SURVEY_BANK_DRAFTED = kind("survey.bank_drafted", "A new draft version of an item bank was made")
SURVEY_BANK_PUBLISHED = kind("survey.bank_published", "An item bank version was published (and frozen)")
SURVEY_SUBMITTED = kind("survey.submitted", "A participant answered the survey step")
SURVEY_NO_ITEMS = kind("survey.no_items", "A participant reached a survey step with nothing to ask")
SURVEY_FOLLOW_UP_LINKS_ISSUED = kind(
    "survey.follow_up_links_issued", "Follow-up links were made for completed participants"
)
SURVEY_FOLLOW_UP_LINKS_EXPORTED = kind(
    "survey.follow_up_links_exported", "Follow-up links (with Prolific IDs) were downloaded"
)
SURVEY_FOLLOW_UP_SUBMITTED = kind("survey.follow_up_submitted", "A participant answered the follow-up questions")
