"""A scene for what waits for whom: protocols made and signed on a clock the test moves, and
the items each person finds at a given moment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from afest.models import ProtocolPause, SignerRole, utcnow
from afest.protocols import drafting
from afest.protocols import operations as protocols
from afest.todo.items import Item, waiting
from tests.learner_factories import levels, situation, targeted

START = date(2026, 3, 2)  # a Monday
SIGNED_AT = datetime(2026, 3, 2, 7, tzinfo=UTC)  # 08:00 in Paris: the protocol is signed
SITUATION_AT = datetime(2026, 3, 2, 10, tzinfo=UTC)  # its reflexive window closes 9 March, 10:00


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def travel(when: datetime):
    return time_machine.travel(when, tick=False)


def made(app, session, make_protocol, *, stage="in_progress", structure=None, plan=()):
    """A protocol of START, made (with `plan`) and, unless a draft, put up for signature and
    signed by its three parties when `stage` is "in_progress", at SIGNED_AT."""
    with travel(SIGNED_AT), app.app_context():
        protocol, people = make_protocol(structure=structure, stage="draft", start=START)
        manager = people["manager"].id
        if plan:
            drafting.add_planned_sequences(
                session, actor_id=manager, protocol=protocol, items=list(plan)
            )
        if stage != "draft":
            protocols.submit_for_signature(session, actor_id=manager, protocol=protocol)
        if stage == "in_progress":
            for role, who in (
                (SignerRole.STRUCTURE, "manager"),
                (SignerRole.TUTOR, "tutor"),
                (SignerRole.LEARNER, "learner"),
            ):
                protocols.sign_protocol(
                    session, actor_id=people[who].id, protocol=protocol, role=role, method="pin"
                )
        session.commit()
    return protocol, people


def logged_situation(app, session, protocol, people, when: datetime = SITUATION_AT):
    """A situation logged by the tutor at `when` (on the clock of that moment)."""
    with travel(when), app.app_context():
        comps = [pc.competence_id for pc in targeted(session, protocol)]
        seq = situation(session, protocol, people, at=when, competence_ids=comps[:1])
        session.commit()
    return seq


def first_competence_and_level(session, protocol) -> tuple[int, int]:
    return targeted(session, protocol)[0].competence_id, levels(session, protocol)[1].id


def pause(session, protocol, people, start: datetime, end: datetime | None) -> ProtocolPause:
    """A pause row as the pause operations write it (they are another screen's)."""
    row = ProtocolPause(
        protocol_id=protocol.id,
        paused_from=start,
        reason="Arrêt maladie",
        created_by_id=people["manager"].id,
        resumed_at=end,
        resumed_by_id=people["manager"].id if end else None,
    )
    session.add(row)
    session.commit()
    return row


def items_at(app, session, when: datetime, people=None, **kwargs) -> dict[int, list[Item]]:
    """What waits for `people` (ids; everyone when None) at `when`."""
    with travel(when), app.test_request_context():
        return waiting(session, people=people, now=utcnow(), **kwargs)


def kinds_at(app, session, when: datetime, person) -> list[tuple[str, str]]:
    """(kind, urgency) of each item waiting for `person` at `when`, most urgent first."""
    found = items_at(app, session, when, [person.id]).get(person.id, [])
    return [(str(i.kind), str(i.urgency)) for i in found]


def nothing_for(app, session, when: datetime, *persons) -> bool:
    found = items_at(app, session, when, [p.id for p in persons])
    return not any(found.get(p.id) for p in persons)
