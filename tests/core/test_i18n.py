"""The interface is French by default; every French string has its English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from afest.models import Role

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
# .txt: the e-mails' subjects and plain-text bodies (afest/templates/mail)
METHODS = [
    ("afest/**.py", "python"),
    ("afest/templates/**.html", "jinja2"),
    ("afest/templates/**.txt", "jinja2"),
]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"afest/templates/**.html": {"extensions": "jinja2.ext.do"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_an_english_translation():
    with open(ROOT / "afest/translations/en/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]  # a plural entry: (singular, plural)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(source_messages() - translated)
    assert not missing, f"{len(missing)} strings without English (run `make i18n`): {missing[:10]}"


def test_french_by_default_and_english_on_request(login_as):
    client = login_as(Role.TUTOR)
    assert "Mes apprenant·es" in client.get("/").get_data(as_text=True)
    assert client.post("/langue/en", data={"next": "/"}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log out" in page


def test_unknown_language_is_refused(login_as):
    assert login_as(Role.TUTOR).post("/langue/xx").status_code == 400


def test_counts_and_hours_are_grouped_as_their_reader_writes_them(app):
    """A narrow no-break space between thousands in French, a comma in English; under a
    thousand hours, no separator at all; the same in a template's filters."""
    from flask import render_template_string
    from flask_babel import force_locale

    from afest.core.http import format_count, format_minutes

    with app.test_request_context("/"):
        with force_locale("fr"):
            assert format_count(22098) == "22\u202f098"
            assert format_minutes(1284645 * 60 + 30) == "1\u202f284\u202f645 h 30"
            assert format_minutes(999 * 60) == "999 h"
            page = render_template_string("{{ 1500|count }} {{ 90000|hours }}")
            assert page == "1\u202f500 1\u202f500 h"
        with force_locale("en"):
            assert format_count(22098, sep=None) == "22,098"
            assert format_count(7) == "7"
