"""Reads of the référentiel screens, within what the actor may see."""

from __future__ import annotations

from sqlalchemy.orm import selectinload
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
