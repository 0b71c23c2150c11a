"""Control characters: what no text afest keeps may hold.

NUL first (PostgreSQL refuses it in text; SQLite keeps it, and a later export breaks on it),
then the other C0 characters, DEL and the C1 range (U+0080–U+009F): no keyboard types them
and no document shows them; they come from a paste, a script or a damaged file. Multi-line
text keeps its tabs and line feeds (a carriage return, as browsers send line breaks, is read
as a line feed); a one-line value turns its line breaks and tabs into spaces.
"""

from __future__ import annotations

import re
from typing import Any

# every control character but tab and line feed
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what a one-line value shows as a space: tab, line feed, vertical tab, form feed, CR
_BREAKS = re.compile(r"\r\n|[\t\n\x0b\x0c\r]")
# what a document of stored text leaves out: every control character but tab, LF and CR
_IN_DOCUMENTS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def single_line(value: Any) -> Any:
    """A one-line value without control characters, its line breaks and tabs as spaces;
    anything but text as it is (a filter of every field)."""
    if not isinstance(value, str):
        return value
    return CONTROLS.sub("", _BREAKS.sub(" ", value))


def multi_line(value: Any) -> Any:
    """Multi-line text without control characters but its tabs and line feeds."""
    if not isinstance(value, str):
        return value
    return CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def holds_control(text: str | None) -> bool:
    """Whether a value holds any control character, tab and line breaks included."""
    return bool(text) and _ANY.search(text) is not None


def scrub(text: str) -> tuple[str, int]:
    """Stored text as a document may show it: without the control characters stored before
    forms removed them (tab and line breaks kept), and how many were removed."""
    return _IN_DOCUMENTS.subn("", text)
