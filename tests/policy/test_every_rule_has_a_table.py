"""Every public rule of afest.policy has a table in tests/policy, and every table is of a rule:
a rule added (or renamed) without its table fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter

import tests.policy
from afest import policy


def public_rules(module=policy) -> set[str]:
    """The public functions defined in the policy module (not the names it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }


def tabled() -> Counter[str]:
    """The rules the `TABLES` of the test modules of tests/policy cover, with how many times."""
    covered: Counter[str] = Counter()
    for info in pkgutil.iter_modules(tests.policy.__path__):
        if info.name.startswith("test_"):
            module = importlib.import_module(f"{tests.policy.__name__}.{info.name}")
            covered.update(list(getattr(module, "TABLES", {})))
    return covered


def test_every_public_rule_has_a_table():
    assert public_rules() - set(tabled()) == set()


def test_every_table_is_of_a_public_rule():
    assert set(tabled()) - public_rules() == set()


def test_a_rule_has_one_table():
    assert [rule for rule, n in tabled().items() if n > 1] == []
