"""Domain event kinds written by the values app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

VALUES_CARD_MATCHED = kind("values_card.matched", "The deduplicator linked a card to a canonical value")
CANONICAL_SEEDED = kind("canonical.seeded", "Canonical values were made from clusters of cards")
CANONICAL_MERGED = kind("canonical.merged", "A coordinator merged canonical values")
CANONICAL_SPLIT = kind("canonical.split", "A coordinator split cards off into a new canonical value")
CANONICAL_APPROVAL = kind("canonical.approval", "A participant said how well a canonical value represents their card")
RELEVANCE_MARKED = kind("relevance.marked", "A participant marked which of the drawn values apply to their question")
RELEVANCE_SKIPPED = kind("relevance.skipped", "A participant passed the relevance step with no values to show")
CANONICAL_SEEDED_FROM_FILE = kind("canonical.seeded_from_file", "Canonical values were seeded from a file of cards")
CANONICAL_REWORDED = kind(
    "canonical.reworded",
    "A canonical value was worded again from another of its cards, "
    "because the participant whose card it was worded from withdrew",
)
CANONICAL_ARCHIVED = kind(
    "canonical.archived",
    "A canonical value was archived with its text redacted: the "
    "participant whose card it was worded from withdrew, and no other "
    "card was left",
)
CARD_TRANSLATED = kind(
    "values_card.translated", "A card written in another language was rendered in the study's pivot language"
)
CARD_TRANSLATION_FAILED = kind(
    "values_card.translation_failed",
    "Rendering a card in the study's pivot language failed (the card stays usable; the job is retried)",
)
CANONICAL_RENDERED = kind(
    "canonical.rendered", "A canonical value was translated into another of its study's languages"
)
