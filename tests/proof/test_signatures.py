"""Signatures hash the signed content; any later change is detected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from afest.assessments.levels import targeted_competence_ids
from afest.core.errors import ServiceError
from afest.models import Autonomy, Protocol, SequenceKind, SignedKind, SignerRole
from afest.proof import signatures
from afest.protocols import operations as protocols
from afest.sequences import operations as sequences
from afest.sequences import signing
from afest.sequences.operations import SequenceData

PARIS = __import__("zoneinfo").ZoneInfo("Europe/Paris")


def _situation(session, protocol, people, client_id="t-1"):
    comp = sorted(targeted_competence_ids(session, protocol.id))[0]
    seq, created = sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=PARIS,
        data=SequenceData(
            client_id=client_id,
            occurred_at=datetime.now(UTC) - timedelta(days=2),
            duration_minutes=120,
            autonomy=Autonomy.ACCOMPANIED,
            intent="Toilette",
            competence_ids=[comp],
        ),
    )
    return seq, created


def test_signed_sequence_tampered_in_the_database_is_detected(session, make_protocol):
    protocol, people = make_protocol()
    seq, _ = _situation(session, protocol, people)
    signing.sign_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        sequence=seq,
        role=SignerRole.TUTOR,
        method="pin",
    )
    assert all(v.intact for v in signatures.verify(session, SignedKind.SEQUENCE, seq))
    # Someone edits the row behind the application's back.
    session.execute(
        sa.text("UPDATE sequence SET duration_minutes = 600 WHERE id = :id"), {"id": seq.id}
    )
    session.expire_all()
    checks = signatures.verify(session, SignedKind.SEQUENCE, session.get(type(seq), seq.id))
    assert checks and not any(v.intact for v in checks)


def test_same_instant_in_another_zone_hashes_the_same(session, make_protocol):
    protocol, people = make_protocol()
    seq, _ = _situation(session, protocol, people)
    before = signatures.content_hash(session, SignedKind.SEQUENCE, seq)
    seq.occurred_at = seq.occurred_at.astimezone(PARIS)
    assert signatures.content_hash(session, SignedKind.SEQUENCE, seq) == before


def test_a_role_signs_once(session, make_protocol):
    protocol, people = make_protocol()
    seq, _ = _situation(session, protocol, people)
    signing.sign_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        sequence=seq,
        role=SignerRole.TUTOR,
        method="pin",
    )
    with pytest.raises(ServiceError):
        signing.sign_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            sequence=seq,
            role=SignerRole.TUTOR,
            method="pin",
        )


def test_learner_countersigns_after_the_tutor_only(session, make_protocol):
    protocol, people = make_protocol()
    seq, _ = _situation(session, protocol, people)
    with pytest.raises(ServiceError, match="signe en premier"):
        signing.sign_sequence(
            session,
            actor_id=people["learner"].id,
            protocol=protocol,
            sequence=seq,
            role=SignerRole.LEARNER,
            method="password",
        )


def test_protocol_cannot_start_before_three_signatures(session, make_protocol):
    protocol, people = make_protocol(stage="awaiting")
    for role, who in ((SignerRole.STRUCTURE, "manager"), (SignerRole.TUTOR, "tutor")):
        protocols.sign_protocol(
            session, actor_id=people[who].id, protocol=protocol, role=role, method="password"
        )
        assert protocol.status == "awaiting_signatures"
    protocols.sign_protocol(
        session,
        actor_id=people["learner"].id,
        protocol=protocol,
        role=SignerRole.LEARNER,
        method="password",
    )
    assert protocol.status == "in_progress" and protocol.started_at is not None


def test_a_stranger_cannot_sign_a_protocol(session, make_protocol, make_user):
    protocol, _people = make_protocol(stage="awaiting")
    stranger = make_user([])
    with pytest.raises(ServiceError):
        protocols.sign_protocol(
            session,
            actor_id=stranger.id,
            protocol=protocol,
            role=SignerRole.STRUCTURE,
            method="password",
        )


def test_audit_chain_links_each_entry_to_the_previous(session, make_protocol):
    from afest.core.audit import entry_hash
    from afest.models import AuditEntry

    protocol, _people = make_protocol()
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.protocol_id == protocol.id).order_by(AuditEntry.id)
    ).all()
    assert len(entries) >= 5
    assert entries[0].prev_hash == ""
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash
        assert entry.hash == entry_hash(entry)
    assert session.get(Protocol, protocol.id).status == "in_progress"
