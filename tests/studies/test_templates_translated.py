"""Every participant-visible string in the participant templates is marked
for translation (issue 27): a literal left in the markup would show in
English on a Spanish, Arabic or Chinese page."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Pages for staff (the admin, the coordinator console, sign-in, the alignment
# playground) and the graph's research pages (explorer, winners,
# scalability, and the report parts they share with the admin) stay in
# English; every other template is a participant's and is checked, so a new
# participant template is covered without being listed here.
STAFF_TEMPLATES = ("admin/", "account/", "allauth/", "alignment/", "surveys/admin/", "includes/")
STAFF_PAGES = {
    "home.html",
    "graph/_building.html",
    "graph/_sections.html",
    "graph/_snapshot_facts.html",
    "graph/explorer.html",
    "graph/scalability.html",
    "graph/winners.html",
}
PARTICIPANT_TEMPLATES = sorted(
    name
    for name in (path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html"))
    if not name.startswith(STAFF_TEMPLATES) and name not in STAFF_PAGES
)
VISIBLE_ATTRIBUTES = re.compile(r'\b(?:aria-label|placeholder|title|alt|data-text-[\w-]+)="([^"]*)"')


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


def test_every_page_of_the_journey_is_checked():
    """The participant pages named in the journey's views are all found."""
    for name in (
        "base.html",
        "studies/error.html",
        "interviews/interview.html",
        "graph/story.html",
        "values/relevance.html",
        "journey/finished.html",
        "surveys/_question.html",
        "surveys/follow_up.html",
    ):
        assert name in PARTICIPANT_TEMPLATES


def test_the_check_finds_an_unmarked_string():
    assert unmarked_text(
        '<p data-text-ok="{% translate "Fine" %}">{% translate "Fine" %}</p>'
        '<button aria-label="Close" data-text-sent="Sent">Send it</button>'
    ) == ["Close", "Sent", "Send it"]
