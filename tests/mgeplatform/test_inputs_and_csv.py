"""The shared checks of what participants send (mgeplatform/inputs.py) and
the one CSV writer every export uses (mgeplatform/csvfiles.py)."""

import csv
import io
import re
from pathlib import Path

import pytest

from mgeplatform import csvfiles, inputs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "frame, code",
    [
        ("[" * 50_000 + "]" * 50_000, "malformed"),  # RecursionError in the json module, caught
        ('{"type": "ping", "a": ' + "[" * 10 + "]" * 10 + "}", "malformed"),  # depth 11
        ('{"type": "ping", "t": "\\u0000"}', "bad_text"),
        ('{"type": "ping", "t\\ud800": 1}', "bad_text"),  # a key counts too
        ('{"type": "ping", "t": ["ok", {"x": "\udc00"}]}', "bad_text"),
        ('{"type": "ping", "n": ' + "1" * 5000 + "}", "malformed"),
        ("x" * 101, "too_long"),
        (None, "malformed"),
        ("[]", "malformed"),
    ],
)
def test_frames_that_are_refused(frame, code):
    with pytest.raises(inputs.BadInput) as refused:
        inputs.parse_frame(frame, max_chars=100 if frame and frame.startswith("x") else 200_000)
    assert refused.value.code == code and refused.value.message


def test_ordinary_frames_pass_emoji_included():
    content = inputs.parse_frame(
        '{"type": "card_edit", "policies": ["MOMENTS of joy \\ud83d\\ude00", "ä"]}', max_chars=1000
    )
    assert content["policies"][0].endswith("😀")
    assert inputs.parse_frame('{"type": "ping", "a": ' + "[" * 9 + "]" * 9 + "}", max_chars=1000)["type"] == "ping"


def test_text_checks_and_what_is_shown_back():
    assert inputs.check_text("fine 😀") == "fine 😀"
    with pytest.raises(inputs.BadInput, match="NUL"):
        inputs.check_text("a\x00b", what="Your reason")
    with pytest.raises(inputs.BadInput, match="broken character"):
        inputs.check_text("a\ud83d")
    with pytest.raises(inputs.BadInput, match="at most 5 characters; it has 6"):
        inputs.check_text(" 123456 ", max_chars=5)
    assert inputs.storable("I\x00 care \ud83d😀") == "I care 😀"
    assert [inputs.parse_id(x) for x in ["12", "²", "١", "1\x00", "-1", "", None, "9" * 19]] == [12] + [None] * 7


def test_csv_cells_that_start_like_formulas_get_one_quote_and_come_back_exactly():
    texts = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "'x", "''x", "plain", "", "a=b"]
    out = io.StringIO()
    writer = csvfiles.writer(out)
    writer.writerow(texts + [None, -0.5, 3, True])
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert row[:8] == ["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "''x", "'''x"]
    assert row[8:] == ["plain", "", "a=b", "", "-0.5", "3", "True"]
    assert [csvfiles.unquote(c) for c in row[: len(texts)]] == texts
    out = io.StringIO()
    dict_writer = csvfiles.DictWriter(out, fieldnames=["a"])
    dict_writer.writeheader()
    dict_writer.writerows([{"a": "=x"}])
    assert out.getvalue().splitlines() == ["a", "'=x"]


def test_every_csv_the_platform_writes_goes_through_the_one_writer():
    raw = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if path.parts[len(ROOT.parts)] not in {".venv", "tests", "node_modules", "var", "bench"}
        and path.name != "csvfiles.py"
        and raw.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
