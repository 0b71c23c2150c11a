"""Authorization table of the import from France compétences' register: the administrator's
(who imports the national référentiels). The form answers 403 to anybody else; a file sent
is its sender's: anybody else, another administrator included, is answered 404."""

from __future__ import annotations

from sqlmodel import select

from afest.core import uploads
from afest.models import Role, User
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each
from tests.referentials.rncp_files import XML_2026


def _file(session, owner_id: int) -> str:
    upload = uploads.keep(
        session,
        owner_id=owner_id,
        purpose="rncp",
        filename=XML_2026.name,
        content=XML_2026.read_bytes(),
    )
    return upload.public_id


def _upload_in_scope(session, who: str) -> str:
    admin = session.exec(select(User).where(User.email == ROLE_EMAILS["admin"])).one()
    return _file(session, admin.id)


def _foreign_upload(session, factories) -> str:
    return _file(session, factories.make_user([(Role.ADMIN, None)]).id)


OBJECTS = {"rncp_upload": ObjectKind(in_scope=_upload_in_scope, foreign=_foreign_upload)}

ROUTES = {
    "referential_register.form": Route("GET", each(403, admin=200), foreign=None),
    "referential_register.upload": Route("POST", each(403, admin=422), foreign=None),
    "referential_register.choose": Route(
        "GET", each(404, admin=200), obj="rncp_upload", foreign=each(404)
    ),
    # no fiche chosen: the administrator is answered on the page
    "referential_register.preview": Route(
        "GET", each(404, admin=422), obj="rncp_upload", foreign=each(404)
    ),
    "referential_register.confirm": Route(
        "POST", each(404, admin=422), obj="rncp_upload", foreign=each(404)
    ),
}

# Moving a draft to the newest version of its référentiel: the draft's managers (the demo's
# drafts target the newest version already, so the manager too is answered 404: nothing to
# move to; tests/referentials/test_moves.py moves one).
ROUTES |= {
    "referential_moves.preview": Route(
        "GET", each(404, opco=403, consultant=403), obj="protocol_draft"
    ),
    "referential_moves.move": Route(
        "POST", each(404, opco=403, consultant=403), obj="protocol_draft"
    ),
}
