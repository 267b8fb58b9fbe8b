"""Every CSV file the platform writes goes through here, so that text typed
by participants (a chat message, a card title, a vote reason) cannot become a
formula when a coordinator opens the file in a spreadsheet (OWASP "CSV
injection").

The rule, also in docs/export-codebook.md and docs/moral-graph-format.md: a
text cell that begins with = + - @, a tab, a carriage return or a single
quote gets one single quote (') in front. Numbers, booleans and empty cells
are written as they are. The rule is reversible: remove one leading quote
from every text cell that starts with one.
"""

from __future__ import annotations

import csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def safe_cell(value):
    """The cell as written: neutralised if it is text that a spreadsheet
    would run (or a quote, so that reading it back is unambiguous)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def unquote(cell: str) -> str:
    """The text as it was before safe_cell (for readers of our files)."""
    return cell[1:] if cell.startswith("'") else cell


class Writer:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose values are neutralised (the header is ours)."""

    def writerow(self, rowdict):
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts):
        for row in rowdicts:
            self.writerow(row)


def writer(fh, **kwargs) -> Writer:
    return Writer(fh, **kwargs)
