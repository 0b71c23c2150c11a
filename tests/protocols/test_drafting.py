"""Rewriting a draft: fields, tutors and scope; refused once submitted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.models import AuditEntry, Competence, CompetenceBlock, ProtocolCompetence, Role
from afest.protocols import drafting
from afest.protocols import operations as protocols


def test_update_draft_rewrites_scope_and_tutors_then_freezes(session, make_protocol, make_user):
    protocol, people = make_protocol(stage="draft")
    other_tutor = make_user([(Role.TUTOR, protocol.structure_id)], name="Tutrice Deux")
    comps = session.exec(
        select(Competence.id)
        .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
        .where(CompetenceBlock.referential_id == protocol.referential_id)
        .order_by(Competence.id.desc())
    ).all()[:2]
    drafting.update_draft(
        session,
        actor_id=people["manager"].id,
        protocol=protocol,
        referential_id=protocol.referential_id,
        title="Nouveau titre",
        planned_start=protocol.planned_start,
        planned_end=protocol.planned_start + timedelta(days=10),
        competence_ids=comps,
        tutor_ids=[people["tutor"].id, other_tutor.id],
        activity_analysis="Analyse reprise",
        planned_minutes=600,
    )
    session.refresh(protocol)
    assert protocol.title == "Nouveau titre" and protocol.planned_minutes == 600
    assert sorted(t.tutor_id for t in protocol.tutors) == sorted(
        [people["tutor"].id, other_tutor.id]
    )
    scope = session.exec(
        select(ProtocolCompetence.competence_id).where(
            ProtocolCompetence.protocol_id == protocol.id
        )
    ).all()
    assert sorted(scope) == sorted(comps)
    assert session.exec(
        select(AuditEntry).where(
            AuditEntry.protocol_id == protocol.id, AuditEntry.action == "protocol.update"
        )
    ).first()
    with pytest.raises(ServiceError) as excinfo:
        drafting.update_draft(
            session,
            actor_id=people["manager"].id,
            protocol=protocol,
            referential_id=protocol.referential_id,
            title="x",
            planned_start=protocol.planned_start,
            planned_end=protocol.planned_start,
            competence_ids=comps,
            tutor_ids=[people["learner"].id],
        )
    assert excinfo.value.field == "tutors"
    protocols.submit_for_signature(session, actor_id=people["manager"].id, protocol=protocol)
    with pytest.raises(ServiceError):
        drafting.update_draft(
            session,
            actor_id=people["manager"].id,
            protocol=protocol,
            referential_id=protocol.referential_id,
            title="Trop tard",
            planned_start=protocol.planned_start,
            planned_end=protocol.planned_end,
            competence_ids=comps,
            tutor_ids=[people["tutor"].id],
        )
