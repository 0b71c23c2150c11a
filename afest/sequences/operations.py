"""Logging, signing and amending sequences (work situations and reflexive sequences)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.assessments.levels import add_levels, check_levels, targeted_competence_ids
from afest.core import audit
from afest.core.database import insert_on_conflict
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    AssessmentSource,
    Autonomy,
    Protocol,
    ProtocolStatus,
    ReflectionSituation,
    Sequence,
    SequenceCompetence,
    SequenceKind,
    new_public_id,
    utcnow,
)
from afest.proof import signatures
from afest.sequences import attachments
from afest.sequences.attachments import NewAttachment

MAX_DURATION_MINUTES = 12 * 60
FUTURE_TOLERANCE = timedelta(hours=1)
TEXT_LIMIT = 10_000


@dataclass
class SequenceData:
    """What a tutor enters for one sequence; shared by situations and reflections."""

    client_id: str
    occurred_at: datetime  # aware
    duration_minutes: int
    place: str = ""
    autonomy: Autonomy | None = None
    intent: str = ""
    observations: str = ""
    expected: str = ""
    achieved: str = ""
    learnt: str = ""
    gaps: str = ""
    learner_words: str = ""
    next_step: str = ""
    competence_ids: list[int] = field(default_factory=list)
    situation_ids: list[int] = field(default_factory=list)  # reflections only
    levels: dict[int, int] = field(default_factory=dict)  # reflections: competence → level
    attachments: list[NewAttachment] = field(default_factory=list)  # checked and cleaned
    kept_attachment_ids: list[int] = field(default_factory=list)  # a correction's carried over


TEXT_FIELDS = (
    "place",
    "intent",
    "observations",
    "expected",
    "achieved",
    "learnt",
    "gaps",
    "learner_words",
    "next_step",
)


def not_amended():
    """SQL condition: the sequence is the current version (no amendment points to it)."""
    newer = aliased(Sequence)
    return ~exists().where(newer.amends_id == Sequence.id)


def protocol_start(protocol: Protocol, tz: ZoneInfo) -> datetime:
    return datetime.combine(protocol.planned_start, time.min, tzinfo=tz).astimezone(UTC)


def _validate(
    session: Session,
    protocol: Protocol,
    kind: SequenceKind,
    data: SequenceData,
    tz: ZoneInfo,
) -> None:
    if protocol.status != ProtocolStatus.IN_PROGRESS:
        raise ServiceError(
            _l("Le protocole n'est pas en cours : aucune séquence ne peut y être ajoutée.")
        )
    if data.occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    if not 1 <= data.duration_minutes <= MAX_DURATION_MINUTES:
        raise ServiceError(
            _l("La durée doit être comprise entre 1 minute et 12 heures."), field="duration_minutes"
        )
    if data.occurred_at < protocol_start(protocol, tz):
        raise ServiceError(
            _l(
                "La date précède le début du protocole (%(date)s).",
                date=protocol.planned_start.strftime("%d/%m/%Y"),
            ),
            field="occurred_at",
        )
    if data.occurred_at > utcnow() + FUTURE_TOLERANCE:
        raise ServiceError(_l("La date est dans le futur."), field="occurred_at")
    for name in TEXT_FIELDS:
        if len(getattr(data, name) or "") > TEXT_LIMIT:
            raise ServiceError(
                _l("Texte trop long (%(n)s caractères au plus).", n=TEXT_LIMIT), field=name
            )
    if not set(data.competence_ids) <= targeted_competence_ids(session, protocol.id):
        raise ServiceError(
            _l("Une compétence choisie n'est pas visée par le protocole."), field="competence_ids"
        )
    if kind == SequenceKind.SITUATION:
        if not data.competence_ids:
            raise ServiceError(
                _l("Choisissez au moins une compétence visée."), field="competence_ids"
            )
        if data.autonomy is None:
            raise ServiceError(
                _l("Indiquez si la situation est accompagnée ou en autonomie."), field="autonomy"
            )
        return
    if not data.situation_ids:
        raise ServiceError(
            _l("Une séquence réflexive analyse au moins une mise en situation."),
            field="situation_ids",
        )
    situations = session.exec(
        select(Sequence).where(
            Sequence.id.in_(data.situation_ids),
            Sequence.protocol_id == protocol.id,
            Sequence.kind == SequenceKind.SITUATION,
            not_amended(),
        )
    ).all()
    if len(situations) != len(set(data.situation_ids)):
        raise ServiceError(
            _l("Une mise en situation choisie n'existe pas dans ce protocole."),
            field="situation_ids",
        )
    if any(s.occurred_at > data.occurred_at for s in situations):
        raise ServiceError(
            _l("La séquence réflexive ne peut pas précéder la situation analysée."),
            field="occurred_at",
        )
    check_levels(session, protocol, data.levels, field="levels")


def find_by_client_id(session: Session, client_id: str) -> Sequence | None:
    return session.exec(select(Sequence).where(Sequence.client_id == client_id)).first()


def _saved_before(session: Session, protocol: Protocol, actor_id: int, client_id: str):
    """The sequence a client id already saved, if any: the same entry sent again (a double
    tap, a resend after a dropped connection) gets it back; anyone else's is refused."""
    already = find_by_client_id(session, client_id)
    if already is not None and (
        already.protocol_id != protocol.id or already.created_by_id != actor_id
    ):
        raise ServiceError(_l("Identifiant de saisie déjà utilisé : rechargez la page."))
    return already


