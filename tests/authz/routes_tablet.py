"""Authorization table of the tutor's tablet and of sequence pages (issue 3)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from afest import policy
from afest.models import (
    Protocol,
    ProtocolStatus,
    Sequence,
    SequenceAttachment,
    SequenceKind,
    utcnow,
)
from afest.sequences import operations as sequences
from tests.authz import ANON, ObjectKind, Route, each
from tests.authz.routes_core import actor_for

TZ = ZoneInfo("Europe/Paris")


def _visible(session, who: str, query):
    if who not in (ANON, "admin"):
        query = query.where(policy.protocol_visible(actor_for(session, who)))
    return query


def _protocol_in_progress(session, who: str) -> str:
    """A protocol in progress the actor can see (else any they can see, else any at all)."""
    base = select(Protocol).order_by(Protocol.id)
    for query in (
        _visible(session, who, base.where(Protocol.status == ProtocolStatus.IN_PROGRESS)),
        _visible(session, who, base),
        base,
    ):
        found = session.exec(query).first()
        if found is not None:
            return found.public_id
    raise AssertionError("no protocol")


def _sequence_in_scope(session, who: str) -> str:
    base = (
        select(Sequence)
        .join(Protocol, Protocol.id == Sequence.protocol_id)
        .where(sequences.not_amended())
        .order_by(Sequence.id)
    )
    for query in (
        _visible(session, who, base.where(Protocol.status == ProtocolStatus.IN_PROGRESS)),
        _visible(session, who, base),
        base,
    ):
        found = session.exec(query).first()
        if found is not None:
            return found.public_id
    raise AssertionError("no sequence")


def _foreign_protocol(session, factories) -> str:
    protocol, _people = factories.make_protocol()
    return protocol.public_id


def _foreign_sequence(session, factories) -> str:
    protocol, people = factories.make_protocol()
    from afest.assessments.levels import targeted_competence_ids

    sequence, _ = sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=TZ,
        data=sequences.SequenceData(
            client_id=f"authz-{protocol.public_id}",
            occurred_at=utcnow() - timedelta(days=1),
            duration_minutes=60,
            autonomy="accompanied",
            competence_ids=sorted(targeted_competence_ids(session, protocol.id))[:1],
        ),
    )
    session.commit()
    return sequence.public_id


def _with_file(session, sequence_public_id: str) -> dict[str, str]:
    """A photo attached to the sequence (its bytes where the test app keeps attachments)."""
    import hashlib
    from pathlib import Path

    from tests.conftest import KEPT_FILES

    body = b"\xff\xd8\xff\xe0 a photo " + sequence_public_id.encode()
    digest = hashlib.sha256(body).hexdigest()
    path = Path(KEPT_FILES["attachments"]) / digest[:2] / digest  # afest.core.storage
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    sequence = session.exec(select(Sequence).where(Sequence.public_id == sequence_public_id)).one()
    attachment = SequenceAttachment(
        sequence_id=sequence.id,
        position=90,
        filename="photo.jpg",
        media_type="image/jpeg",
        size=len(body),
        sha256=digest,
    )
    session.add(attachment)
    session.commit()
    return {"public_id": sequence_public_id, "file_id": attachment.public_id}


OBJECTS = {
    "tutored_protocol": ObjectKind(in_scope=_protocol_in_progress, foreign=_foreign_protocol),
    "sequence": ObjectKind(in_scope=_sequence_in_scope, foreign=_foreign_sequence),
    "sequence_file": ObjectKind(
        in_scope=lambda session, who: _with_file(session, _sequence_in_scope(session, who)),
        foreign=lambda session, factories: _with_file(
            session, _foreign_sequence(session, factories)
        ),
    ),
}

TUTOR_ONLY = each(403, tutor=200, admin=404)

ROUTES = {
    "tablet.service_worker": Route("GET", each(200, anon=200), foreign=None),
    "tablet.index": Route("GET", each(403, tutor=200), foreign=None),
    "tablet.learner": Route("GET", TUTOR_ONLY, obj="tutored_protocol"),
    "tablet.situation": Route("GET", TUTOR_ONLY, obj="tutored_protocol"),
    "tablet.reflection": Route("GET", TUTOR_ONLY, obj="tutored_protocol"),
    "tablet.reflection_levels": Route("GET", TUTOR_ONLY, obj="tutored_protocol"),
    "sequences.show": Route("GET", each(200, admin=404), obj="sequence"),
    "sequences.verify": Route("GET", each(200, admin=404), obj="sequence"),
    "sequences.sign": Route("POST", each(403, tutor=422, admin=404), obj="sequence"),
    "sequences.countersign": Route(
        "GET", each(403, tutor=200, learner=200, admin=404), obj="sequence"
    ),
    "sequences.amend": Route("GET", TUTOR_ONLY, obj="sequence"),
    "sequences.attachment": Route("GET", each(200, admin=404), obj="sequence_file"),
}
