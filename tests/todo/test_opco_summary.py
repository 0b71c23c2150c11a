"""An OPCO adviser is told nothing unless she asks; then, her structures at risk: named from
SMALL_CELL_K learners, the smaller ones counted together, as on her dashboard."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from afest.core.database import database
from afest.models import (
    Organisation,
    OrgKind,
    OutboxMessage,
    Protocol,
    ReminderDigest,
    Role,
    User,
    utcnow,
)
from afest.todo import digests
from afest.todo.items import Kind, Urgency, waiting
from afest.todo.preferences import NEVER, WEEKLY, default_of
from tests.todo.scene import START, at, made, travel

MONDAY = at(9, 6)  # Monday 9 March 2026, 07:00 in Paris
K = 3


def _opco(session):
    opco = Organisation(name="OPCO Soin", kind=OrgKind.OPCO, code="SOIN")
    session.add(opco)
    session.flush()
    return opco


def _structure(session, make_structure, opco, name):
    return make_structure(name=name, opco=opco)


def _without_analysis(session, protocol):
    """Condition 1 fails: the activity analysis is blank (as an old import may have left it)."""
    session.execute(
        sa.update(Protocol).where(Protocol.id == protocol.id).values(activity_analysis=" ")
    )
    session.commit()


def scene(app, session, make_protocol, make_structure, make_user):
    """OPCO Soin funds a structure of three learners (one protocol without its analysis, one
    whose planned end is near with no evaluation, one fine) and one of a single learner whose
    protocol fails; another OPCO funds a failing structure too."""
    opco = _opco(session)
    large = _structure(session, make_structure, opco, "EHPAD Les Tilleuls")
    small = _structure(session, make_structure, opco, "SAAD Petit")
    other = make_structure(name="Ailleurs")
    failing, _ = made(app, session, make_protocol, structure=large)
    ending, _ = made(app, session, make_protocol, structure=large)
    made(app, session, make_protocol, structure=large)
    lone, _ = made(app, session, make_protocol, structure=small)
    elsewhere, _ = made(app, session, make_protocol, structure=other)
    for protocol in (failing, lone, elsewhere):
        _without_analysis(session, protocol)
    session.execute(
        sa.update(Protocol)
        .where(Protocol.id == ending.id)
        .values(planned_end=MONDAY.date() + timedelta(days=3))
    )
    adviser = make_user([(Role.OPCO, opco.id)], name="Conseil Soin")
    session.commit()
    return adviser, large, small


def items_at(app, session, adviser, when=MONDAY):
    with travel(when), app.app_context():
        return waiting(session, people=[adviser.id], now=utcnow()).get(adviser.id, [])


def test_an_adviser_who_did_not_ask_is_told_nothing(
    app, session, make_protocol, make_structure, make_user
):
    adviser, _, _ = scene(app, session, make_protocol, make_structure, make_user)
    assert default_of([Role.OPCO]) == NEVER
    assert default_of([Role.OPCO, Role.MANAGER]) != NEVER
    assert items_at(app, session, adviser) == []


def test_once_she_asks_her_structures_at_risk_wait_for_her(
    app, session, make_protocol, make_structure, make_user
):
    adviser, large, small = scene(app, session, make_protocol, make_structure, make_user)
    adviser.reminder_frequency = WEEKLY
    session.commit()
    found = {i.key: i for i in items_at(app, session, adviser)}
    assert set(found) == {
        f"{Kind.STRUCTURE_AT_RISK}:{large.public_id}",
        f"{Kind.STRUCTURE_AT_RISK}:small",
    }
    named = found[f"{Kind.STRUCTURE_AT_RISK}:{large.public_id}"]
    assert named.facts == {"structure": "EHPAD Les Tilleuls", "failing": 1, "near": 1}
    assert named.endpoint == "dashboards.structure"
    assert found[f"{Kind.STRUCTURE_AT_RISK}:small"].facts == {"small": 1, "k": K}
    assert small.public_id not in str(found[f"{Kind.STRUCTURE_AT_RISK}:small"])


def test_a_structure_put_right_leaves_the_summary(
    app, session, make_protocol, make_structure, make_user
):
    adviser, large, _ = scene(app, session, make_protocol, make_structure, make_user)
    adviser.reminder_frequency = WEEKLY
    session.execute(
        sa.update(Protocol)
        .where(Protocol.structure_id == large.id)
        .values(activity_analysis="Analyse du poste", planned_end=START + timedelta(days=90))
    )
    session.commit()
    keys = {i.key for i in items_at(app, session, adviser)}
    assert keys == {f"{Kind.STRUCTURE_AT_RISK}:small"}


def test_a_condition_without_a_date_is_late_with_no_deadline(
    app, session, make_protocol, make_structure, make_user
):
    adviser, large, _ = scene(app, session, make_protocol, make_structure, make_user)
    adviser.reminder_frequency = WEEKLY
    session.execute(
        sa.update(Protocol)
        .where(Protocol.structure_id == large.id, Protocol.activity_analysis != " ")
        .values(planned_end=START + timedelta(days=90))
    )
    session.commit()
    item = next(i for i in items_at(app, session, adviser) if large.public_id in i.key)
    assert (item.due, item.urgency, item.facts["failing"], item.facts["near"]) == (
        None,
        Urgency.LATE,
        1,
        0,
    )


def test_her_weekly_digest_lists_them_and_opens_her_dashboard(
    app, session, make_protocol, make_structure, make_user
):
    adviser, large, _ = scene(app, session, make_protocol, make_structure, make_user)
    session.execute(sa.update(User).where(User.id != adviser.id).values(reminder_frequency=NEVER))
    adviser.reminder_frequency = WEEKLY
    adviser.locale = "en"
    session.commit()
    with travel(MONDAY), app.app_context():
        sent = digests.run(database(app), now=utcnow())
    assert (sent.digests, sent.items) == (1, 2)
    digest = session.exec(select(ReminderDigest).where(ReminderDigest.user_id == adviser.id)).one()
    assert digest.period == "2026-W11"
    message = session.get(OutboxMessage, digest.message_id)
    assert message.subject.startswith("afest: 2 things to do")
    assert "EHPAD Les Tilleuls: 1 protocol does not meet a legal condition" in message.body_text
    assert f"/tableaux/structures/{large.public_id}" in message.body_text


def test_her_home_never_lists_them_her_digest_does(
    app, session, make_protocol, make_structure, make_user, login_as
):
    adviser, _, _ = scene(app, session, make_protocol, make_structure, make_user)
    adviser.reminder_frequency = WEEKLY
    session.commit()
    assert items_at(app, session, adviser)  # what the digest reads
    with travel(MONDAY):
        client = login_as(adviser.email)
        page = client.get("/").get_data(as_text=True)
        assert "Conseil OPCO" in client.get("/compte/rappels").get_data(as_text=True)
    assert "EHPAD Les Tilleuls" in page  # her structures' table
    assert "ne remplit pas une condition légale" not in page
    assert 'class="count"' not in page
