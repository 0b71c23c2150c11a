"""Authorization table of the foundation: auth, home, protocols, admin."""

from __future__ import annotations

from sqlmodel import select

from afest import policy
from afest.accounts import operations as accounts
from afest.accounts.identity import Actor, UserView
from afest.models import Protocol, User
from tests.authz import ANON, ROLE_EMAILS, ObjectKind, Route, each


def actor_for(session, who: str) -> Actor:
    user = session.exec(select(User).where(User.email == ROLE_EMAILS[who])).one()
    return Actor(
        user=UserView.of(user), token="", assignments=accounts.roles_of(session, user_id=user.id)
    )


def _protocol_in_scope(session, who: str) -> str:
    query = select(Protocol).order_by(Protocol.id)
    if who not in (ANON, "admin"):
        query = query.where(policy.protocol_visible(actor_for(session, who)))
    return session.exec(query).first().public_id


def _foreign_protocol(session, factories) -> str:
    protocol, _people = factories.make_protocol()
    return protocol.public_id


def _user_in_scope(session, who: str) -> str:
    return (
        session.exec(select(User).where(User.email == "apprenant2@azur-aide.demo")).one().public_id
    )


OBJECTS = {
    "protocol": ObjectKind(in_scope=_protocol_in_scope, foreign=_foreign_protocol),
    "user": ObjectKind(
        in_scope=_user_in_scope, foreign=lambda session, f: f.make_user([]).public_id
    ),
}

ROUTES = {
    "static": Route("GET", each(200, anon=200), params={"filename": "css/afest.css"}, foreign=None),
    "auth.login": Route("GET", each(302, anon=200), foreign=None),
    "auth.logout": Route("POST", each(302), foreign=None),
    "auth.change_password": Route("GET", each(200), foreign=None),
    "auth.change_pin": Route("GET", each(403, tutor=200), foreign=None),
    "auth.forgot_password": Route("GET", each(200, anon=200), foreign=None),
    # a link that is no link: the same clear page for everybody, nobody signed out
    "auth.accept_invitation": Route(
        "GET", each(410, anon=410), params={"value": "pas-un-lien"}, foreign=None
    ),
    "auth.reset_password": Route(
        "GET", each(410, anon=410), params={"value": "pas-un-lien"}, foreign=None
    ),
    "auth.set_language": Route("POST", each(302, anon=302), params={"code": "en"}, foreign=None),
    "main.home": Route("GET", each(200), foreign=None),
    "main.health": Route("GET", each(200, anon=200), foreign=None),
    "protocols.index": Route("GET", each(403, manager=200), foreign=None),
    "protocols.show": Route("GET", each(200, admin=404), obj="protocol"),
    "admin.accounts": Route("GET", each(403, admin=200), foreign=None),
    "admin.set_active": Route(
        "POST", each(404, admin=302), obj="user", foreign=None, data={"active": "1"}
    ),
}
