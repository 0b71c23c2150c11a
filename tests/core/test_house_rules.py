"""House rules that a reader of the code can count: every function of afest/blueprints — a
view or a private helper beside the views — fits in MAX_FUNCTION_LINES lines (the function,
decorators excluded), so that what a page composes lives in its domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import afest.blueprints

MAX_FUNCTION_LINES = 15
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
BLUEPRINTS = sorted(Path(afest.blueprints.__file__).parent.glob("*.py"))


def _functions(source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of `source`, nested ones too."""
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _is_route(decorator: ast.expr) -> bool:
    """`@bp.get(...)`, `@bp.route(...)` and the like."""
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ROUTE_DECORATORS
    )


def long_functions(source: str) -> list[tuple[str, int]]:
    """(name, lines) of each function in `source` longer than MAX_FUNCTION_LINES."""
    found = []
    for node in _functions(source):
        lines = node.end_lineno - node.lineno + 1
        if lines > MAX_FUNCTION_LINES:
            found.append((node.name, lines))
    return found


def test_the_count_finds_long_functions_views_or_helpers():
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES - 1))
    source = (
        f"@bp.get('/a')\n@login_required\ndef long():\n{body}\n    return x0\n\n"
        f"@bp.route('/b', methods=['POST'])\ndef short():\n{body}\n\n"
        f"def _helper():\n{body}\n    return x0\n\n"
        f"def _fits():\n{body}\n"
    )
    assert long_functions(source) == [("long", MAX_FUNCTION_LINES + 1), ("_helper", 16)]


def test_the_count_reads_the_blueprints():
    """The rule cannot pass by counting nothing: it sees the views and the helpers."""
    functions = [f for path in BLUEPRINTS for f in _functions(path.read_text(encoding="utf-8"))]
    views = [f for f in functions if any(_is_route(d) for d in f.decorator_list)]
    assert len(views) > 100
    assert any(f.name.startswith("_") for f in functions)


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda path: path.name)
def test_every_function_fits_in_fifteen_lines(path):
    assert long_functions(path.read_text(encoding="utf-8")) == []
