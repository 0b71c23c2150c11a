"""Reads of the admin's Courriels page: the outbox newest first, by state, a page at a time;
one message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import and_, case, func
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from afest.mail.sending import unconfirmed_before
from afest.models import MailState, OutboxMessage, utcnow

TO_CHECK = "to_check"  # shown state: left sending past the grace period
# the page's filter, in its order: a state, or TO_CHECK
SHOWN_STATES = (
    TO_CHECK,
    MailState.FAILED.value,
    MailState.PENDING.value,
    MailState.SENDING.value,
    MailState.KEPT.value,
    MailState.SENT.value,
)
PAGE_SIZE = 50
URL = re.compile(r"https?://[^\s<>\"']+")


def shown_state(message: OutboxMessage, now: datetime | None = None) -> str:
    """A message's state as the page shows it: TO_CHECK for one left sending too long."""
    if message.state is MailState.SENDING and _claimed_before(message, unconfirmed_before(now)):
        return TO_CHECK
    return message.state.value


def _claimed_before(message: OutboxMessage, instant: datetime) -> bool:
    return message.claimed_at is not None and message.claimed_at < instant


def _where_shown(state: str, now: datetime):
    cutoff = unconfirmed_before(now)
    if state == TO_CHECK:
        return and_(OutboxMessage.state == MailState.SENDING, OutboxMessage.claimed_at < cutoff)
    if state == MailState.SENDING.value:
        return and_(OutboxMessage.state == MailState.SENDING, OutboxMessage.claimed_at >= cutoff)
    return OutboxMessage.state == MailState(state)


def page_of_messages(
    session: Session, *, state: str | None, page: int, size: int
) -> tuple[list[OutboxMessage], bool]:
    """One page of messages, newest first, without their bodies; and whether more follow."""
    query = select(OutboxMessage).options(
        defer(OutboxMessage.body_text), defer(OutboxMessage.body_html)
    )
    if state:
        query = query.where(_where_shown(state, utcnow()))
    rows = list(
        session.exec(
            query.order_by(OutboxMessage.id.desc()).offset((page - 1) * size).limit(size + 1)
        )
    )
    return rows[:size], len(rows) > size


@dataclass(frozen=True)
class OutboxPage:
    """What the Courriels page lists: one page of messages, each with the state it shows,
    whether more follow, and how many messages each state has."""

    state: str | None
    page: int
    rows: list[tuple[OutboxMessage, str]]
    has_more: bool
    counts: dict[str, int]


def outbox_page(session: Session, *, state: str | None, page: int) -> OutboxPage:
    """Page `page` of the outbox (PAGE_SIZE messages), of one shown state if given."""
    messages, has_more = page_of_messages(session, state=state, page=page, size=PAGE_SIZE)
    now = utcnow()
    return OutboxPage(
        state=state,
        page=page,
        rows=[(message, shown_state(message, now)) for message in messages],
        has_more=has_more,
        counts=counts(session),
    )


def counts(session: Session) -> dict[str, int]:
    """How many messages each shown state has (one GROUP BY)."""
    cutoff = unconfirmed_before(utcnow())
    shown = case(
        (
            and_(OutboxMessage.state == MailState.SENDING, OutboxMessage.claimed_at < cutoff),
            TO_CHECK,
        ),
        else_=OutboxMessage.state,
    )
    found = dict(session.exec(select(shown, func.count()).group_by(shown)).all())
    return {state: found.get(state, 0) for state in SHOWN_STATES}


def text_with_links(text: str) -> Markup:
    """A text body for the page: escaped, its addresses made links (a tryout follows an
    invitation from here)."""
    parts, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        end = match.start() + len(url)
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Actions:
    resend: bool
    mark_sent: bool


def actions(message: OutboxMessage, now: datetime | None = None) -> Actions:
    """What the admin may do with a message: re-send one failed, kept or to check; mark sent
    one failed or to check (she knows it arrived)."""
    state = shown_state(message, now)
    return Actions(
        resend=state in (MailState.FAILED.value, MailState.KEPT.value, TO_CHECK),
        mark_sent=state in (MailState.FAILED.value, TO_CHECK),
    )
