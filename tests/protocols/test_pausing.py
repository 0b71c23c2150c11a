"""Pausing and resuming a protocol: who may, on which dates, what is audited, and how the
compliance panel's reflexive windows move by the pause (on a clock the tests move)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    AuditEntry,
    Autonomy,
    ProtocolPause,
    ProtocolStatus,
    Role,
    SequenceKind,
)
from afest.models.rollup import rollup_protocol
from afest.proof.integrity import check_audit_chains
from afest.protocols import compliance, pausing
from afest.protocols import operations as protocols
from afest.protocols.compliance import State
from afest.sequences import operations as sequences

PARIS = ZoneInfo("Europe/Paris")
# Monday 2 March 2026, 09:00 in Paris (UTC+1 in winter)
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def day(n: int) -> date:
    """The n-th day of March 2026."""
    return date(2026, 3, n)


def at(n: int, hour: int = 9) -> datetime:
    """n March 2026 at `hour` o'clock in Paris, as UTC."""
    return datetime(2026, 3, n, hour, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture()
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture()
def started(clock, make_protocol):
    """A protocol planned from 1 March, signed on Monday 2 March."""
    return make_protocol(start=day(1))


def _pause(session, protocol, who, **over):
    arguments = {"paused_from": day(2), "planned_until": None, "reason": "Arrêt maladie"}
    arguments.update(over)
    return pausing.pause(session, actor_id=who.id, protocol=protocol, zone=PARIS, **arguments)


def _resume(session, protocol, who, resumed_on):
    return pausing.resume(
        session, actor_id=who.id, protocol=protocol, resumed_on=resumed_on, zone=PARIS
    )


def _situation(session, protocol, tutor, when: datetime):
    seq, _ = sequences.log_sequence(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=PARIS,
        data=sequences.SequenceData(
            client_id=f"s-{when.isoformat()}",
            occurred_at=when,
            duration_minutes=180,
            autonomy=Autonomy.ACCOMPANIED,
            competence_ids=[protocol.competences[0].competence_id],
        ),
    )
    return seq


def _reflection(session, protocol, tutor, when: datetime, situation):
    seq, _ = sequences.log_sequence(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        kind=SequenceKind.REFLECTION,
        tz=PARIS,
        data=sequences.SequenceData(
            client_id=f"r-{when.isoformat()}",
            occurred_at=when,
            duration_minutes=60,
            expected="a",
            achieved="b",
            learnt="c",
            situation_ids=[situation.id],
        ),
    )
    return seq


def _condition_3(session, protocol):
    return compliance.check(session, protocol).condition(3)


# --- the happy path, dates and audit ---------------------------------------------------------


def test_a_pause_starts_and_ends_at_local_midnight_and_is_audited(session, clock, started):
    protocol, people = started
    manager = people["manager"]
    clock.move_to(at(5))
    row = _pause(session, protocol, manager, paused_from=day(3), planned_until=day(20))
    assert row.paused_from == datetime(2026, 3, 3, tzinfo=PARIS)  # 2 March 23:00 UTC
    assert row.planned_until == day(20) and row.reason == "Arrêt maladie"
    assert row.created_by_id == manager.id and row.resumed_at is None
    assert pausing.open_pause(session, protocol.id) == row

    clock.move_to(at(12, 15))
    _resume(session, protocol, manager, day(12))  # today: the pause ends at 00:00, not 15:00
    assert row.resumed_at == datetime(2026, 3, 12, tzinfo=PARIS)
    assert row.resumed_by_id == manager.id
    assert pausing.open_pause(session, protocol.id) is None
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.protocol_id == protocol.id, AuditEntry.subject_kind == "protocolpause")
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["protocol.pause", "protocol.resume"]
    assert all(e.subject_id == row.id and e.actor_id == manager.id for e in entries)
    assert entries[0].before is None
    assert entries[0].after["reason"] == "Arrêt maladie"
    assert entries[0].after["planned_until"] == "2026-03-20"
    assert entries[1].before["resumed_at"] is None and entries[1].after["resumed_at"]
    # in the protocol's own chain, which still verifies
    assert entries[0].prev_hash != entries[1].prev_hash
    assert list(check_audit_chains(session)) == []