def _insert_all(session: Session, model, rows: list[dict]) -> None:
    """Rows of one table in one INSERT, none when there are none."""
    if rows:
        session.connection().execute(model.__table__.insert(), rows)


def log_sequence(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    kind: SequenceKind,
    data: SequenceData,
    tz: ZoneInfo,
    amends: Sequence | None = None,
    amendment_reason: str = "",
) -> tuple[Sequence, bool]:
    """Save a sequence once: a repeated submission of the same client id returns the first.

    Returns the sequence and whether it was created now. The protocol's row is locked first
    (its audit chain's turn) and read again, so a save that waited for a concurrent "stop"
    sees it. The INSERT itself tells whether the client id was saved before (ON CONFLICT DO
    NOTHING): two copies of one entry sent at once make one row, not an error.
    """
    if not data.client_id or len(data.client_id) > 64:
        raise ServiceError(_l("Identifiant de saisie manquant : rechargez la page."))
    protocol = audit.lock_protocol(session, protocol.id)
    try:
        _validate(session, protocol, kind, data, tz)
    except ServiceError:
        # an entry saved before comes back as it was, whatever changed since
        already = _saved_before(session, protocol, actor_id, data.client_id)
        if already is None:
            raise
        return already, False

    values = {
        "public_id": new_public_id(),
        "client_id": data.client_id,
        "protocol_id": protocol.id,
        "kind": kind,
        "occurred_at": data.occurred_at.astimezone(UTC),
        "duration_minutes": data.duration_minutes,
        "autonomy": data.autonomy if kind == SequenceKind.SITUATION else None,
        "created_by_id": actor_id,
        "created_at": utcnow(),
        "amends_id": amends.id if amends else None,
        "amendment_reason": amendment_reason,
        **{name: (getattr(data, name) or "").strip() for name in TEXT_FIELDS},
    }
    # the values go as parameters, not into the statement: the statement is the same at every
    # save, and finding its compiled form no longer walks twenty bound values
    once = (
        insert_on_conflict(session, Sequence)
        .on_conflict_do_nothing(index_elements=["client_id"])
        .returning(Sequence)
    )
    sequence = session.scalars(once, [values]).first()
    if sequence is None:  # this client id was saved before
        already = _saved_before(session, protocol, actor_id, data.client_id)
        if already is None:
            raise ServiceError(_l("Identifiant de saisie déjà utilisé : rechargez la page."))
        return already, False

    _insert_all(
        session,
        SequenceCompetence,
        [
            {"sequence_id": sequence.id, "competence_id": c}
            for c in sorted(set(data.competence_ids) | set(data.levels))
        ],
    )
    _insert_all(
        session,
        ReflectionSituation,
        [
            {"reflection_id": sequence.id, "situation_id": s}
            for s in sorted(set(data.situation_ids))
        ],
    )
    kept, left_out = (
        attachments.carried_over(session, amends, data.kept_attachment_ids) if amends else ([], [])
    )
    attachments.attach(session, sequence, new=data.attachments, kept=kept)
    add_levels(
        session,
        protocol=protocol,
        levels=data.levels,
        source=AssessmentSource.SEQUENCE,
        actor_id=actor_id,
        at=sequence.occurred_at,
        sequence_id=sequence.id,
    )
    rollups.on_sequence_logged(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="sequence.amend" if amends else "sequence.create",
        subject_kind="sequence",
        subject_id=sequence.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before=_amended(amends, left_out) if amends else None,
        after=signatures.sequence_content(session, sequence),
    )
    return sequence, True


