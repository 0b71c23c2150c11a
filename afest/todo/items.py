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
- OPCO adviser: nothing.

A paused protocol (an open `ProtocolPause`) makes nobody wait.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
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


def waiting(
    session: Session, *, people: Iterable[int] | None = None, now: datetime
) -> dict[int, list[Item]]:
    """Every item waiting for each of `people` (everyone when None) at `now`, most urgent
    first; a person with nothing waiting is absent from the result."""
    raise NotImplementedError  # built next: one batched query per kind
