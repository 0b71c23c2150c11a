"""A protocol carried to its end with hourly costs, other costs and an evaluation time whose
statement of expenses is worked out by hand in tests/costs/test_statement.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from afest.assessments import evaluations
from afest.costs import operations as costs
from afest.models import (
    Autonomy,
    CostRole,
    EvaluationKind,
    Level,
    Organisation,
    OtherCostKind,
    Protocol,
    SequenceKind,
    SignerRole,
)
from afest.protocols import operations as protocols
from afest.sequences import operations as sequences
from afest.sequences import signing

TZ = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def checkpoint_dir(app, tmp_path, monkeypatch):
    """Checkpoints of the audit chains go to the test's own folder."""
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


@dataclass
class Built:
    protocol: Protocol
    structure: Organisation
    people: dict
    start: date
    sequences: dict = field(default_factory=dict)  # name → Sequence
    evaluation: object = None


class Builder:
    """Sequences logged and signed through the operations, on a protocol of make_protocol."""

    def __init__(self, session, protocol, people):
        self.session, self.protocol, self.people = session, protocol, people
        self.n = 0

    def _data(self, when, minutes, **extra):
        self.n += 1
        return sequences.SequenceData(
            client_id=f"cost-{self.protocol.public_id}-{self.n}",
            occurred_at=when,
            duration_minutes=minutes,
            **extra,
        )

    def situation(self, when, minutes, autonomy):
        competence = self.protocol.competences[0].competence_id
        data = self._data(when, minutes, autonomy=autonomy, competence_ids=[competence])
        return self._log(SequenceKind.SITUATION, data)

    def reflection(self, when, minutes, situation):
        data = self._data(
            when, minutes, expected="a", achieved="b", learnt="c", situation_ids=[situation.id]
        )
        return self._log(SequenceKind.REFLECTION, data)

    def _log(self, kind, data):
        tutor = self.people["tutor"]
        seq, _ = sequences.log_sequence(
            self.session, actor_id=tutor.id, protocol=self.protocol, kind=kind, tz=TZ, data=data
        )
        return seq

    def amend(self, original, when, minutes):
        competence = self.protocol.competences[0].competence_id
        data = self._data(when, minutes, autonomy=Autonomy.ACCOMPANIED, competence_ids=[competence])
        return sequences.amend_sequence(
            self.session,
            actor_id=self.people["tutor"].id,
            protocol=self.protocol,
            original=original,
            data=data,
            reason="Durée corrigée",
            tz=TZ,
        )

    def sign(self, seq, *, learner: bool = True):
        roles = [("tutor", SignerRole.TUTOR, "pin")]
        if learner:
            roles.append(("learner", SignerRole.LEARNER, "password"))
        for who, role, method in roles:
            signing.sign_sequence(
                self.session,
                actor_id=self.people[who].id,
                protocol=self.protocol,
                sequence=seq,
                role=role,
                method=method,
            )


@pytest.fixture()
def built(session, make_protocol) -> Built:
    """A completed protocol started 20 days ago (D0), with:

    - hourly costs: the structure's learner default 14,80 € from D0-60; the learner's own
      16,20 € from D0 to D0+9; the tutor's own 22,75 € from D0+2 (no tutor default);
    - S1 D0+1 situation accompanied 150 min, R1 D0+2 reflection 45 min, S2 D0+6 situation
      alone 180 min, R2 D0+7 reflection 50 min, all signed by both; S3 D0+11 situation
      accompanied 120 min signed, then amended to 135 min (signed); R3 D0+12 reflection
      60 min signed by the tutor only; a final evaluation D0+13 signed by both, 90 min
      declared;
    - other costs: the tutor's training 350,00 € on D0-10, an outside help 120,50 € on D0+8.
    """
    start = date.today() - timedelta(days=20)
    protocol, people = make_protocol(start=start)
    manager, learner, tutor = people["manager"], people["learner"], people["tutor"]
    structure = session.get(Organisation, protocol.structure_id)
    rates = (
        (None, CostRole.LEARNER, start - timedelta(days=60), None, 1480),
        (learner.id, None, start, start + timedelta(days=9), 1620),
        (tutor.id, None, start + timedelta(days=2), None, 2275),
    )
    for user_id, role, valid_from, valid_to, cents in rates:
        costs.add_hourly_cost(
            session,
            actor_id=manager.id,
            structure=structure,
            user_id=user_id,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            cents_per_hour=cents,
        )
    b = Builder(session, protocol, people)
    d = lambda n: start + timedelta(days=n)  # noqa: E731
    s1 = b.situation(at(d(1), 10), 150, Autonomy.ACCOMPANIED)
    r1 = b.reflection(at(d(2), 14), 45, s1)
    s2 = b.situation(at(d(6), 9), 180, Autonomy.ALONE)
    r2 = b.reflection(at(d(7), 14), 50, s2)
    s3 = b.situation(at(d(11), 9), 120, Autonomy.ACCOMPANIED)
    for seq in (s1, r1, s2, r2, s3):
        b.sign(seq)
    s3b = b.amend(s3, at(d(11), 9), 135)
    b.sign(s3b)
    r3 = b.reflection(at(d(12), 14), 60, s3b)
    b.sign(r3, learner=False)
    levels = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).all()
    evaluation = evaluations.create_evaluation(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        client_id=f"cost-final-{protocol.public_id}",
        kind=EvaluationKind.FINAL,
        evaluated_on=d(13),
        summary="Bilan final",
        levels={pc.competence_id: levels[-1].id for pc in protocol.competences},
    )
    for who, role in (("tutor", SignerRole.TUTOR), ("learner", SignerRole.LEARNER)):
        evaluations.sign_evaluation(
            session,
            actor_id=people[who].id,
            protocol=protocol,
            evaluation=evaluation,
            role=role,
            method="password",
        )
    costs.declare_evaluation_time(
        session, actor_id=manager.id, protocol=protocol, evaluation_id=evaluation.id, minutes=90
    )
    for kind, label, cents, day in (
        (OtherCostKind.TUTOR_TRAINING, "Formation de tutrice", 35000, d(-10)),
        (OtherCostKind.EXTERNAL_SUPPORT, "Appui d'un consultant", 12050, d(8)),
    ):
        costs.add_other_cost(
            session,
            actor_id=manager.id,
            protocol=protocol,
            kind=kind,
            label=label,
            amount_cents=cents,
            spent_on=day,
            today=date.today(),
        )
    protocols.complete_protocol(session, actor_id=manager.id, protocol=protocol)
    session.commit()
    names = {"s1": s1, "r1": r1, "s2": s2, "r2": r2, "s3": s3, "s3b": s3b, "r3": r3}
    return Built(protocol, structure, people, start, names, evaluation)
