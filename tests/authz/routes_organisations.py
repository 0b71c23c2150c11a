"""Authorization table of the organisation screens: the administrator's alone. Lists and
forms answer 403 to anybody else; an organisation, a member of one, a cohort or a file
sent to import answers 404 (no existence leak) — even a manager's own structure or an OPCO
adviser's own OPCO. A file sent to import is its sender's: another administrator's
answers 404."""

from __future__ import annotations

import secrets

from sqlmodel import select

from afest.core import uploads
from afest.models import Organisation, OrgKind, Role, User
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each
from tests.organisations.conftest import new_siret


def _body(code: str):
    def in_scope(session, who: str) -> str:
        return session.exec(select(Organisation).where(Organisation.code == code)).one().public_id

    def foreign(session, factories) -> str:
        body = Organisation(name="OPCO étranger", kind=OrgKind.OPCO, code=secrets.token_hex(4))
        session.add(body)
        session.flush()
        return body.public_id

    return ObjectKind(in_scope=in_scope, foreign=foreign)


def _member_in_scope(session, who: str) -> dict[str, str]:
    # OPCO Santé's adviser: not one of the accounts the table signs in with (the fuzzing
    # may take her role away)
    body = session.exec(select(Organisation).where(Organisation.code == "OPCO-SANTE")).one()
    adviser = session.exec(select(User).where(User.email == "conseil@opco-sante.demo")).one()
    return {"public_id": body.public_id, "member_id": adviser.public_id}


def _foreign_member(session, factories) -> dict[str, str]:
    body = Organisation(name="OPCO étranger", kind=OrgKind.OPCO, code=secrets.token_hex(4))
    session.add(body)
    session.flush()
    adviser = factories.make_user([(Role.OPCO, body.id)])
    return {"public_id": body.public_id, "member_id": adviser.public_id}


def _file(session, owner_id: int) -> str:
    content = "SIRET;Nom;Département;Catégorie;Code OPCO\n" + "".join(
        f"{new_siret()};Structure importée {n};13;EHPAD;UNIFORMATION\n" for n in range(2)
    )
    upload = uploads.keep(
        session,
        owner_id=owner_id,
        purpose="structures",
        filename="structures.csv",
        content=content.encode(),
    )
    return upload.public_id


def _upload_in_scope(session, who: str) -> str:
    # the administrator's file whoever asks: nobody else may open one, even their own
    admin = session.exec(select(User).where(User.email == ROLE_EMAILS["admin"])).one()
    return _file(session, admin.id)


def _foreign_upload(session, factories) -> str:
    return _file(session, factories.make_user([(Role.ADMIN, None)]).id)


OBJECTS = {
    "opco": _body("UNIFORMATION"),
    "opco_member": ObjectKind(in_scope=_member_in_scope, foreign=_foreign_member),
    "structures_upload": ObjectKind(in_scope=_upload_in_scope, foreign=_foreign_upload),
}

LIST = each(403, admin=200)
CREATE = each(403, admin=302)
OPEN = each(404, admin=200)
EDIT = each(404, admin=422)  # the form sent is empty: the administrator is answered on it
# the administrator manages every organisation, of whatever tenant; nobody else any
OPEN_FOREIGN = {**each(404), "admin": 200}
EDIT_FOREIGN = {**each(404), "admin": 422}
ACT = each(404, admin=302)  # a one-button form: done, or refused in a message, then back
ACT_FOREIGN = {**each(404), "admin": 302}
OPCO = {"kind": "opco"}

ROUTES = {
    "organisations.structures": Route("GET", LIST, foreign=None),
    "organisations.new_structure": Route("GET", LIST, foreign=None),
    "organisations.create_structure": Route(
        "POST",
        CREATE,
        foreign=None,
        data={
            "name": "Structure de la table",
            "siret": new_siret(),
            "departement": "13",
            "category": "EHPAD",
            "opco": "",
        },
    ),
    "organisations.edit_structure": Route("GET", OPEN, obj="structure", foreign=OPEN_FOREIGN),
    "organisations.update_structure": Route("POST", EDIT, obj="structure", foreign=EDIT_FOREIGN),
    "organisations.bodies": Route("GET", LIST, params=OPCO, foreign=None),
    "organisations.new_body": Route("GET", LIST, params=OPCO, foreign=None),
    "organisations.create_body": Route(
        "POST",
        CREATE,
        params=OPCO,
        foreign=None,
        data={"name": "OPCO de la table", "code": "OPCO-TABLE"},
    ),
    "organisations.edit_body": Route("GET", OPEN, obj="opco", params=OPCO, foreign=OPEN_FOREIGN),
    "organisations.update_body": Route("POST", EDIT, obj="opco", params=OPCO, foreign=EDIT_FOREIGN),
    "organisations.add_member": Route("POST", EDIT, obj="opco", params=OPCO, foreign=EDIT_FOREIGN),
    "organisations.remove_member": Route(
        "POST", ACT, obj="opco_member", params=OPCO, foreign=ACT_FOREIGN
    ),
    "organisations.reinvite_member": Route(
        "POST", ACT, obj="opco_member", params=OPCO, foreign=ACT_FOREIGN
    ),
    "organisations.cohorts": Route("GET", LIST, foreign=None),
    "organisations.new_cohort": Route("GET", LIST, foreign=None),
    "organisations.create_cohort": Route(
        "POST", CREATE, foreign=None, data={"code": "TABLE-2027", "name": "Cohorte de la table"}
    ),
    "organisations.edit_cohort": Route("GET", OPEN, obj="cohort", foreign=OPEN_FOREIGN),
    "organisations.update_cohort": Route("POST", EDIT, obj="cohort", foreign=EDIT_FOREIGN),
    "organisation_imports.import_form": Route("GET", LIST, foreign=None),
    "organisation_imports.upload_import": Route("POST", each(403, admin=422), foreign=None),
    "organisation_imports.preview_import": Route(
        "GET", OPEN, obj="structures_upload", foreign=each(404)
    ),
    "organisation_imports.confirm_import": Route(
        "POST", each(404, admin=302), obj="structures_upload", foreign=each(404)
    ),
}
