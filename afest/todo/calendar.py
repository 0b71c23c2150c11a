"""A person's private calendar (iCalendar, RFC 5545), read by her tablet's or phone's own
calendar app from a secret address (afest.todo.feeds).

What a tutor and a learner find in it, for the protocols they see on their screens (in
progress or awaiting signatures; a draft's plan is not agreed yet, an ended protocol has
nothing ahead):
- each planned sequence, an all-day event on its date (its title and kind);
- each situation not analysed yet, at the moment its reflexive window closes (none while a
  pause freezes it: afest.protocols.pauses);
- each evaluation on its date, and, while a protocol has no final evaluation, its planned end
  as "Évaluation finale prévue".
A tutor's events carry the learner's name, as her screens do; nothing else of a person is in
the feed. Every event's UID is built from public identifiers, so a calendar app that reads the
feed again updates its events instead of adding copies. Texts are in the person's language.
A fixed number of queries, whatever the number of protocols.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Event, vDuration
from sqlmodel import Session, select

from afest import policy
from afest.accounts.identity import Actor, Assignment, UserView
from afest.core.http import format_minutes
from afest.mail import outbox
from afest.models import (
    Evaluation,
    EvaluationKind,
    PlannedSequence,
    Protocol,
    ProtocolStatus,
    RoleAssignment,
    SequenceKind,
    User,
)
from afest.todo import queries

# A calendar app reads the feed again about once an hour; a browser or app may keep one answer
# a quarter of an hour (a renewed address still stops answering at once: it is the server's
# answer that changes).
REFRESH = timedelta(hours=1)
MAX_AGE = 15 * 60
SHOWN = (ProtocolStatus.IN_PROGRESS, ProtocolStatus.AWAITING_SIGNATURES)

SEQUENCE_KINDS = {
    SequenceKind.SITUATION: _l("Mise en situation"),
    SequenceKind.REFLECTION: _l("Séquence réflexive"),
}
EVALUATION_KINDS = {
    EvaluationKind.INTERMEDIATE: _l("Évaluation intermédiaire"),
    EvaluationKind.FINAL: _l("Évaluation finale"),
}


@dataclass(frozen=True)
class CalendarEvent:
    """One event of the feed: a day (a `date`) or a moment (an aware `datetime`)."""

    uid: str
    summary: str
    start: date | datetime
    description: str
    url: str


@dataclass(frozen=True)
class _Followed:
    """A protocol of the feed, with what its events say about it."""

    id: int
    public_id: str
    title: str
    planned_end: date
    learner_name: str | None  # None in the learner's own feed


def _actor(session: Session, user: User) -> Actor:
    """The person as the visibility rules see her, with only her learner and tutor roles: a
    tutor who also manages a structure finds her own learners in her feed, not the
    structure's."""
    rows = session.exec(
        select(RoleAssignment.role, RoleAssignment.organisation_id).where(
            RoleAssignment.user_id == user.id, RoleAssignment.role.in_(policy.CALENDAR_ROLES)
        )
    )
    assignments = [Assignment(role=role, organisation_id=org) for role, org in rows]
    return Actor(user=UserView.of(user), token="", assignments=assignments)


def _followed(session: Session, user: User) -> list[_Followed]:
    rows = session.exec(
        select(
            Protocol.id,
            Protocol.public_id,
            Protocol.title,
            Protocol.planned_end,
            Protocol.learner_id,
            User.full_name,
        )
        .join(User, User.id == Protocol.learner_id)
        .where(policy.protocol_visible(_actor(session, user)), Protocol.status.in_(SHOWN))
        .order_by(Protocol.planned_start, Protocol.id)
    )
    return [
        _Followed(pid, public_id, title, end, None if learner_id == user.id else name)
        for pid, public_id, title, end, learner_id, name in rows
    ]


def _current_evaluations(session: Session, protocol_ids: list[int]) -> list[Evaluation]:
    """The protocols' evaluations that no amendment replaced (queries.current)."""
    return list(
        session.exec(
            select(Evaluation)
            .where(Evaluation.protocol_id.in_(protocol_ids), queries.current(Evaluation))
            .order_by(Evaluation.evaluated_on, Evaluation.id)
        )
    )


def _planned(session: Session, protocol_ids: list[int]) -> list[PlannedSequence]:
    return list(
        session.exec(
            select(PlannedSequence)
            .where(PlannedSequence.protocol_id.in_(protocol_ids))
            .order_by(PlannedSequence.planned_on, PlannedSequence.position, PlannedSequence.id)
        )
    )


def _uid(kind: str, public_id: str) -> str:
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "afest"
    return f"{kind}-{public_id}@{host}"


def _summary(protocol: _Followed, what: str) -> str:
    """What an event is called: for a tutor, the learner's name first."""
    return f"{protocol.learner_name} — {what}" if protocol.learner_name else what


