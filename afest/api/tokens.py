"""API tokens: created for an organisation (its secret shown once, only its SHA-256 kept),
listed, revoked, and the actor a token reads as.

A token acts as a non-human member of its organisation, with the role that organisation's
people hold there: an OPCO's token reads what the OPCO's advisers read (Role.OPCO), a
structure's token what its managers read (Role.MANAGER). Every read goes through the same
afest.policy rules as the pages; a token has no user id (its `id` matches no account), so the
rules about one's own records or designations never match it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, select

from afest import policy
from afest.core import audit
from afest.core.controls import holds_control
from afest.core.errors import ServiceError
from afest.models import ApiToken, Organisation, OrgKind, Role, utcnow

TOKEN_ROLES = {OrgKind.OPCO: Role.OPCO, OrgKind.STRUCTURE: Role.MANAGER}
SECRET_PREFIX = "afest_"  # noqa: S105 (a marker of our secrets, not one)
NAME_MAX = 120
# last_used_at is a write: at most one a minute per token, not one per request
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenActor:
    """What afest.policy needs of an actor (ActorLike), for a token of an organisation."""

    token_id: int
    organisation_id: int
    role: Role

    is_authenticated = True

    @property
    def id(self) -> int:
        return -self.token_id  # never an account's id

    def has(self, *roles: Role) -> bool:
        return self.role in roles

    def orgs(self, role: Role) -> frozenset[int]:
        return frozenset({self.organisation_id}) if role == self.role else frozenset()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_l("Donnez un nom au jeton (le système qui l'utilisera)."), field="name")
    if len(name) > NAME_MAX or holds_control(name):
        raise ServiceError(
            _l("Un nom de %(n)d caractères au plus, sans caractère invisible.", n=NAME_MAX),
            field="name",
        )
    return name


def create_token(
    session: Session, *, actor_id: int, organisation: Organisation, name: str
) -> tuple[ApiToken, str]:
    """A new token of `organisation`; answers it and its secret, which is never shown again."""
    name = _clean_name(name)
    if organisation.kind not in TOKEN_ROLES:
        raise ServiceError(
            _l("Un jeton est créé pour un OPCO ou une structure."), field="organisation"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation_id=organisation.id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[: len(SECRET_PREFIX) + 4],
        created_by_id=actor_id,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="api_token.create",
        subject_kind="api_token",
        subject_id=token.id,
        structure_id=organisation.id if organisation.kind == OrgKind.STRUCTURE else None,
        after={"organisation": organisation.public_id, "name": name, "token": token.public_id},
    )
    return token, secret


def revoke_token(session: Session, *, actor_id: int, token: ApiToken) -> None:
    """The token answers 401 from now on; revoking it again changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="api_token.revoke",
        subject_kind="api_token",
        subject_id=token.id,
        after={"token": token.public_id, "name": token.name},
    )


def bearer(session: Session, secret: str) -> tuple[ApiToken, TokenActor] | None:
    """The live token of this secret and the actor it reads as; None when unknown or revoked."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    row = session.exec(
        select(ApiToken, Organisation.kind)
        .join(Organisation, Organisation.id == ApiToken.organisation_id)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or row[1] not in TOKEN_ROLES:
        return None
    token, kind = row
    return token, TokenActor(token.id, token.organisation_id, TOKEN_ROLES[kind])


def needs_touch(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(session: Session, *, token_id: int, now: datetime) -> None:
    """Record that the token was used (shown in the tokens' list)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


# --- the tokens' page --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenLine:
    public_id: str
    name: str
    prefix: str
    organisation: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def listed(session: Session, actor) -> list[TokenLine]:
    """The tokens the actor manages, newest first."""
    rows = session.exec(
        select(ApiToken, Organisation.name)
        .join(Organisation, Organisation.id == ApiToken.organisation_id)
        .where(policy.api_token_visible(actor))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [
        TokenLine(t.public_id, t.name, t.prefix, org, t.created_at, t.last_used_at, t.revoked_at)
        for t, org in rows
    ]


def organisations(session: Session, actor) -> list[Organisation]:
    """The organisations the actor may create a token for, OPCOs first, by name."""
    return list(
        session.exec(
            select(Organisation)
            .where(policy.api_token_organisations(actor))
            .order_by(Organisation.kind, Organisation.name)
        )
    )


def find(session: Session, actor, public_id: str) -> ApiToken | None:
    return session.exec(
        select(ApiToken).where(ApiToken.public_id == public_id, policy.api_token_visible(actor))
    ).first()
