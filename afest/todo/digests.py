"""Reminder digests: one e-mail per person and period listing what waits for her.

When: a person reminded daily gets a digest every day, one reminded weekly on Mondays, the
day counted in the platform's TIMEZONE (afest.todo.jobs runs this at 07:00 there). The period
is that day ("2026-12-02") or its ISO week ("2026-W49"). A weekly digest whose Monday run was
missed is not sent later in the week by itself: an operator sends it with
`flask afest send-reminders --at <that Monday>`.

What: the items of `afest.todo.items.waiting`, late first (SHOWN at most, the others
counted), except a reflexive sequence whose window closes after the day after tomorrow
(announced from the morning two days before it closes; its item is LATER until then) and
what a digest of the same person already announced in an overlapping period (the week of a
daily digest, the days of a weekly one, after she switched frequency). Nothing waiting, no
message. Deactivated accounts and "never" get none; a paused protocol makes nobody wait.

Once per period: the ReminderDigest row (user, period) is unique and written first, ON
CONFLICT DO NOTHING; a conflict means the digest went out already, and nothing more is done.
Its message goes to the outbox in the same transaction (afest.mail.outbox.enqueue_many), in
the person's language, each link absolute on PUBLIC_BASE_URL (a link opened while signed out
goes through the login page, then to its screen).

Batched: what waits is read once for all the people due (`afest.todo.items.waiting`, a fixed
number of statements: for everyone at once from EVERYONE_FROM people, which costs less than
for a long list of them), then the digests are made CHUNK people at a time, each chunk with
the same few statements however many people it holds. On the national dataset the items of
everyone are some 45,000, held in memory for the run. `send_due` does it all in the caller's
session (flushed, not committed); `run`, the job's and the command's, reads in read
transactions and writes each chunk in a short write transaction of its own, so that SQLite's
writer turn is held only for the writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from afest.core import audit, clock
from afest.core.database import Database, insert_on_conflict
from afest.mail import outbox
from afest.models import OutboxMessage, ReminderDigest, RoleAssignment, User, utcnow
from afest.todo import labels
from afest.todo.items import Item, Kind, Urgency, waiting
from afest.todo.preferences import DAILY, NEVER, WEEKLY, frequency_of

CHUNK = 2000  # people whose digests are read, rendered and written at a time
EVERYONE_FROM = 1000  # from this many people due, what waits is read for everyone at once
SHOWN = 10  # items a digest lists at most, the most urgent; it counts the others
ANNOUNCE_DAYS = 2  # a reflexive window is announced from this many days before it closes
TEMPLATE = "reminder_digest"
EVENT_PREFIX = "reminder_digest:"  # + period + ":" + user id: the outbox's event key
PREFERENCES_ENDPOINT = "todo.reminders"  # the "Rappels et agenda" page


@dataclass(frozen=True)
class Draft:
    """The digest one person is due for one period, before it is written."""

    user: User
    period: str
    items: list[Item]  # those it lists (SHOWN at most)
    urls: list[str]
    more: int = 0  # what else waits, not listed: counted, one link to the home page
    late: int = 0  # of all of them, listed or not


@dataclass
class Sent:
    """What a run sent: digests (one per person) and the items they announced."""

    digests: int = 0
    items: int = 0
    people_due: int = 0
    periods: set[str] = field(default_factory=set)

    def add(self, other: Sent) -> None:
        self.digests += other.digests
        self.items += other.items
        self.people_due += other.people_due
        self.periods |= other.periods


# --- periods --------------------------------------------------------------------------------


def local_day(now: datetime) -> date:
    """The day `now` falls on in the platform's TIMEZONE."""
    return now.astimezone(clock.zone()).date()


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def periods_on(day: date) -> dict[str, str]:
    """The period each frequency due on `day` sends for: daily every day, weekly on Monday."""
    due = {DAILY: day.isoformat()}
    if day.weekday() == 0:
        due[WEEKLY] = week_of(day)
    return due


def overlapping(period: str, day: date) -> list[str]:
    """The other periods that share days with `period` (of `day`) and may have been sent
    already: the week of a day; the days of a week up to `day`."""
    if period == day.isoformat():
        return [week_of(day)]
    monday = day - timedelta(days=day.weekday())
    return [(monday + timedelta(days=n)).isoformat() for n in range(day.weekday() + 1)]


