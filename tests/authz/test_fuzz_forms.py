"""Hostile input on every form of the app (Hypothesis): never a 500, never a script echoed
unescaped, never a half-written record.

The forms are found, not listed: every GET page of the authorization table is opened by a
role that may open it, and each POST form on it is collected with its fields. Each form then
receives random and hostile values: huge strings, control characters, HTML and script, SQL
fragments, wrong types, and missing fields. A response refused with 4xx must leave every
table exactly as it was, and no text any form saved holds a control character. ≥ 200
examples per form when CI is set (AFEST_FUZZ_EXAMPLES to change).
"""

from __future__ import annotations

import os
import re
import urllib.parse

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afest.core.controls import CONTROLS
from afest.models import metadata
from tests.authz import ANON, OBJECTS, ROLE_EMAILS, ROUTES
from tests.authz.test_routes import _object_values, _url
from tests.load_forms import forms_of

EXAMPLES = int(os.environ.get("AFEST_FUZZ_EXAMPLES", "200" if os.environ.get("CI") else "25"))
SCRIPT = "<script>alert(1)</script>"
HOSTILE = st.sampled_from(
    [
        SCRIPT,
        '"><img src=x onerror=alert(1)>',
        "'; DROP TABLE sequence; --",
        "1 OR 1=1",
        "../../etc/passwd",
        "\x00",
        "\x00\x07\x1b\u0085",
        "a\x08b\x7fc\x9fd",
        "\u202e",
        "%s%s%n",
        "{{7*7}}",
        "-1",
        "0",
        "99999999999999999999",
        "1e309",
        "NaN",
        "2026-13-45T25:61",
        "true",
        "[]",
        "{}",
        '=HYPERLINK("http://x")',
        "a" * 20000,
        "é" * 5000,
        " ",
        "",
    ]
)
VALUE = st.one_of(
    HOSTILE,
    st.text(max_size=300),
    st.integers().map(str),
    st.binary(max_size=50).map(lambda b: b.decode("latin-1")),
)
SKIP_ACTIONS = ("/deconnexion", "/langue/")


def _discover(app, session, login_as) -> list[tuple[str, str, dict]]:
    """(role, action, form) for every POST form reachable from a GET page."""
    found: dict[tuple[str, str], tuple[str, str, dict]] = {}
    for endpoint, route in sorted(ROUTES.items()):
        if route.method != "GET" or endpoint == "static":
            continue
        for who, status in route.expected.items():
            if status != 200 or who == ANON:
                continue
            values = dict(route.params)
            if route.obj:
                ids = OBJECTS[route.obj].in_scope(session, who)
                values.update(_object_values(app, endpoint, values, ids))
            client = login_as(ROLE_EMAILS[who])
            url = _url(app, endpoint, values)
            response = client.get(url)
            if response.mimetype != "text/html":
                break  # a download (PDF, XLSX, DOCX, JSON): no form in it
            for form in forms_of(response.get_data(as_text=True)):
                action = form["action"] or url
                if action.startswith(SKIP_ACTIONS):
                    continue
                shape = re.sub(r"/[A-Za-z0-9_-]{16}(?=/|$)", "/<id>", action.split("?")[0])
                found.setdefault((shape, who), (who, action, form))
            break  # one role per page is enough to find its forms
    return sorted(found.values(), key=lambda item: item[1])


def _counts(session) -> dict[str, int]:
    return {
        name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for name, table in metadata.tables.items()
    }


def _fuzzer(session, client, action: str, names: list[str]):
    """A Hypothesis test posting random and hostile values for `names` to `action`."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        data=st.fixed_dictionaries(
            {}, optional={n: st.lists(VALUE, min_size=1, max_size=3) for n in names}
        )
    )
    def post(data):
        body = urllib.parse.urlencode([(k, v) for k, vs in data.items() for v in vs])
        before = _counts(session)
        response = client.post(action, data=body, content_type="application/x-www-form-urlencoded")
        text = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        assert response.status_code < 500, (action, data)
        assert SCRIPT not in text, (action, "script echoed unescaped")
        if response.status_code >= 400:
            assert _counts(session) == before, (action, "half-written record", data)

    return post


def _controls_stored(session) -> set[str]:
    """The texts stored holding a control character but tab and line feed, as
    "table.column: value"."""
    found = set()
    for name, table in metadata.tables.items():
        columns = [c for c in table.columns if isinstance(c.type, sa.String)]
        if not columns:
            continue
        for row in session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str) and CONTROLS.search(value):
                    found.add(f"{name}.{column.name}: {value[:60]!r}")
    return found


def test_every_form_survives_hostile_input(app, session, login_as):
    forms = _discover(app, session, login_as)
    stored_before = _controls_stored(session)
    assert len(forms) >= 10, f"only {len(forms)} forms found: the discovery is broken"
    failures = []
    for who, action, form in forms:
        client = login_as(ROLE_EMAILS[who])
        names = sorted({name for name, _v in form["fields"]} | set(form["options"]))
        names = [n for n in names if not n.endswith("csrf_token")]
        try:
            _fuzzer(session, client, action, names)()
        except Exception as exc:  # collect every form's failure, report them together
            failures.append(f"{who} {action}: {exc}")
    assert not failures, "\n".join(failures)
    stored = sorted(_controls_stored(session) - stored_before)
    assert not stored, stored[:10]
