"""What feature apps contribute to a study's export and to a withdrawal.

Each feature registers in its AppConfig.ready(): the event-level tables it
adds to the study export (`export_table`), and its share of a participant's
content (`participant_content`): how to delete it and which audit-trail
copies go with it. The journey layer writes the export and carries out a
withdrawal from what was registered, so it never needs to know every model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from studies.models import Participant, Study


@dataclass(frozen=True)
class ExportTable:
    name: str  # the CSV file's name
    header: list[str]
    rows: Callable[[Study, list], Iterable]  # (study, participant ids) -> rows, in the header's order


@dataclass(frozen=True)
class ParticipantContent:
    # Deletes the participant's rows; {what: how many} for the withdrawal event.
    delete: Callable[[Participant], dict[str, int]]
    # {pghistory event model label: ids of the rows it copies}, read before deleting.
    audit_copies: Callable[[Participant], dict[str, list]] = field(default=lambda participant: {})
    # The texts the participant wrote (read before deleting): what a withdrawal looks for in files written
    # earlier, such as exports under VAR_DIR.
    texts: Callable[[Participant], Iterable[str]] = field(default=lambda participant: ())


@dataclass(frozen=True)
class Link:
    """A cell of a trail table that opens an object's admin page."""

    text: str
    url: str


@dataclass(frozen=True)
class TrailSection:
    """One table of a participant's trail, e.g. their interview transcript."""

    title: str
    header: list[str]
    rows: list[list]  # cells: plain values or Link
    link: Link | None = None  # the section's own object (e.g. the interview), if it has a page
    empty: str = "Nothing yet."


_tables: dict[str, ExportTable] = {}
_content: list[ParticipantContent] = []
_trail: list[Callable[[Participant], list[TrailSection]]] = []


def iso(value) -> str | None:
    """Timestamps in export files."""
    return value.isoformat() if value else None


def export_table(name: str, header: list[str], rows: Callable[[Study, list], Iterable]) -> None:
    _tables[name] = ExportTable(name, header, rows)


def export_tables() -> list[ExportTable]:
    return list(_tables.values())


def participant_content(
    delete: Callable[[Participant], dict[str, int]],
    audit_copies: Callable[[Participant], dict[str, list]] | None = None,
    texts: Callable[[Participant], Iterable[str]] | None = None,
) -> None:
    entry = ParticipantContent(delete, audit_copies or (lambda participant: {}), texts or (lambda participant: ()))
    if all(c.delete is not delete for c in _content):
        _content.append(entry)


def participant_contents() -> list[ParticipantContent]:
    """In registration order (INSTALLED_APPS); delete in reverse, so a feature's
    rows go before the rows of the features it builds on."""
    return list(_content)


def participant_trail(sections: Callable[[Participant], list[TrailSection]]) -> None:
    """`sections(participant)` gives the feature's part of the participant's trail."""
    if sections not in _trail:
        _trail.append(sections)


def trail(participant: Participant) -> list[TrailSection]:
    """Every registered section, in registration order (the journey's order)."""
    return [section for sections in _trail for section in sections(participant)]


def admin_link(obj, text=None) -> Link | str:
    """A link to the object's admin page, or its text when it has none."""
    if obj is None:
        return ""
    text = str(obj) if text is None else text
    try:
        return Link(text, reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]))
    except NoReverseMatch:
        return text