def test_a_second_pause_after_the_first(session, clock, started):
    protocol, people = started
    clock.move_to(at(10))
    _pause(session, protocol, people["manager"], paused_from=day(3))
    _resume(session, protocol, people["manager"], day(5))
    second = _pause(session, protocol, people["manager"], paused_from=day(5), reason="Absence")
    assert second.paused_from == datetime(2026, 3, 5, tzinfo=PARIS)
    assert (
        len(
            session.exec(
                select(ProtocolPause).where(ProtocolPause.protocol_id == protocol.id)
            ).all()
        )
        == 2
    )


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"paused_from": day(6)}, "paused_from"),  # after today (the 5th)
        ({"paused_from": date(2026, 2, 27)}, "paused_from"),  # before the planned start
        ({"paused_from": date(1, 1, 1)}, "paused_from"),
        ({"planned_until": day(3)}, "planned_until"),  # the pause's first day
        ({"planned_until": day(2)}, "planned_until"),  # before it
    ],
)
def test_a_pause_is_refused_beside_its_field(session, clock, started, over, field):
    protocol, people = started
    clock.move_to(at(5))
    with pytest.raises(ServiceError) as refused:
        _pause(session, protocol, people["manager"], **({"paused_from": day(3)} | over))
    assert refused.value.field == field
    assert pausing.open_pause(session, protocol.id) is None


def test_only_one_pause_is_open_at_a_time(session, clock, started):
    protocol, people = started
    _pause(session, protocol, people["manager"])
    with pytest.raises(ServiceError, match="déjà en pause"):
        _pause(session, protocol, people["manager"])


def test_a_pause_cannot_start_before_the_last_resumption(session, clock, started):
    protocol, people = started
    clock.move_to(at(10))
    _pause(session, protocol, people["manager"], paused_from=day(3))
    _resume(session, protocol, people["manager"], day(6))
    with pytest.raises(ServiceError) as refused:
        _pause(session, protocol, people["manager"], paused_from=day(5))
    assert refused.value.field == "paused_from"


@pytest.mark.parametrize("who", ["tutor", "learner"])
def test_only_the_structure_s_manager_pauses(session, clock, started, who):
    protocol, people = started
    with pytest.raises(ServiceError, match="direction"):
        _pause(session, protocol, people[who])


def test_a_manager_of_another_structure_may_not_pause(
    session, clock, started, make_user, make_structure
):
    protocol, _people = started
    stranger = make_user([(Role.MANAGER, make_structure().id)])
    with pytest.raises(ServiceError, match="direction"):
        _pause(session, protocol, stranger)
    with pytest.raises(ServiceError, match="direction"):
        _resume(session, protocol, stranger, day(2))


@pytest.mark.parametrize("stage", ["draft", "awaiting"])
def test_only_a_protocol_in_progress_is_paused(session, clock, make_protocol, stage):
    protocol, people = make_protocol(start=day(1), stage=stage)
    with pytest.raises(ServiceError, match="en cours"):
        _pause(session, protocol, people["manager"])


def test_a_resumption_needs_an_open_pause_and_a_date_in_it(session, clock, started):
    protocol, people = started
    manager = people["manager"]
    with pytest.raises(ServiceError, match="pas en pause"):
        _resume(session, protocol, manager, day(2))
    clock.move_to(at(8))
    _pause(session, protocol, manager, paused_from=day(4))
    for wrong in (day(3), day(9), date(9999, 12, 31)):  # before the pause, after today
        with pytest.raises(ServiceError) as refused:
            _resume(session, protocol, manager, wrong)
        assert refused.value.field == "resumed_on"
    row = _resume(session, protocol, manager, day(4))  # the same day: a pause of no length
    assert row.resumed_at == row.paused_from


