"""What follows a structure that moves: its protocols and the dashboards.

A change that moves what protocols or VAE pathways add to the dashboards keeps them true
(the rollups then equal a rebuild):

- a structure's département or OPCO: its protocols are marked and its VAE pathways
  refreshed (a protocol's facts read the structure's département, a pathway's its
  département and OPCO);
- a structure's OPCO: its drafts take the new OPCO as their funder. A protocol sent for
  signature keeps the funder it names: the funder is part of the signed content, and a
  training already engaged stays with the OPCO that engaged it;
- a structure leaving a cohort: its drafts in that cohort leave it too; what was signed in
  the cohort stays in the cohort's figures, as it happened;
- a cohort's funder, support body, dates or consultants are no dimension of the rollups:
  nothing to mark (consultants' access is read live by the policy).

Each protocol that changes is audited in its own chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, select

from afest.core import audit
from afest.dashboards import rollups
from afest.models import CohortStructure, Organisation, Protocol, ProtocolStatus, utcnow


def apply_moves(
    session: Session,
    *,
    actor_id: int | None,
    changes: Iterable[tuple[Organisation, Mapping[str, Any]]],
) -> None:
    """After structures changed (each with its snapshot before): drafts follow a new OPCO,
    and the dashboards follow a new OPCO or département."""
    moved: set[int] = set()
    new_opco: dict[int, int | None] = {}
    for structure, before in changes:
        if structure.opco_id != before["opco_id"]:
            new_opco[structure.id] = structure.opco_id
            moved.add(structure.id)
        if structure.departement != before["departement"]:
            moved.add(structure.id)
    if new_opco:
        _drafts_follow_opco(session, actor_id, new_opco)
    rollups.on_structures_changed(session, moved)


def _drafts_follow_opco(session: Session, actor_id, new_opco: dict[int, int | None]) -> None:
    drafts = session.exec(
        select(Protocol)
        .where(Protocol.structure_id.in_(sorted(new_opco)))
        .where(Protocol.status == ProtocolStatus.DRAFT)
        .order_by(Protocol.id)
    ).all()
    now = utcnow()
    for protocol in drafts:
        funder = new_opco[protocol.structure_id]
        if protocol.funder_id == funder:
            continue
        audit.record(
            session,
            actor_id=actor_id,
            action="protocol.funder",
            subject_kind="protocol",
            subject_id=protocol.id,
            protocol_id=protocol.id,
            structure_id=protocol.structure_id,
            before={"funder_id": protocol.funder_id},
            after={"funder_id": funder},
        )
        protocol.funder_id, protocol.updated_at = funder, now
        session.add(protocol)


def leave_cohort(
    session: Session, *, actor_id: int | None, cohort_id: int, structure_ids: list[int]
) -> None:
    """Structures leave a cohort: their drafts in it leave it too (and are marked)."""
    session.execute(
        delete(CohortStructure).where(
            CohortStructure.cohort_id == cohort_id,
            CohortStructure.structure_id.in_(structure_ids),
        )
    )
    drafts = session.exec(
        select(Protocol)
        .where(
            Protocol.cohort_id == cohort_id,
            Protocol.structure_id.in_(structure_ids),
            Protocol.status == ProtocolStatus.DRAFT,
        )
        .order_by(Protocol.id)
    ).all()
    now = utcnow()
    for protocol in drafts:
        audit.record(
            session,
            actor_id=actor_id,
            action="protocol.cohort",
            subject_kind="protocol",
            subject_id=protocol.id,
            protocol_id=protocol.id,
            structure_id=protocol.structure_id,
            before={"cohort_id": cohort_id},
            after={"cohort_id": None},
        )
        protocol.cohort_id, protocol.updated_at = None, now
        session.add(protocol)
    session.flush()
    rollups.mark(session, [p.id for p in drafts])
