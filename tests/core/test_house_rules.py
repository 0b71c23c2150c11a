"""House rules that a reader of the code can count: every view of afest/blueprints fits in
MAX_VIEW_LINES lines (the function, decorators excluded), so that what it composes lives in
its domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import afest.blueprints

MAX_VIEW_LINES = 15
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
BLUEPRINTS = sorted(Path(afest.blueprints.__file__).parent.glob("*.py"))


def _is_route(decorator: ast.expr) -> bool:
    """`@bp.get(...)`, `@bp.route(...)` and the like."""
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ROUTE_DECORATORS
    )


def long_views(source: str) -> list[tuple[str, int]]:
    """(name, lines) of each view in `source` longer than MAX_VIEW_LINES."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_route(d) for d in node.decorator_list
        ):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_VIEW_LINES:
                found.append((node.name, lines))
    return found


def test_the_count_finds_a_long_view_and_only_views():
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_VIEW_LINES - 1))
    source = (
        f"@bp.get('/a')\n@login_required\ndef long():\n{body}\n    return x0\n\n"
        f"@bp.route('/b', methods=['POST'])\ndef short():\n{body}\n\n"
        f"def _helper():\n{body}\n    return x0\n"
    )
    assert long_views(source) == [("long", MAX_VIEW_LINES + 1)]


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda path: path.name)
def test_every_view_fits_in_fifteen_lines(path):
    assert long_views(path.read_text(encoding="utf-8")) == []
