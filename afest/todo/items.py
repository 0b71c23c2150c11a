"""What waits for whom: the one definition every screen and every message uses.

`waiting(session, people=..., now=...)` returns, for each person, the items that wait for
them, computed for many people at once with a fixed number of queries (the reminder digests
run it on the whole country). A person's home shows `waiting(..., people=[id])`; the digests,
the navigation count and the calendar read the very same items.

Who waits for what:
- learner: a protocol to sign; sequences and evaluations to countersign;
- tutor: situations whose reflexive sequence is due (window of REFLECTION_MAX_DAYS days,
  lengthened by pauses: `afest.protocols.pauses.deadline`) — soon due (two days or less
  left), due today, late —; her sequences not signed by her yet; sequences planned today and
  tomorrow; protocols ending within a week without a final evaluation;
- manager: protocols awaiting signatures; protocols failing, or about to fail, a legal
  condition; tutors without a PIN; invitations not accepted;
- consultant: VAE pathways stuck at a milestone longer than VAE_STUCK_DAYS;
- OPCO adviser: nothing, unless she chose to be reminded (afest.todo.preferences): then, in
  her digest only (DIGEST_ONLY), the structures her OPCO funds whose protocols in progress
  fail, or are about to fail, a legal condition (named from SMALL_CELL_K learners, the
  smaller ones counted together).

A paused protocol (an open `ProtocolPause`) makes nobody wait.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlmodel import Session


class Kind(enum.StrEnum):
    SIGN_PROTOCOL = "sign_protocol"  # learner (and tutor) sign a protocol awaiting signatures
    COUNTERSIGN_SEQUENCE = "countersign_sequence"  # learner
    COUNTERSIGN_EVALUATION = "countersign_evaluation"  # learner
    REFLECTION_DUE = "reflection_due"  # tutor: a situation's reflexive sequence
    SIGN_SEQUENCE = "sign_sequence"  # tutor: her own sequence not signed yet
    PLANNED_SEQUENCE = "planned_sequence"  # tutor: planned today or tomorrow
    FINAL_EVALUATION = "final_evaluation"  # tutor: protocol ends within a week, none written
    PROTOCOL_SIGNATURES = "protocol_signatures"  # manager: a protocol awaits signatures
    PROTOCOL_AT_RISK = "protocol_at_risk"  # manager: a legal condition failed or about to
    TUTOR_WITHOUT_PIN = "tutor_without_pin"  # manager
    INVITATION_PENDING = "invitation_pending"  # manager: an invited person never came
    VAE_STUCK = "vae_stuck"  # consultant
    STRUCTURE_AT_RISK = "structure_at_risk"  # OPCO adviser who asked for her summary


class Urgency(enum.StrEnum):
    LATE = "late"
    TODAY = "today"
    SOON = "soon"
    LATER = "later"


@dataclass(frozen=True)
class Item:
    """One thing that waits for one person, one tap from the screen that resolves it."""

    key: str  # stable across days: kind + the public id of its subject, e.g. "reflection_due:AbC…"
    kind: Kind
    person_id: int
    endpoint: str  # the screen that resolves it, for url_for
    values: dict[str, Any] = field(default_factory=dict)
    due: datetime | None = None  # UTC; None when nothing sets a date
    urgency: Urgency = Urgency.LATER
    # What the sentence says (protocol title, learner's name, dates...): labels.describe(item)
    # turns it into a sentence in the current locale.
    facts: dict[str, Any] = field(default_factory=dict)


URGENCY_ORDER = {urgency: rank for rank, urgency in enumerate(Urgency)}
SOON_DAYS = 2  # a deadline this close (or closer) is "soon"
ENDING_DAYS = 7  # a protocol ending this close wants its final evaluation
ROLES = {  # the kinds a person may hold, by role (afest.models.Role values)
    "learner": (Kind.SIGN_PROTOCOL, Kind.COUNTERSIGN_SEQUENCE, Kind.COUNTERSIGN_EVALUATION),
    "tutor": (
        Kind.SIGN_PROTOCOL,
        Kind.REFLECTION_DUE,
        Kind.SIGN_SEQUENCE,
        Kind.PLANNED_SEQUENCE,
        Kind.FINAL_EVALUATION,
    ),
    "manager": (
        Kind.PROTOCOL_SIGNATURES,
        Kind.PROTOCOL_AT_RISK,
        Kind.TUTOR_WITHOUT_PIN,
        Kind.INVITATION_PENDING,
    ),
    "consultant": (Kind.VAE_STUCK,),
}
# Kinds that only the reminder digests announce (they ask for every kind, roles=None): an
# OPCO adviser's summary is a report she asked for by e-mail, not something she resolves, and
# reading her OPCO's every protocol in progress on each page would cost 160-330 ms at the
# national scale (bench/bench_home_todo.py) where a list must add under 10 ms.
DIGEST_ONLY = (Kind.STRUCTURE_AT_RISK,)


def urgency_of(due: datetime | None, now: datetime, zone: tzinfo) -> Urgency:
    """Late once `due` has passed; today when it falls on today (in `zone`); soon when
    SOON_DAYS days or less remain; later otherwise (and when nothing sets a date)."""
    if due is None:
        return Urgency.LATER
    if now > due:
        return Urgency.LATE
    # a deadline at midnight closes the day before it (a day "due by the end of the day")
    if (due - timedelta(microseconds=1)).astimezone(zone).date() == now.astimezone(zone).date():
        return Urgency.TODAY
    return Urgency.SOON if due - now <= timedelta(days=SOON_DAYS) else Urgency.LATER


def sort_key(item: Item) -> tuple:
    """Most urgent first, then the nearest date (none last), then a stable order."""
    return (URGENCY_ORDER[item.urgency], item.due is None, item.due or datetime.min, item.key)


def kinds_of(roles: Iterable[str]) -> set[Kind]:
    """The kinds of item people holding `roles` may have waiting."""
    return {kind for role in roles for kind in ROLES.get(str(role), ())}


def waiting(
    session: Session,
    *,
    people: Iterable[int] | None = None,
    now: datetime,
    roles: Iterable[str] | None = None,
) -> dict[int, list[Item]]:
    """Every item waiting for each of `people` (everyone when None) at `now`, most urgent
    first; a person with nothing waiting is absent from the result. `roles`, when given,
    limits the work to the kinds those roles may have (a person's home knows hers): a fixed
    number of queries, whatever the number of people. The home page gives `roles`, the
    digests do not (DIGEST_ONLY kinds are only theirs)."""
    from afest.todo import build  # the statements and the rules that turn rows into items

    people = None if people is None else sorted(set(people))
    if people == []:
        return {}
    kinds = set(Kind) if roles is None else kinds_of(roles)
    found: dict[int, dict[str, Item]] = {}
    for item in build.items(session, people=people, now=now, kinds=kinds):
        mine = found.setdefault(item.person_id, {})
        kept = mine.get(item.key)
        if kept is None or sort_key(item) < sort_key(kept):
            mine[item.key] = item
    return {person: sorted(items.values(), key=sort_key) for person, items in found.items()}
