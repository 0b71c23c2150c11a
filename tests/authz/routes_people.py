"""Authorization table of a structure's people: its managers, and the admin for every
structure; anybody else gets 404 (no existence leak), a structure of another tenant too. A
file of people sent to import is its sender's, for the structure it was sent to."""

from __future__ import annotations

import secrets

from sqlmodel import select

from afest.core import uploads
from afest.models import Organisation, Role, User
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each

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


def _file(session, structure: Organisation, owner_id: int) -> dict[str, str]:
    content = "Nom;E-mail;Rôle\n" + "".join(
        f"Personne importée {n};import-{secrets.token_hex(4)}@example.org;apprenant·e\n"
        for n in range(2)
    )
    upload = uploads.keep(
        session,
        owner_id=owner_id,
        purpose=f"people:{structure.id}",
        filename="personnes.csv",
        content=content.encode(),
    )
    return {"structure_id": structure.public_id, "upload_id": upload.public_id}


def _upload_in_scope(session, who: str) -> dict[str, str]:
    # a file of the one who asks (the manager's for a visitor): nobody opens another's
    email = ROLE_EMAILS.get(who, ROLE_EMAILS["manager"])
    owner = session.exec(select(User).where(User.email == email)).one()
    return _file(session, _structure(session), owner.id)


def _foreign_upload(session, factories) -> dict[str, str]:
    structure = factories.make_structure()
    return _file(session, structure, factories.make_user([(Role.MANAGER, structure.id)]).id)


OBJECTS = {
    "person_of_structure": ObjectKind(in_scope=_in_scope, foreign=_foreign),
    "structure_people": ObjectKind(in_scope=_structure_in_scope, foreign=_foreign_structure),
    "people_upload": ObjectKind(in_scope=_upload_in_scope, foreign=_foreign_upload),
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
    "people.import_form": Route("GET", RUNS, obj="structure_people", foreign=FOREIGN),
    # the form sent is empty: answered on it
    "people.upload_import": Route(
        "POST",
        each(404, manager=422, admin=422),
        obj="structure_people",
        foreign={**each(404), "admin": 422},
    ),
    "people.preview_import": Route("GET", RUNS, obj="people_upload", foreign=each(404)),
    "people.confirm_import": Route("POST", RUNS_POST, obj="people_upload", foreign=each(404)),
}
