"""Builders of a learner's history for the progress, dossier and VAE tests (real services)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from afest.models import (
    Autonomy,
    Level,
    Protocol,
    ProtocolCompetence,
    Sequence,
    SequenceKind,
    SignerRole,
)
from afest.sequences import operations as sequences
from afest.sequences import signing

TZ = ZoneInfo("Europe/Paris")


def targeted(session, protocol: Protocol) -> list[ProtocolCompetence]:
    return list(
        session.exec(
            select(ProtocolCompetence)
            .where(ProtocolCompetence.protocol_id == protocol.id)
            .order_by(ProtocolCompetence.position)
        )
    )


def levels(session, protocol: Protocol) -> list[Level]:
    return list(
        session.exec(
            select(Level)
            .where(Level.referential_id == protocol.referential_id)
            .order_by(Level.rank)
        )
    )


def sign(session, protocol, people, sequence, *, tutor=True, learner=True) -> None:
    if tutor:
        signing.sign_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            sequence=sequence,
            role=SignerRole.TUTOR,
            method="pin",
        )
    if learner:
        signing.sign_sequence(
            session,
            actor_id=people["learner"].id,
            protocol=protocol,
            sequence=sequence,
            role=SignerRole.LEARNER,
            method="password",
        )


def situation(session, protocol, people, *, at: datetime, competence_ids, words="", **text):
    seq, _ = sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=TZ,
        data=sequences.SequenceData(
            client_id=f"t-{protocol.id}-{at.timestamp()}-s",
            occurred_at=at,
            duration_minutes=120,
            place="Unité A",
            autonomy=Autonomy.ACCOMPANIED,
            intent=text.get("intent", "Réaliser une toilette au lit"),
            observations=text.get("observations", "Geste sûr, communication à travailler"),
            learner_words=words,
            competence_ids=list(competence_ids),
        ),
    )
    return seq


def reflection(session, protocol, people, *, at: datetime, situation_ids, levels_by_comp):
    seq, _ = sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.REFLECTION,
        tz=TZ,
        data=sequences.SequenceData(
            client_id=f"t-{protocol.id}-{at.timestamp()}-r",
            occurred_at=at,
            duration_minutes=45,
            expected="Respect de la pudeur",
            achieved="Toilette complète réalisée",
            learnt="Annoncer chaque geste",
            gaps="Oubli de la température de l'eau",
            learner_words="J'ai pris confiance.",
            next_step="Refaire seule la semaine prochaine",
            situation_ids=list(situation_ids),
            levels=dict(levels_by_comp),
        ),
    )
    return seq


def start_of(protocol: Protocol) -> datetime:
    return datetime.combine(protocol.planned_start, time(8), tzinfo=TZ).astimezone(UTC)


def history(session, protocol, people, n: int, *, countersign_last: bool = True) -> list[Sequence]:
    """`n` sequences alternating situation and reflection, each signed by both parties (the
    last one awaits the learner when `countersign_last` is false)."""
    comps = [pc.competence_id for pc in targeted(session, protocol)]
    scale = levels(session, protocol)
    made: list[Sequence] = []
    at = start_of(protocol)
    last_situation = None
    for i in range(n):
        at += timedelta(minutes=30)
        comp = comps[(i // 2) % len(comps)]
        if i % 2 == 0:
            seq = situation(session, protocol, people, at=at, competence_ids=[comp])
            last_situation = seq
        else:
            level = scale[min(1 + i // (2 * len(comps)), len(scale) - 1)]
            seq = reflection(
                session,
                protocol,
                people,
                at=at,
                situation_ids=[last_situation.id],
                levels_by_comp={comp: level.id},
            )
        is_last = i == n - 1
        sign(session, protocol, people, seq, learner=countersign_last or not is_last)
        made.append(seq)
    session.commit()
    return made
