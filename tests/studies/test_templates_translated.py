"""Every participant-visible string in the participant templates is marked
for translation (issue 27): a literal left in the markup would show in
English on a Spanish, Arabic or Chinese page."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PARTICIPANT_TEMPLATES = [
    "base.html",
    "studies/error.html",
    "interviews/interview.html",
    "interviews/scenario.html",
    "values/approval.html",
    "values/relevance.html",
    "graph/story.html",
    *(
        f"journey/{name}"
        for name in (
            "consent.html",
            "declined.html",
            "disputes.html",
            "finished.html",
            "journey.html",
            "no_places.html",
            "resume.html",
            "withdraw.html",
            "_dispute_form.html",
        )
    ),
    *(f"surveys/{name}" for name in ("_errors.html", "_question.html", "_value.html", "follow_up.html", "survey.html")),
]
VISIBLE_ATTRIBUTES = re.compile(r'\b(?:aria-label|placeholder|title|alt)="([^"]*)"')


def unmarked_text(source: str) -> list[str]:
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", source, flags=re.S)
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.S)
    # A code's shape (ABCD-EFGH) is the same in every language.
    found = [
        value
        for value in VISIBLE_ATTRIBUTES.findall(text)
        if re.search(r"[A-Za-z]", value) and not re.fullmatch(r"[A-Z0-9-]+", value)
    ]
    text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    found += [chunk.strip() for chunk in re.split(r"\n|\s{2,}", text) if re.search(r"[A-Za-z]{2,}", chunk)]
    return found


@pytest.mark.parametrize("name", PARTICIPANT_TEMPLATES)
def test_participant_template_has_no_unmarked_text(name):
    assert unmarked_text((TEMPLATES / name).read_text()) == []


def test_the_check_finds_an_unmarked_string():
    assert unmarked_text('<p>{% translate "Fine" %}</p><button aria-label="Close">Send it</button>') == [
        "Close",
        "Send it",
    ]
