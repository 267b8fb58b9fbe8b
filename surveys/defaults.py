"""The paper's survey questions (section 5.6, Tables 3 and 4; section 4.5),
worded exactly as published. Version 1 of every study's item bank. Marked for
the catalogs: the survey pages show a question in the participant's language
when its wording is one of these."""

from django.utils.translation import gettext_noop

# Table 3: asked at the end of the journey, answered on a 1-5 Likert scale.
LEGITIMACY_ITEMS = [
    ("clarify", gettext_noop("Did it help you clarify what was important to you?")),
    ("expresses_care", gettext_noop("Did the values you submitted and voted for express what you care about?")),
    (
        "contributions_placed",
        gettext_noop(
            "Do you believe your contributions will find their way to the appropriate place in the final output?"
        ),
    ),
    (
        "trust_process",
        gettext_noop(
            "Would you trust this process to create a wise version of Chat-GPT, based on the collected values of a "
            "large population?"
        ),
    ),
    ("learned_values", gettext_noop("Did you learn something about other people's values?")),
    (
        "gained_respect",
        gettext_noop("Based on what you saw of others' values, did you gain respect for the other participants?"),
    ),
]

# Section 4.5: "We ran these deduplications past our users after the process".
DEDUP_ITEM = ("dedup_represents", gettext_noop("Does this value represent what you care about?"))

# Table 4: asked after the study, beside the participant's value and its neighbours.
FAIRNESS_ITEM = (
    "fair_position",
    gettext_noop("Do you believe your value ended up in a fair position in the moral graph?"),
)

# Not in the default bank. An instructed-response item that tests reading
# the question itself, as Prolific's attention-check policy requires.
ATTENTION_CHECK_EXAMPLE = ("attention", gettext_noop("To show you are reading, choose 'Strongly agree' here."), "5")


def default_items() -> list[dict]:
    """Field values for the items of a default bank, in the order asked."""
    items = [
        dict(key=key, kind="likert5", text=text, when="journey", order=i)
        for i, (key, text) in enumerate(LEGITIMACY_ITEMS, start=1)
    ]
    items.append(dict(key=DEDUP_ITEM[0], kind="dedup_verification", text=DEDUP_ITEM[1], when="follow_up", order=1))
    items.append(dict(key=FAIRNESS_ITEM[0], kind="fairness", text=FAIRNESS_ITEM[1], when="follow_up", order=2))
    return items