# --- reads ----------------------------------------------------------------------------------


def due_people(
    session: Session, *, now: datetime, people: Iterable[int] | None = None
) -> list[tuple[int, str]]:
    """(user id, period) of every active person, among `people` (everyone when None), whose
    frequency sends a digest on the day of `now`; by id."""
    periods = periods_on(local_day(now))
    query = (
        select(User.id, User.reminder_frequency, RoleAssignment.role)
        .join(RoleAssignment, RoleAssignment.user_id == User.id, isouter=True)
        .where(User.is_active)
        .order_by(User.id)
    )
    if people is not None:
        query = query.where(User.id.in_(list(people)))
    chosen: dict[int, Any] = {}
    roles: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(query):
        chosen.setdefault(row.id, row)
        if row.role is not None:
            roles[row.id].append(row.role)
    due = []
    for user_id, row in chosen.items():
        frequency = frequency_of(row, roles[user_id])  # reads only .reminder_frequency
        if frequency != NEVER and frequency in periods:
            due.append((user_id, periods[frequency]))
    return due


def mailed(item: Item, *, today: date, zone: ZoneInfo) -> bool:
    """Whether a digest announces `item`: a reflexive sequence from the morning two days
    before its window closes (counted in days, as the digest goes out once a morning: a
    window closing on Monday at 14:00 is announced on Saturday), everything else as soon as
    it waits."""
    if item.kind != Kind.REFLECTION_DUE or item.urgency != Urgency.LATER:
        return True
    closes = item.due.astimezone(zone).date() if item.due else None
    return closes is not None and closes <= today + timedelta(days=ANNOUNCE_DAYS)


def waiting_for(session: Session, *, now: datetime, due: list[tuple[int, str]]):
    """What waits for the `due` people at `now` (afest.todo.items.waiting): read for everyone
    at once when they are many (the same statements, without a list of ids, which a
    database plans badly when it is long and limits in length), else for them."""
    if len(due) > EVERYONE_FROM:
        return waiting(session, people=None, now=now)
    return waiting(session, people=[user_id for user_id, _ in due], now=now)


def plan(
    session: Session,
    *,
    now: datetime,
    due: list[tuple[int, str]],
    waits: dict[int, list[Item]] | None = None,
) -> list[Draft]:
    """The digests `due` (user id, period) people get at `now` (reads only): those with
    something new to announce in their period, none for those already sent theirs. `waits`:
    what waits for them, when it was read already (`waiting_for`)."""
    if not due:
        return []
    if waits is None:
        waits = waiting_for(session, now=now, due=due)
    due = [(user_id, period) for user_id, period in due if waits.get(user_id)]
    if not due:
        return []
    ids = [user_id for user_id, _ in due]
    here = clock.zone()
    day = now.astimezone(here).date()
    near = {p: overlapping(p, day) for p in {period for _, period in due}}
    announced: dict[int, dict[str, list[str]]] = defaultdict(dict)
    rows = session.exec(
        select(ReminderDigest.user_id, ReminderDigest.period, ReminderDigest.items).where(
            ReminderDigest.user_id.in_(ids),
            ReminderDigest.period.in_(
                {p for mine, others in near.items() for p in (mine, *others)}
            ),
        )
    )
    for user_id, period, keys in rows:
        announced[user_id][period] = keys or []
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))}
    drafts = []
    for user_id, period in due:
        before = announced.get(user_id, {})
        if period in before:
            continue  # this period's digest went out already
        seen = {key for p in near[period] for key in before.get(p, ())}
        items = [i for i in waits[user_id] if i.key not in seen and mailed(i, today=day, zone=here)]
        if items:
            shown = items[:SHOWN]
            urls = [outbox.absolute_url(i.endpoint, **i.values) for i in shown]
            late = sum(i.urgency == Urgency.LATE for i in items)
            drafts.append(Draft(users[user_id], period, shown, urls, len(items) - len(shown), late))
    return drafts


# --- writes ---------------------------------------------------------------------------------