def _amended(original: Sequence, left_out: list) -> dict:
    """What an amendment's audit entry says of the version it corrects: which one, and the
    files it leaves out (those it adds are in its content)."""
    dropped = [[a.filename, a.sha256] for a in left_out]
    return {"amends": original.public_id, **({"attachments_removed": dropped} if dropped else {})}


def amend_sequence(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    original: Sequence,
    data: SequenceData,
    reason: str,
    tz: ZoneInfo,
) -> Sequence:
    """Correct a signed sequence: a new row referencing it, the original kept untouched."""
    if not reason.strip():
        raise ServiceError(_l("Indiquez le motif de la correction."), field="reason")
    if session.exec(select(Sequence.id).where(Sequence.amends_id == original.id)).first():
        raise ServiceError(_l("Cette séquence a déjà été corrigée : corrigez la dernière version."))
    amendment, _ = log_sequence(
        session,
        actor_id=actor_id,
        protocol=protocol,
        kind=original.kind,
        data=data,
        tz=tz,
        amends=original,
        amendment_reason=reason.strip(),
    )
    return amendment


def competences_of(session: Session, sequence_ids: Iterable[int]) -> Mapping[int, list[int]]:
    result: dict[int, list[int]] = {}
    for seq_id, comp_id in session.exec(
        select(SequenceCompetence.sequence_id, SequenceCompetence.competence_id).where(
            SequenceCompetence.sequence_id.in_(list(sequence_ids))
        )
    ):
        result.setdefault(seq_id, []).append(comp_id)
    return result


def current_versions(session: Session, sequence_ids: Iterable[int]) -> list[int]:
    """The current version of each sequence, following its corrections: a reflection corrected
    after the situation it analyses was corrected then points to the situation as it stands."""
    newest = {i: i for i in sequence_ids}
    while True:
        newer = dict(
            session.exec(
                select(Sequence.amends_id, Sequence.id).where(
                    Sequence.amends_id.in_(list(newest.values()))
                )
            ).all()
        )
        if not newer:
            return list(dict.fromkeys(newest.values()))
        newest = {first: newer.get(last, last) for first, last in newest.items()}


def data_of(session: Session, sequence: Sequence, *, client_id: str) -> SequenceData:
    """The entry of an existing sequence, to prefill its correction (with a new client id)."""
    content = signatures.sequence_content(session, sequence)
    return SequenceData(
        client_id=client_id,
        occurred_at=sequence.occurred_at,
        duration_minutes=sequence.duration_minutes,
        autonomy=sequence.autonomy,
        competence_ids=list(content["competences"]),
        situation_ids=current_versions(session, content["situations"]),
        levels=dict(content["levels"]),
        kept_attachment_ids=[
            a.id for a in attachments.of_sequences(session, [sequence.id])[sequence.id]
        ],
        **{name: getattr(sequence, name) for name in TEXT_FIELDS},
    )
