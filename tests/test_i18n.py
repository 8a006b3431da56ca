"""The Danish and English catalogues are complete, and every user-facing string is in them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parents[1]
LANGUAGES = ["da", "en"]
# What ``make messages`` ignores, plus what is not source at all.
NOT_SOURCE = {".git", ".venv", "node_modules", "var", "test-artifacts", "locale", ".ruff_cache", ".pytest_cache"}


def catalogue(language: str) -> Path:
    return BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"


def describe(entries) -> str:
    return "\n".join(f"  {e.msgid!r} ({', '.join(f'{f}:{n}' for f, n in e.occurrences[:2])})" for e in entries)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_fully_translated(language):
    po = polib.pofile(str(catalogue(language)))
    assert len(po) > 0
    untranslated = po.untranslated_entries()
    assert not untranslated, f"untranslated in {language}:\n{describe(untranslated)}"
    fuzzy = po.fuzzy_entries()
    assert not fuzzy, f"fuzzy in {language}:\n{describe(fuzzy)}"
    assert not po.metadata_is_fuzzy


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    """A translation that drops or renames %(name)s fails at run time, not at compile time."""
    with open(catalogue(language), "rb") as fh:
        catalog = read_po(fh, locale=language)
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert not problems


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    """Run ``makemessages`` on a copy of the source tree with an empty locale folder, so the result
    holds exactly the strings the code and templates mark for translation today."""
    tools = ["xgettext", "msguniq", "msgmerge", "msgattrib"]
    if not all(shutil.which(tool) for tool in tools):
        if os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(f"GNU gettext ({', '.join(tools)}) is needed to extract messages")
        pytest.skip(f"GNU gettext ({', '.join(tools)}) is needed to extract messages")
    copy = tmp_path_factory.mktemp("source")
    for item in BASE_DIR.iterdir():
        if item.name in NOT_SOURCE:
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, copy / item.name)
    (copy / "locale").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(copy),
        "DJANGO_SETTINGS_MODULE": "smartcare.settings",
        "DJANGO_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale=da", "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return polib.pofile(str(copy / "locale" / "da" / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_in_the_catalogue(extracted, language):
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(catalogue(language))) if not e.obsolete}
    missing = [e for e in extracted if (e.msgctxt, e.msgid) not in committed]
    assert len(extracted) > 50  # the extraction found the project's strings
    assert not missing, (
        f"{len(missing)} strings are not in locale/{language} (run `make messages` and translate):\n"
        + describe(missing)
    )


def test_english_is_the_source_text():
    """English entries repeat their msgid; a fuzzy guess from a similar message is a bug."""
    wrong = [
        e.msgid
        for e in polib.pofile(str(catalogue("en")))
        if (e.msgstr_plural[0] != e.msgid if e.msgid_plural else e.msgstr != e.msgid)
    ]
    assert wrong == []
