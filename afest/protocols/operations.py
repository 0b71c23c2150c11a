"""The protocol lifecycle: draft → awaiting signatures → in progress → completed | stopped.
A draft is written by afest.protocols.drafting; here it is submitted, signed by its three
parties, then completed or stopped (a paused protocol, afest.protocols.pausing, is resumed
before it is completed; stopping it ends its pause)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.assessments.evaluations import has_signed_final
from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    SignedKind,
    SignerRole,
    utcnow,
)
from afest.proof import signatures
from afest.protocols import pausing


def has_role(session: Session, user_id: int, role: Role, organisation_id: int) -> bool:
    """Whether the user holds the role in that organisation."""
    return (
        session.exec(
            select(RoleAssignment.id).where(
                RoleAssignment.user_id == user_id,
                RoleAssignment.role == role,
                RoleAssignment.organisation_id == organisation_id,
            )
        ).first()
        is not None
    )


def require_status(protocol: Protocol, *allowed: ProtocolStatus) -> None:
    """Refuse an action the protocol's status does not allow."""
    if protocol.status not in allowed:
        raise ServiceError(_l("Cette action n'est pas possible au statut actuel du protocole."))


def submit_for_signature(session: Session, *, actor_id: int, protocol: Protocol) -> None:
    """Freeze the draft: from now on it is signed as it stands, or not at all."""
    require_status(protocol, ProtocolStatus.DRAFT)
    _set_status(session, actor_id, protocol, ProtocolStatus.AWAITING_SIGNATURES)


def sign_protocol(
    session: Session, *, actor_id: int, protocol: Protocol, role: SignerRole, method: str
) -> None:
    """One of the three parties signs; the third signature opens the training."""
    require_status(protocol, ProtocolStatus.AWAITING_SIGNATURES)
    allowed = {
        SignerRole.LEARNER: actor_id == protocol.learner_id,
        SignerRole.TUTOR: any(
            t.tutor_id == actor_id and t.ended_at is None for t in protocol.tutors
        ),
        SignerRole.STRUCTURE: has_role(session, actor_id, Role.MANAGER, protocol.structure_id),
    }
    if not allowed[role]:
        raise ServiceError(_l("Vous ne pouvez pas signer ce protocole à ce titre."))
    signatures.sign(
        session,
        actor_id=actor_id,
        kind=SignedKind.PROTOCOL,
        subject=protocol,
        role=role,
        method=method,
        protocol=protocol,
    )
    signed = {
        s.signer_role for s in signatures.signatures_of(session, SignedKind.PROTOCOL, protocol.id)
    }
    if signed == set(SignerRole):
        protocol.started_at = utcnow()
        _set_status(session, actor_id, protocol, ProtocolStatus.IN_PROGRESS)


def complete_protocol(session: Session, *, actor_id: int, protocol: Protocol) -> None:
    """Close a protocol whose final evaluation (bilan) is signed."""

    require_status(protocol, ProtocolStatus.IN_PROGRESS)
    if pausing.open_pause(session, protocol.id) is not None:
        raise ServiceError(_l("Reprenez le protocole, en pause, avant de le clore."))
    if not has_signed_final(session, protocol.id):
        raise ServiceError(_l("Le bilan final doit être signé avant de clore le protocole."))
    protocol.ended_at = utcnow()
    _set_status(session, actor_id, protocol, ProtocolStatus.COMPLETED)


def stop_protocol(session: Session, *, actor_id: int, protocol: Protocol, reason: str) -> None:
    """Stop a protocol before its end, with a reason."""
    require_status(
        protocol,
        ProtocolStatus.DRAFT,
        ProtocolStatus.AWAITING_SIGNATURES,
        ProtocolStatus.IN_PROGRESS,
    )
    if not reason.strip():
        raise ServiceError(_l("Indiquez le motif de l'arrêt."), field="reason")
    protocol.stop_reason = reason.strip()
    protocol.ended_at = utcnow()
    pausing.end_on_stop(session, actor_id=actor_id, protocol=protocol)
    _set_status(session, actor_id, protocol, ProtocolStatus.STOPPED)


def _set_status(
    session: Session, actor_id: int, protocol: Protocol, status: ProtocolStatus
) -> None:
    before = protocol.status
    protocol.status = status
    protocol.updated_at = utcnow()
    session.add(protocol)
    session.flush()
    rollups.on_protocol_status_changed(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.status",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before={"status": before},
        after={"status": status, "reason": protocol.stop_reason or None},
    )
