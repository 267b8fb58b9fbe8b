"""The shipped catalogs are complete (issue 27): every message of every
catalog (django and, if one is added, djangojs) has a translation that
Django will use (not empty, not fuzzy), keeps the message's placeholders and
markup, and nothing in the code or templates is marked for translation
without being in the catalogs, so no participant meets an English sentence
on a translated page."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
LANGUAGES = sorted(path.name for path in LOCALE.iterdir() if path.is_dir())
# What `makemessages` reads (docs/extending.md, "Adding a language"): the
# apps and templates, not the tests, benchmarks or the virtualenv.
IGNORED = [".venv", "node_modules", "tests", "var", "bench", "deploy", "locale"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z]+[^>]*>")


def entries(path: Path) -> list[dict]:
    """The catalog's messages, header and obsolete entries left out:
    {msgid, msgid_plural?, msgstr or msgstr[n], flags}."""
    found = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif match := re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line):
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry[key] += ast.literal_eval(line)
        if entry.get("msgid"):
            found.append(entry)
    return found


def translations(entry: dict) -> list[str]:
    return [value for key, value in sorted(entry.items()) if key.startswith("msgstr")]


def problems(path: Path) -> list[str]:
    out = []
    for entry in entries(path):
        msgid = entry["msgid"]
        wanted = set(PLACEHOLDER.findall(msgid + entry.get("msgid_plural", "")))
        if "fuzzy" in entry["flags"]:
            out.append(f"fuzzy (Django ignores it): {msgid!r}")
        for text in translations(entry):
            if not text:
                out.append(f"untranslated: {msgid!r}")
                continue
            have = set(PLACEHOLDER.findall(text))
            # A plural's forms may leave the number out ("one question"); nothing else may differ.
            if have != wanted and not ("msgid_plural" in entry and have < wanted):
                out.append(f"placeholders {sorted(have)} instead of {sorted(wanted)}: {msgid!r}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(msgid)):
                out.append(f"markup differs: {msgid!r}")
            if '"' in text and '"' not in msgid:
                out.append(f"a straight double quote (would end an HTML attribute): {msgid!r}")
    return out


def test_catalogs_are_shipped_for_the_participant_languages():
    assert {"es", "ar", "zh_Hans"} <= set(LANGUAGES)
    assert all((LOCALE / lang / "LC_MESSAGES" / "django.po").exists() for lang in LANGUAGES)


@pytest.mark.parametrize("path", CATALOGS, ids=[str(p.relative_to(LOCALE)) for p in CATALOGS])
def test_every_message_is_translated_with_its_placeholders(path):
    assert entries(path), "an empty catalog"
    assert problems(path) == []


def test_the_check_finds_a_missing_or_broken_translation(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\n'
        'msgid "Hello %(name)s"\nmsgstr "Hola %(nombre)s"\n\n'
        '#, fuzzy\nmsgid "Thanks"\nmsgstr "Gracias"\n\n'
        'msgid "Send"\nmsgstr ""\n\n'
        'msgid "Version {revision}"\nmsgstr "Versión"\n\n'
        'msgid "<strong>Preview</strong>"\nmsgstr "Vista previa"\n\n'
        'msgid "Fine"\nmsgstr "Bien"\n',
        encoding="utf-8",
    )
    assert problems(po) == [
        "placeholders ['%(nombre)s'] instead of ['%(name)s']: 'Hello %(name)s'",
        "fuzzy (Django ignores it): 'Thanks'",
        "untranslated: 'Send'",
        "placeholders [] instead of ['{revision}']: 'Version {revision}'",
        "markup differs: '<strong>Preview</strong>'",
    ]


def _msgids(path: Path) -> set[str]:
    return {entry["msgid"] for entry in entries(path)}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is installed by scripts/dev.py")
def test_makemessages_finds_nothing_the_catalogs_lack(tmp_path, monkeypatch):
    """makemessages, run on a copy of the sources and catalogs (it writes
    into the catalogs beside the files it reads), adds no message and leaves
    none behind: every marked text is translated in every language, and the
    catalogs keep no stale entry."""
    before = {path: path.read_bytes() for path in CATALOGS}
    work = tmp_path / "project"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(*IGNORED, ".git", "*.mo", "__pycache__", ".*_cache", "*.png"),
    )
    shutil.copytree(LOCALE, work / "locale", ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.chdir(work)
    with override_settings(LOCALE_PATHS=[str(work / "locale")]):
        call_command("makemessages", locale=LANGUAGES, ignore_patterns=IGNORED, verbosity=0)
    for lang in LANGUAGES:
        shipped = _msgids(LOCALE / lang / "LC_MESSAGES" / "django.po")
        extracted = _msgids(work / "locale" / lang / "LC_MESSAGES" / "django.po")
        assert sorted(extracted - shipped) == [], f"marked but not in the {lang} catalog"
        assert sorted(shipped - extracted) == [], f"in the {lang} catalog but no longer marked"
    assert {path: path.read_bytes() for path in CATALOGS} == before, "the shipped catalogs were written to"
