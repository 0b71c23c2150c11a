"""The certificat de réalisation of a protocol (the ministry's model), and its signature by the
dispensateur's signatory.

What it states is computed from the protocol as it stands (`current`): the hours of the
current sequences signed by the tutor and countersigned by the learner, the first and last
day of those sequences, the learner, the employer, who in an in-house AFEST is also the
dispensateur. None of it is issued at 0 hours. The structure's manager signs it with her
password: the row (afest.models.Certificate) keeps what it stated, and its signature
(SignedKind.CERTIFICATE) the hash of that content, announced in the audit log like every
signature. When signed sequences later change what it would state, the signed certificate
is out of date: it still prints as signed, and a new one may be signed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit, clock
from afest.core.errors import ServiceError
from afest.models import (
    Certificate,
    Organisation,
    Protocol,
    Role,
    RoleAssignment,
    Sequence,
    Signature,
    SignedKind,
    SignerRole,
    User,
    utcnow,
)
from afest.proof import signatures
from afest.protocols import compliance
from afest.protocols.queries import ProtocolView, protocol_view

# The nature ticked on the model: "action de formation", here en situation de travail.
NATURE = "action_de_formation_afest"


@dataclass(frozen=True)
class Facts:
    """What a certificate states about the action (not who signs it, where nor when)."""

    learner_name: str
    employer_name: str
    employer_siret: str | None
    title: str
    nature: str
    first_day: date
    last_day: date
    minutes: int
    dispensateur_name: str
    dispensateur_siret: str | None

    @classmethod
    def of(cls, certificate: Certificate) -> Facts:
        return cls(**{f.name: getattr(certificate, f.name) for f in fields(cls)})


def certified(view: ProtocolView) -> list[Sequence]:
    """The current sequences signed by the tutor and countersigned by the learner."""
    return [
        s
        for s in view.sequences
        if view.signed_roles(SignedKind.SEQUENCE, s.id) >= compliance.HOURS_SIGNERS
    ]


def minutes_certified(view: ProtocolView) -> int:
    return sum(s.duration_minutes for s in certified(view))


def _day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def current(
    view: ProtocolView, *, zone: ZoneInfo, structure: Organisation, learner: User
) -> Facts | None:
    """What the certificate would state now; None at 0 hours (no certificate then).

    The employer is the dispensateur of an in-house AFEST: its name and SIRET are both."""
    done = certified(view)
    minutes = sum(s.duration_minutes for s in done)
    if not minutes:
        return None
    return Facts(
        learner_name=learner.full_name,
        employer_name=structure.name,
        employer_siret=structure.siret,
        title=view.protocol.title,
        nature=NATURE,
        first_day=min(_day(s.occurred_at, zone) for s in done),
        last_day=max(_day(s.occurred_at, zone) for s in done),
        minutes=minutes,
        dispensateur_name=structure.name,
        dispensateur_siret=structure.siret,
    )


@dataclass
class State:
    """A protocol's certificates: the latest signed one with its signature, the former ones,
    and what a certificate would state now."""

    now: Facts | None
    signed: list[tuple[Certificate, Signature | None]]  # newest first

    @property
    def latest(self) -> Certificate | None:
        return self.signed[0][0] if self.signed else None

    @property
    def signature(self) -> Signature | None:
        return self.signed[0][1] if self.signed else None

    @property
    def former(self) -> list[tuple[Certificate, Signature | None]]:
        return self.signed[1:]

    @property
    def out_of_date(self) -> bool:
        """The latest signed certificate no longer states what the signed sequences show."""
        return self.latest is not None and Facts.of(self.latest) != self.now

    @property
    def signable(self) -> bool:
        """A certificate may be signed: hours to certify, and none signed that states them."""
        return self.now is not None and (self.latest is None or self.out_of_date)


def state(
    session: Session, protocol: Protocol, view: ProtocolView | None = None, *, zone: ZoneInfo
) -> State:
    """The protocol's certificates and what one would state now, in two queries more than
    its view."""
    view = view or protocol_view(session, protocol)
    rows = session.exec(
        select(Certificate, Signature)
        .outerjoin(
            Signature,
            (Signature.subject_kind == SignedKind.CERTIFICATE)
            & (Signature.subject_id == Certificate.id),
        )
        .where(Certificate.protocol_id == protocol.id)
        .order_by(Certificate.id.desc())
    ).all()
    # from the identity map when the protocol was loaded with them (the views' loaders)
    structure = session.get(Organisation, protocol.structure_id)
    learner = session.get(User, protocol.learner_id)
    now = current(view, zone=zone, structure=structure, learner=learner)
    return State(now=now, signed=[(c, s) for c, s in rows])


def prefill(session: Session, *, actor_id: int, protocol: Protocol) -> dict[str, str]:
    """The signatory's role as she gave it on her latest certificate, and the place of the
    structure's latest certificate: what the form offers to start with."""
    role = session.exec(
        select(Certificate.signatory_role)
        .where(Certificate.signatory_id == actor_id)
        .order_by(Certificate.id.desc())
        .limit(1)
    ).first()
    place = session.exec(
        select(Certificate.place)
        .join(Protocol, Protocol.id == Certificate.protocol_id)
        .where(Protocol.structure_id == protocol.structure_id)
        .order_by(Certificate.id.desc())
        .limit(1)
    ).first()
    return {"role": role or "", "place": place or ""}


def _is_manager(session: Session, user_id: int, structure_id: int) -> bool:
    return (
        session.exec(
            select(RoleAssignment.id).where(
                RoleAssignment.user_id == user_id,
                RoleAssignment.role == Role.MANAGER,
                RoleAssignment.organisation_id == structure_id,
            )
        ).first()
        is not None
    )


def sign_certificate(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    role: str,
    place: str,
    method: str = "password",
    zone: ZoneInfo | None = None,
) -> Certificate:
    """The structure's manager (the actor, whose password the view has checked) signs the
    certificate as it stands now, in her role ("qualité") at `place`, dated today.

    Refused at 0 hours, and when the latest signed certificate states the same facts (it is
    up to date: nothing new to sign)."""
    if not _is_manager(session, actor_id, protocol.structure_id):
        raise ServiceError(_l("Seul·e un·e responsable de la structure signe son certificat."))
    # the protocol's row first: two signatures posted at once are taken in turn, and the
    # second finds the first's certificate up to date
    protocol = audit.lock_protocol(session, protocol.id)
    zone = zone or clock.zone()
    now = state(session, protocol, zone=zone)
    if now.now is None:
        raise ServiceError(
            _l(
                "Pas de certificat de réalisation : aucune séquence n'est encore signée par "
                "le·la tuteur·rice et l'apprenant·e."
            )
        )
    if not now.signable:
        raise ServiceError(
            _l("Le certificat signé est à jour : il n'y a rien de nouveau à signer.")
        )
    signatory = session.get(User, actor_id)
    certificate = Certificate(
        protocol_id=protocol.id,
        **{f.name: getattr(now.now, f.name) for f in fields(Facts)},
        signatory_id=actor_id,
        signatory_name=signatory.full_name,
        signatory_role=role,
        place=place,
        signed_on=_day(utcnow(), zone),
    )
    session.add(certificate)
    session.flush()
    signatures.sign(
        session,
        actor_id=actor_id,
        kind=SignedKind.CERTIFICATE,
        subject=certificate,
        role=SignerRole.STRUCTURE,
        method=method,
        protocol=protocol,
    )
    return certificate
