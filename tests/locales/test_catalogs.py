"""The Babel catalogs are complete, current, and keep every placeholder."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from bot.config import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def msgids(path) -> set[str]:
    with path.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def test_template_matches_the_source(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "__",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    assert msgids(fresh) == msgids(LOCALES / "messages.pot"), (
        "locales/messages.pot is stale: run the extract and update commands from the README"
    )


@pytest.mark.parametrize("language", ["ru"])
def test_every_message_is_translated_with_its_placeholders(language):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    assert {str(m.id) for m in catalog if m.id} == msgids(LOCALES / "messages.pot")
    for message in catalog:
        if not message.id:
            continue
        assert message.string and not message.fuzzy, f"untranslated: {message.id!r}"
        assert set(PLACEHOLDER.findall(str(message.id))) == set(
            PLACEHOLDER.findall(str(message.string))
        ), f"placeholders differ in {message.id!r}"
