"""Authorization table of a structure's people: its managers, and the admin for every
structure; anybody else gets 404 (no existence leak), a structure of another tenant too."""

from __future__ import annotations

from sqlmodel import select

from afest.models import Organisation, Role, User
from tests.authz import ObjectKind, Route, each

AZUR = "Azur Aide à Domicile"
# not one of the accounts the table signs in with: the fuzzing may deactivate her
PERSON = "tutrice2@azur-aide.demo"


def _structure(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def _in_scope(session, who: str) -> dict[str, str]:
    person = session.exec(select(User).where(User.email == PERSON)).one()
    return {"structure_id": _structure(session).public_id, "public_id": person.public_id}


def _foreign(session, factories) -> dict[str, str]:
    structure = factories.make_structure()
    person = factories.make_user([(Role.TUTOR, structure.id)])
    return {"structure_id": structure.public_id, "public_id": person.public_id}


def _structure_in_scope(session, who: str) -> str:
    return _structure(session).public_id


def _foreign_structure(session, factories) -> str:
    return factories.make_structure().public_id


OBJECTS = {
    "person_of_structure": ObjectKind(in_scope=_in_scope, foreign=_foreign),
    "structure_people": ObjectKind(in_scope=_structure_in_scope, foreign=_foreign_structure),
}
RUNS = each(404, manager=200, admin=200)
RUNS_POST = each(404, manager=302, admin=302)
# the admin runs every structure's people; a manager only her own
FOREIGN = {**each(404), "admin": 200}
FOREIGN_POST = {**each(404), "admin": 302}

ROUTES = {
    "people.index": Route("GET", each(403, manager=302, admin=200), foreign=None),
    "people.roster": Route("GET", RUNS, obj="structure_people", foreign=FOREIGN),
    "people.person": Route("GET", RUNS, obj="person_of_structure", foreign=FOREIGN),
    "people.replace_tutor": Route("GET", RUNS, obj="person_of_structure", foreign=FOREIGN),
    "people.set_active": Route(
        "POST", RUNS_POST, obj="person_of_structure", foreign=FOREIGN_POST, data={"active": "1"}
    ),
    "people.reinvite": Route("POST", RUNS_POST, obj="person_of_structure", foreign=FOREIGN_POST),
}