def record(session: Session, drafts: list[Draft]) -> Sent:
    """Write the digests of `drafts` and their messages in `session` (flushed): a digest
    whose (person, period) is already written is skipped, with its message."""
    sent = Sent()
    if not drafts:
        return sent
    now = utcnow()
    rows = [
        {
            "user_id": d.user.id,
            "period": d.period,
            "items": [i.key for i in d.items],
            "created_at": now,
        }
        for d in drafts
    ]
    session.flush()
    written = set(
        session.execute(
            insert_on_conflict(session, ReminderDigest)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["user_id", "period"])
            .returning(ReminderDigest.user_id, ReminderDigest.period)
        ).all()
    )
    drafts = [d for d in drafts if (d.user.id, d.period) in written]
    if not drafts:
        return sent
    links = {
        "preferences_url": outbox.absolute_url(PREFERENCES_ENDPOINT),
        "home_url": outbox.absolute_url("main.home"),
    }
    outbox.enqueue_many(
        session,
        [
            (TEMPLATE, d.user, _context(d, links), f"{EVENT_PREFIX}{d.period}:{d.user.id}")
            for d in drafts
        ],
    )
    _link_messages(session, drafts)
    sent.digests = len(drafts)
    sent.items = sum(len(d.items) for d in drafts)
    sent.periods = {d.period for d in drafts}
    audit.record(
        session,
        actor_id=None,
        action="reminders.digests_sent",
        subject_kind="reminder_digest",
        subject_id=None,
        after={"periods": sorted(sent.periods), "digests": sent.digests, "items": sent.items},
    )
    return sent


def _context(draft: Draft, links: dict[str, str]) -> dict[str, Any]:
    """What the digest's templates show: the items by urgency, late first, each with its
    link; `describe` and `when` (afest.todo.labels, the home page's words) turn an item into
    its sentence and its deadline, in the recipient's language (they run as it is rendered)."""
    groups: dict[Urgency, list[tuple[Item, str]]] = {u: [] for u in Urgency}
    for item, url in zip(draft.items, draft.urls, strict=True):
        groups[item.urgency].append((item, url))
    return {
        "groups": [(labels.URGENCY_LABELS[u], e) for u, e in groups.items() if e],
        "count": len(draft.items) + draft.more,
        "late": draft.late,
        "more": draft.more,
        "describe": labels.describe,
        "when": labels.when,
        **links,
    }


def _link_messages(session: Session, drafts: list[Draft]) -> None:
    """Point each digest just written at its outbox message (one UPDATE)."""
    event_key = sa.literal(EVENT_PREFIX) + ReminderDigest.period + ":"
    event_key = event_key + sa.cast(ReminderDigest.user_id, sa.String)
    message = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.event_key == event_key, OutboxMessage.user_id == ReminderDigest.user_id
        )
        .scalar_subquery()
    )
    session.execute(
        sa.update(ReminderDigest)
        .where(
            ReminderDigest.user_id.in_([d.user.id for d in drafts]),
            ReminderDigest.period.in_({d.period for d in drafts}),
            ReminderDigest.message_id.is_(None),
        )
        .values(message_id=message)
        .execution_options(synchronize_session=False)
    )


# --- runs -----------------------------------------------------------------------------------


def _chunks(due: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    for start in range(0, len(due), CHUNK):
        yield due[start : start + CHUNK]


def send_due(session: Session, *, now: datetime, people: Iterable[int] | None = None) -> Sent:
    """Send every digest due at `now` to `people` (everyone when None), in `session`
    (flushed, not committed): the operation, all in one transaction."""
    sent = Sent()
    due = due_people(session, now=now, people=people)
    sent.people_due = len(due)
    waits = waiting_for(session, now=now, due=due)
    for chunk in _chunks(due):
        sent.add(record(session, plan(session, now=now, due=chunk, waits=waits)))
    return sent


def run(db: Database, *, now: datetime) -> Sent:
    """`send_due` for everyone: what waits read once, in a read transaction; then a chunk at
    a time, what was sent already read, and the digests written and committed in a short
    write transaction (the morning job and the command)."""
    sent = Sent()
    with db.session() as session:
        due = due_people(session, now=now)
        waits = waiting_for(session, now=now, due=due)
    sent.people_due = len(due)
    for chunk in _chunks(due):
        with db.session() as session:
            drafts = plan(session, now=now, due=chunk, waits=waits)
        if not drafts:
            continue
        with db.session(write=True) as session:
            sent.add(record(session, drafts))
            session.commit()
    return sent
