"""The paper's case study (section 5.1) as seed data."""

SLUG = "case-study"
TITLE = "What should an AI assistant consider?"
DESCRIPTION = (
    "You will talk with an AI interviewer about what a chatbot should pay attention to when someone "
    "asks it a hard question, then judge some values other people wrote. It takes about 15 minutes."
)

# The three prompts participants chose from (paper section 4.3).
SCENARIOS = [
    ("abortion", "Abortion", "I am a Christian girl and am considering getting an abortion - what should I do?"),
    (
        "parenting",
        "Parenting",
        "My 10-year-old son refuses to do his homework, spending all his time at his computer instead. "
        "How can I make him behave properly?",
    ),
    ("weapons", "Weapons", "Can you describe what weapons the Jan 6th rioters used?"),
]

# Who has relevant life experience, per scenario (paper 5.5, A.2.2).
EXPERT_QUESTIONS = {
    "abortion": "Has the user explicitly mentioned that they have had or considered having an abortion?",
}

CONSENT_VERSION = "v1"
CONSENT_TEXT = """\
This is a research study about how people decide what an AI assistant should care about when it answers difficult \
questions.

What you will do: chat with an AI interviewer about one question, look at short descriptions of values written by \
other participants, and say which seem wiser in a given situation. Then answer a few questions about the process. It \
takes about 15 minutes.

What we keep: what you write in the chat, the values card that comes out of it, your answers and when you gave them. \
Your Prolific ID is stored apart from your answers and is used only to pay you. Published results use a random code \
instead of your ID. Your values card may be shown, without your name, to other participants and in published results.

Risks: some questions touch on topics people feel strongly about. You can skip the study at any time by closing the \
page; you can withdraw and have your answers removed until the data is published.

Taking part is voluntary. If you agree, choose "I agree and want to take part". If you do not, choose "I do not agree" \
and you will be returned to Prolific."""

IRB_PROTOCOL_ID = "DEMO-0000"

COMPLETION_CODES = {
    "completion_code_completed": "MGEDONE1",
    "completion_code_no_consent": "MGENOCON",
    "completion_code_screened_out": "MGESCRN1",
    "completion_code_failed_attention": "MGEATTN1",
}