def _description(protocol: _Followed, *lines: str) -> str:
    return "\n".join([_("Protocole : %(title)s", title=protocol.title), *lines])


def _plan_events(plan: Iterable[PlannedSequence], followed, link) -> list[CalendarEvent]:
    events = []
    for planned in plan:
        protocol = followed[planned.protocol_id]
        kind = SEQUENCE_KINDS[planned.kind]
        minutes = format_minutes(planned.planned_minutes)
        events.append(
            CalendarEvent(
                uid=_uid("planned", f"{protocol.public_id}-{planned.id}"),
                summary=_summary(protocol, f"{planned.title} ({kind})"),
                start=planned.planned_on,
                description=_description(protocol, _("Durée prévue : %(d)s", d=minutes)),
                url=link[protocol.id],
            )
        )
    return events


def _deadline_events(deadlines, followed, link) -> list[CalendarEvent]:
    events = []
    for due in deadlines:
        if due.deadline is None:  # a pause freezes the window: no date to show yet
            continue
        protocol = followed[due.protocol_id]
        what = _("Séquence réflexive à faire (situation du %(d)s)", d=format_date(due.occurred_at))
        closes = format_datetime(due.deadline, "short")
        events.append(
            CalendarEvent(
                uid=_uid("reflection", due.situation_public_id),
                summary=_summary(protocol, what),
                start=due.deadline,
                description=_description(protocol, _("À faire avant le %(d)s.", d=closes)),
                url=link[protocol.id],
            )
        )
    return events


def _evaluation_events(evaluations, followed, link) -> list[CalendarEvent]:
    """Each evaluation on its date; a protocol's planned end while it has no final one."""
    events, finals = [], set()
    for evaluation in evaluations:
        protocol = followed[evaluation.protocol_id]
        if evaluation.kind == EvaluationKind.FINAL:
            finals.add(protocol.id)
        events.append(
            CalendarEvent(
                uid=_uid("evaluation", evaluation.public_id),
                summary=_summary(protocol, str(EVALUATION_KINDS[evaluation.kind])),
                start=evaluation.evaluated_on,
                description=_description(protocol),
                url=link[protocol.id],
            )
        )
    for protocol in followed.values():
        if protocol.id not in finals:
            events.append(
                CalendarEvent(
                    uid=_uid("final", protocol.public_id),
                    summary=_summary(protocol, _("Évaluation finale prévue")),
                    start=protocol.planned_end,
                    description=_description(protocol),
                    url=link[protocol.id],
                )
            )
    return events


def events_of(session: Session, user: User, *, now: datetime) -> list[CalendarEvent]:
    """Every event of `user`'s calendar at `now`, in the current locale, in four queries
    after her roles, whatever the number of her protocols."""
    followed = {p.id: p for p in _followed(session, user)}
    if not followed:
        return []
    ids = list(followed)
    link = {
        p.id: outbox.absolute_url("protocols.show", public_id=p.public_id)
        for p in followed.values()
    }
    return [
        *_plan_events(_planned(session, ids), followed, link),
        *_deadline_events(
            queries.reflection_deadlines(session, protocol_ids=ids, now=now), followed, link
        ),
        *_evaluation_events(_current_evaluations(session, ids), followed, link),
    ]


def _event(event: CalendarEvent, *, now: datetime) -> Event:
    """An all-day event for a date, a moment (no end: RFC 5545 reads it as an instant) for a
    deadline; neither makes the person look busy."""
    whole_day = not isinstance(event.start, datetime)
    return Event.new(
        uid=event.uid,
        stamp=now,
        summary=event.summary,
        start=event.start,
        end=event.start + timedelta(days=1) if whole_day else None,
        description=event.description,
        url=event.url,
        transparency="TRANSPARENT",
    )


def render(events: Iterable[CalendarEvent], *, now: datetime) -> bytes:
    """The feed's text: the calendar's name and refresh interval, then its events."""
    feed = Calendar()
    feed.add("VERSION", "2.0")
    feed.add("PRODID", "-//afest//agenda//FR")
    feed.add("CALSCALE", "GREGORIAN")
    name = _("afest : mon agenda")
    feed.add("NAME", name)
    feed.add("X-WR-CALNAME", name)
    feed.add("REFRESH-INTERVAL", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    feed.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    for event in events:
        feed.add_component(_event(event, now=now))
    return feed.to_ical()


def feed_of(session: Session, user: User, *, now: datetime) -> bytes:
    """`user`'s whole calendar at `now`, in her language (else the platform's)."""
    with force_locale(user.locale or current_app.config["DEFAULT_LOCALE"]):
        return render(events_of(session, user, now=now), now=now)