def test_a_paused_protocol_is_resumed_before_it_is_closed_and_a_stop_ends_its_pause(
    session, clock, started
):
    protocol, people = started
    manager = people["manager"]
    row = _pause(session, protocol, manager)
    with pytest.raises(ServiceError, match="Reprenez"):
        protocols.complete_protocol(session, actor_id=manager.id, protocol=protocol)
    clock.move_to(at(9))
    protocols.stop_protocol(session, actor_id=manager.id, protocol=protocol, reason="Départ")
    assert protocol.status == ProtocolStatus.STOPPED
    assert row.resumed_at == protocol.ended_at and row.resumed_by_id == manager.id
    actions = session.exec(
        select(AuditEntry.action)
        .where(AuditEntry.protocol_id == protocol.id)
        .order_by(AuditEntry.id.desc())
        .limit(2)
    ).all()
    assert actions == ["protocol.status", "protocol.resume"]


# --- compliance: the windows move by the pause --------------------------------------------


def test_an_open_pause_freezes_a_window_that_would_have_failed(session, clock, started):
    protocol, people = started
    situation_at = at(2, 10)
    clock.move_to(situation_at + timedelta(hours=1))
    _situation(session, protocol, people["tutor"], situation_at)
    clock.move_to(at(5))
    _pause(session, protocol, people["manager"], paused_from=day(5))
    clock.move_to(at(25))  # far beyond the seven days
    item = _condition_3(session, protocol)
    assert item.state == State.PENDING
    assert "suspendu pendant la pause" in str(item.problems[0])
    checklist = compliance.check(session, protocol)
    assert checklist.open_pause is not None and checklist.open_pause.reason == "Arrêt maladie"


def test_a_closed_pause_lengthens_the_window_by_its_length(session, clock, started):
    protocol, people = started
    situation_at = at(2, 10)
    clock.move_to(situation_at + timedelta(hours=1))
    _situation(session, protocol, people["tutor"], situation_at)
    # without the pause the window closes on the 9th at 10:00
    clock.move_to(at(9, 11))
    assert _condition_3(session, protocol).state == State.FAILED
    # a leave declared late, from the 4th to the eve of the 7th: three days more
    _pause(session, protocol, people["manager"], paused_from=day(4))
    _resume(session, protocol, people["manager"], day(7))
    item = _condition_3(session, protocol)
    assert item.state == State.PENDING
    assert "prolongé par la pause jusqu'au 12/03/2026" in str(item.problems[0])
    clock.move_to(
        at(
            12,
            9,
        )
    )
    assert _condition_3(session, protocol).state == State.PENDING
    clock.move_to(at(12, 11))
    assert _condition_3(session, protocol).state == State.FAILED


def test_a_reflection_within_the_lengthened_window_is_not_late(session, clock, started):
    protocol, people = started
    tutor = people["tutor"]
    situation_at = at(2, 10)
    clock.move_to(situation_at + timedelta(hours=1))
    situation = _situation(session, protocol, tutor, situation_at)
    clock.move_to(at(4, 12))
    _pause(session, protocol, people["manager"], paused_from=day(4))
    clock.move_to(at(8, 12))
    _resume(session, protocol, people["manager"], day(8))
    clock.move_to(at(11, 12))  # nine days after: late without the pause, not with it
    _reflection(session, protocol, tutor, at(11, 11), situation)
    checklist = compliance.check(session, protocol)
    assert checklist.condition(3).state == State.MET
    assert not [w for w in checklist.warnings if w.key == "late_reflection"]


def test_the_dashboards_condition_3_agrees_with_the_panel_during_a_pause(session, clock, started):
    """Pending is not met on the panel, and the rollups (no window) count it as not met."""
    protocol, people = started
    tutor = people["tutor"]
    situation_at = at(2, 10)
    clock.move_to(situation_at + timedelta(hours=1))
    situation = _situation(session, protocol, tutor, situation_at)
    _pause(session, protocol, people["manager"], paused_from=day(2))
    clock.move_to(at(20))

    def rollup_row():
        rollups.drain_all(session)
        query = sa.select(rollup_protocol).where(rollup_protocol.c.protocol_id == protocol.id)
        return session.connection().execute(query).one()

    assert _condition_3(session, protocol).state == State.PENDING
    assert (rollup_row().cond_reflection, rollup_row().paused) == (0, 1)
    _reflection(session, protocol, tutor, at(20, 8), situation)
    assert _condition_3(session, protocol).state == State.MET
    assert rollup_row().cond_reflection == 1
