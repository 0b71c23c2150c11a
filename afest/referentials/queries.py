"""Reads of the référentiel screens, within what the actor may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import aliased, selectinload
from sqlmodel import Session, select

from afest import policy
from afest.models import CompetenceBlock, Organisation, Referential, Role


def visible(session: Session, actor: policy.ActorLike) -> list[Referential]:
    """National référentiels and the actor's structures' own, by kind and code."""
    return list(
        session.exec(
            select(Referential)
            .where(policy.referential_visible(actor))
            .order_by(Referential.kind, Referential.code)
        )
    )


def structures_for(session: Session, actor: policy.ActorLike) -> list[tuple[int, str]]:
    """The structures a new référentiel may belong to: all for the admin, else those the
    actor manages."""
    query = select(Organisation.id, Organisation.name).where(policy.structure_visible(actor))
    if not actor.has(Role.ADMIN):
        query = query.where(Organisation.id.in_(actor.orgs(Role.MANAGER)))
    return [(oid, name) for oid, name in session.exec(query.order_by(Organisation.name))]


def full(session: Session, referential_id: int) -> Referential:
    """A référentiel with its blocks, their competences and its level scale, in three reads."""
    return session.exec(
        select(Referential)
        .where(Referential.id == referential_id)
        .options(
            selectinload(Referential.blocks).selectinload(CompetenceBlock.competences),
            selectinload(Referential.levels),
        )
    ).one()


def newest_version() -> ColumnElement[bool]:
    """SQL condition: the référentiel is the newest version of its code (new protocols take
    it; older versions stay for the protocols that target them)."""
    newer = aliased(Referential)
    return ~exists().where(newer.code == Referential.code, newer.version > Referential.version)


def newer_version(session: Session, referential: Referential) -> Referential | None:
    """The newest version of a référentiel, when it is not itself the newest."""
    return session.exec(
        select(Referential)
        .where(Referential.code == referential.code, Referential.version > referential.version)
        .order_by(Referential.version.desc())
        .limit(1)
    ).first()


def label(code: str, title: str, version: int) -> str:
    """How a référentiel is named in a list of choices: its version when it has several."""
    return f"{code} — {title}" + (f" (v{version})" if version > 1 else "")
