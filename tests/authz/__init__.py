"""The authorization table: every route of the app, what each role gets, and what an object
of another tenant answers. A route missing from ROUTES fails the suite (test_routes_authz)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afest.models import Role

ALL = tuple(Role)
ANON = "anonymous"


@dataclass(frozen=True)
class Route:
    method: str
    expected: dict[str, int]  # role (or ANON) → status for an object in the actor's scope
    obj: str | None = None  # kind of object in the URL: "protocol", "user"
    params: dict[str, str] = field(default_factory=dict)  # fixed URL values
    foreign: int | None = 404  # status for an object of another tenant (None: not applicable)
    data: dict[str, str] = field(default_factory=dict)


def each(status: int, *, anon: int = 302, **overrides: int) -> dict[str, int]:
    table = {str(role): status for role in ALL}
    table.update(overrides)
    table[ANON] = anon
    return table


ROUTES: dict[str, Route] = {
    "static": Route("GET", each(200, anon=200), params={"filename": "css/afest.css"},
                    foreign=None),
    "auth.login": Route("GET", each(302, anon=200), foreign=None),
    "auth.logout": Route("POST", each(302), foreign=None),
    "auth.change_password": Route("GET", each(200), foreign=None),
    "auth.set_language": Route("POST", each(302, anon=302), params={"code": "en"},
                               foreign=None),
    "main.home": Route("GET", each(200), foreign=None),
    "main.health": Route("GET", each(200, anon=200), foreign=None),
    "protocols.index": Route("GET", each(403, manager=200), foreign=None),
    "protocols.show": Route("GET", each(200, admin=404), obj="protocol"),
    "admin.accounts": Route("GET", each(403, admin=200), foreign=None),
    "admin.set_active": Route("POST", each(404, admin=302), obj="user", foreign=None,
                              data={"active": "1"}),
}
