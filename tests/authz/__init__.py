"""The authorization table: every route of the app, what each role gets, and what an object
of another tenant answers. A route missing from the table fails the suite.

Each area of the app has its own module here, `routes_<area>.py`, defining:

- ROUTES: {endpoint: Route(...)} — merged below; an endpoint defined twice is an error.
- OBJECTS (optional): {kind: ObjectKind(in_scope=..., foreign=...)} — how to find, for an
  object kind named in a URL, one the actor can see and one of another tenant.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from afest.models import Role

ALL = tuple(Role)
ANON = "anonymous"
ROLE_EMAILS = {
    "admin": "admin@afest.demo",
    "manager": "direction@azur-aide.demo",
    "tutor": "tuteur@azur-aide.demo",
    "learner": "apprenant@azur-aide.demo",
    "opco": "conseil@uniformation.demo",
    "consultant": "consultant@aract-paca.demo",
}


@dataclass(frozen=True)
class Route:
    method: str
    expected: dict[str, int]  # role (or ANON) → status for an object in the actor's scope
    obj: str | None = None  # kind of object in the URL (a key of OBJECTS)
    params: dict[str, str] = field(default_factory=dict)  # fixed URL values
    # status for an object of another tenant (None: not applicable), or role → status where
    # some role sees every tenant (the admin, a structure's people)
    foreign: int | dict[str, int] | None = 404
    data: dict[str, str] = field(default_factory=dict)  # form sent with a POST


@dataclass(frozen=True)
class ObjectKind:
    # (session, who) → public id of an object `who` can see (any object for ANON / no scope),
    # or {url parameter: public id} when the URL names two objects
    in_scope: Callable[[Any, str], Any]
    # (session, factories) → public id of an object of a tenant none of the demo actors has;
    # `factories` has make_protocol, make_structure, make_user (see tests/conftest.py)
    foreign: Callable[[Any, Any], Any]


def each(status: int, *, anon: int = 302, **overrides: int) -> dict[str, int]:
    """Every role gets `status` unless overridden; anonymous visitors get `anon`."""
    table = {str(role): status for role in ALL}
    table.update(overrides)
    table[ANON] = anon
    return table


def _collect() -> tuple[dict[str, Route], dict[str, ObjectKind]]:
    routes: dict[str, Route] = {}
    objects: dict[str, ObjectKind] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("routes_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for endpoint, route in module.ROUTES.items():
            if endpoint in routes:
                raise AssertionError(f"{endpoint} is in two authz modules")
            routes[endpoint] = route
        objects.update(getattr(module, "OBJECTS", {}))
    return routes, objects


ROUTES, OBJECTS = _collect()
