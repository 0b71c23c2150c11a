"""Each person's home page, composed: what waits for her first ("À faire", grouped by
urgency, each item one tap from its screen), then what each of her roles follows.

What waits for the signed-in person is computed once per request (kept in `g`), for her
roles only: the count by "Accueil" in the navigation of every page and the home's list read
the same items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from afest.core.database import get_session
from afest.models import Role, utcnow
from afest.protocols import overview
from afest.todo import labels
from afest.todo.items import Item, Urgency, waiting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One line of the list: its sentence, its urgency in words, where it is done."""

    item: Item
    text: str
    when: str
    url: str


@dataclass(frozen=True)
class Group:
    urgency: Urgency
    heading: str
    entries: list[Entry]


def items_of(session: Session, actor) -> list[Item]:
    """What waits for `actor` now, most urgent first; computed once per request."""
    cached = g.get("todo_items")
    if cached is None or cached[0] != actor.id:
        found = waiting(session, people=[actor.id], now=utcnow(), roles=actor.roles)
        g.todo_items = cached = (actor.id, found.get(actor.id, []))
    return cached[1]


def nav_count() -> int | None:
    """The number by "Accueil": what waits for the signed-in person (None when signed out,
    or when the page is answering a database failure)."""
    if not current_user.is_authenticated:
        return None
    try:
        return len(items_of(get_session(), current_user))
    except SQLAlchemyError:  # an error page after a failed transaction still renders
        log.warning("to-do count skipped", exc_info=True)
        return None


def groups(items: list[Item]) -> list[Group]:
    """The items by urgency, late first, each group in the order given."""
    by: dict[Urgency, list[Entry]] = {u: [] for u in Urgency}
    for item in items:
        entry = Entry(item, labels.describe(item), labels.when(item), labels.url(item))
        by[item.urgency].append(entry)
    return [Group(u, str(labels.URGENCY_LABELS[u]), e) for u, e in by.items() if e]


def sections(session: Session, actor) -> dict[str, Any]:
    """What each of the actor's roles follows on her home."""
    found: dict[str, Any] = {}
    if actor.has(Role.LEARNER):
        found["learner"] = overview.learner_protocols(session, actor)
    if actor.has(Role.TUTOR):
        found["tutor"] = overview.tutored_protocols(session, actor)
    if actor.has(Role.MANAGER, Role.OPCO):
        found["structures"] = overview.protocols_by_structure(session, actor)
    if actor.has(Role.CONSULTANT):
        found["cohorts"] = overview.followed_cohorts(session, actor)
    if actor.has(Role.ADMIN):
        found["admin"] = overview.account_counts(session)
    return found


def page(session: Session, actor) -> dict[str, Any]:
    """The home page of `actor`: her "À faire" groups, then her roles' sections."""
    items = items_of(session, actor)
    return {"todo": groups(items), "sections": sections(session, actor)}


def init_app(app: Flask) -> None:
    """Templates may show the count: `waiting_count()` (base.html, by "Accueil")."""
    app.jinja_env.globals["waiting_count"] = nav_count
