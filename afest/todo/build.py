"""Rows into items: the rules of afest.todo.items applied to what afest.todo.queries reads.

Each kind of item costs one statement (the reflexive windows one more, shared by the
tutors', the managers' and the OPCO advisers' items): 13 in all; a kind no one asked for
costs nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlmodel import Session, select

from afest.core import clock
from afest.models import Protocol, ProtocolStatus, SequenceKind, SignerRole
from afest.todo import oversight, queries
from afest.todo.items import ENDING_DAYS, Item, Kind, Urgency, urgency_of

MANY_IDS = 5000  # protocol ids sent as a list at most (SQL parameters are limited)


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant `day` ends at in `zone` (the next day's midnight there)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)


class _Context:
    """What every rule needs: the moment, the platform's zone and day, the people asked."""

    def __init__(self, session: Session, people: list[int] | None, now: datetime):
        self.session, self.people, self.now = session, people, now
        self.zone = clock.zone()
        self.today = now.astimezone(self.zone).date()

    def by_day(self, day: date) -> tuple[datetime, Urgency]:
        """A thing due by the end of `day`: that moment, and its urgency now."""
        due = _end_of(day, self.zone)
        return due, urgency_of(due, self.now, self.zone)

    def at(self, due: datetime | None) -> Urgency:
        return urgency_of(due, self.now, self.zone)


# --- learner and tutor ----------------------------------------------------------------------


def _protocols_to_sign(c: _Context) -> Iterator[Item]:
    for person, role, public_id, title, starts in queries.protocols_to_sign(
        c.session, people=c.people, now=c.now
    ):
        due, urgency = c.by_day(starts)
        yield Item(
            f"{Kind.SIGN_PROTOCOL}:{public_id}",
            Kind.SIGN_PROTOCOL,
            person,
            "protocols.show",
            {"public_id": public_id},
            due,
            urgency,
            {"title": title, "role": role, "starts": starts},
        )


def _sequences_to_countersign(c: _Context) -> Iterator[Item]:
    for row in queries.sequences_to_countersign(c.session, people=c.people, now=c.now):
        learner, public_id, kind, occurred_at, _protocol, title = row
        yield Item(
            f"{Kind.COUNTERSIGN_SEQUENCE}:{public_id}",
            Kind.COUNTERSIGN_SEQUENCE,
            learner,
            "sequences.countersign",
            {"public_id": public_id},
            facts={"title": title, "sequence_kind": str(kind), "occurred_at": occurred_at},
        )


def _evaluations_to_countersign(c: _Context) -> Iterator[Item]:
    for row in queries.evaluations_to_countersign(c.session, people=c.people, now=c.now):
        learner, public_id, kind, evaluated_on, _protocol, title = row
        yield Item(
            f"{Kind.COUNTERSIGN_EVALUATION}:{public_id}",
            Kind.COUNTERSIGN_EVALUATION,
            learner,
            "evaluations.show",
            {"public_id": public_id},
            facts={"title": title, "evaluation_kind": str(kind), "evaluated_on": evaluated_on},
        )


def _deadlines(c: _Context, protocol_ids: set[int]) -> dict[int, list[queries.ReflectionDeadline]]:
    """The open reflexive windows of these protocols (read among every protocol in progress
    and not paused when everyone is asked or the ids are many: no list of ids that long is
    sent, an OPCO's protocols may be tens of thousands)."""
    if not protocol_ids:
        return {}
    among = (
        select(Protocol.id).where(Protocol.status == ProtocolStatus.IN_PROGRESS, ~queries.paused())
        if c.people is None or len(protocol_ids) > MANY_IDS
        else protocol_ids
    )
    found = defaultdict(list)
    for due in queries.reflection_deadlines(c.session, protocol_ids=among, now=c.now):
        if due.protocol_id in protocol_ids:
            found[due.protocol_id].append(due)
    return found


def _tutored(c: _Context, kinds: set[Kind], deadlines) -> Iterator[Item]:
    for row in c.tutored:
        tutor, protocol_id, public_id, title, ends, learner, has_final = row
        facts = {"title": title, "learner": learner}
        if Kind.REFLECTION_DUE in kinds:
            for due in deadlines.get(protocol_id, ()):
                yield Item(
                    f"{Kind.REFLECTION_DUE}:{due.situation_public_id}",
                    Kind.REFLECTION_DUE,
                    tutor,
                    "tablet.reflection",
                    {"public_id": public_id},
                    due.deadline,
                    c.at(due.deadline),
                    {**facts, "occurred_at": due.occurred_at, "situation": due.situation_public_id},
                )
        if (
            Kind.FINAL_EVALUATION in kinds
            and not has_final
            and ends <= c.today + timedelta(days=ENDING_DAYS)
        ):
            due, urgency = c.by_day(ends)
            yield Item(
                f"{Kind.FINAL_EVALUATION}:{public_id}",
                Kind.FINAL_EVALUATION,
                tutor,
                "evaluations.new",
                {"public_id": public_id},
                due,
                urgency,
                {**facts, "ends": ends},
            )


def _planned(c: _Context) -> Iterator[Item]:
    days = (c.today, c.today + timedelta(days=1))
    for row in queries.planned(c.session, people=c.people, now=c.now, days=days):
        tutor, planned_id, kind, planned_on, what, public_id, title, learner = row
        due, _urgency = c.by_day(planned_on)
        yield Item(
            f"{Kind.PLANNED_SEQUENCE}:{public_id}-{planned_id}",
            Kind.PLANNED_SEQUENCE,
            tutor,
            "tablet.reflection" if kind == SequenceKind.REFLECTION else "tablet.situation",
            {"public_id": public_id},
            due,
            Urgency.TODAY if planned_on == c.today else Urgency.SOON,
            {
                "title": title,
                "learner": learner,
                "planned": what,
                "sequence_kind": str(kind),
                "planned_on": planned_on,
            },
        )


def _unsigned(c: _Context) -> Iterator[Item]:
    for row in queries.unsigned_sequences(c.session, people=c.people, now=c.now):
        tutor, public_id, kind, occurred_at, _protocol, title, learner = row
        yield Item(
            f"{Kind.SIGN_SEQUENCE}:{public_id}",
            Kind.SIGN_SEQUENCE,
            tutor,
            "sequences.show",
            {"public_id": public_id},
            facts={
                "title": title,
                "learner": learner,
                "sequence_kind": str(kind),
                "occurred_at": occurred_at,
            },
        )


# --- manager --------------------------------------------------------------------------------


def _signatures(c: _Context, row) -> Item:
    missing = [r.value for r in SignerRole if not getattr(row, f"signed_{r.value}")]
    due, urgency = c.by_day(row.planned_start)
    return Item(
        f"{Kind.PROTOCOL_SIGNATURES}:{row.public_id}",
        Kind.PROTOCOL_SIGNATURES,
        row.user_id,
        "protocols.show",
        {"public_id": row.public_id},
        due,
        urgency,
        {
            "title": row.title,
            "learner": row.full_name,
            "missing": missing,
            "starts": row.planned_start,
        },
    )


def at_risk(c: _Context, row, deadlines) -> tuple[dict[str, list[int]], datetime | None]:
    """What a protocol in progress risks: the conditions it fails now ("failed", as
    afest.protocols.compliance says), those about to fail ("soon": a reflexive window
    closing within SOON_DAYS, or the end within ENDING_DAYS and no evaluation yet; "late":
    the planned end passed with no evaluation, which fails once the protocol is closed), and
    the nearest date at stake."""
    risk: dict[str, list[int]] = {"failed": [], "late": [], "soon": []}
    dates = []
    if row.no_analysis:
        risk["failed"].append(1)
    if row.no_tutor or row.early:
        risk["failed"].append(2)
    closing = [d.deadline for d in deadlines if d.deadline is not None]
    passed = [d for d in closing if c.now > d]
    near = [d for d in closing if c.at(d) in (Urgency.TODAY, Urgency.SOON)]
    if passed:
        risk["failed"].append(3)
    if near:
        risk["soon"].append(3)
    dates += passed + near
    if not row.evaluated and row.planned_end <= c.today + timedelta(days=ENDING_DAYS):
        ends, urgency = c.by_day(row.planned_end)
        risk["late" if urgency == Urgency.LATE else "soon"].append(4)
        dates.append(ends)
    return risk, min(dates) if dates else None


def _managed(c: _Context, kinds: set[Kind], deadlines) -> Iterator[Item]:
    for row in c.managed:
        if row.status == ProtocolStatus.AWAITING_SIGNATURES:
            if Kind.PROTOCOL_SIGNATURES in kinds:
                yield _signatures(c, row)
            continue
        if Kind.PROTOCOL_AT_RISK not in kinds:
            continue
        risk, due = at_risk(c, row, deadlines.get(row.id, ()))
        if any(risk.values()):
            yield Item(
                f"{Kind.PROTOCOL_AT_RISK}:{row.public_id}",
                Kind.PROTOCOL_AT_RISK,
                row.user_id,
                "protocols.show",
                {"public_id": row.public_id, "_anchor": "conformite"},
                due,
                Urgency.LATE if risk["failed"] or risk["late"] else c.at(due),
                {"title": row.title, "learner": row.full_name, **risk},
            )


def _people_items(c: _Context, kind: Kind, rows) -> Iterator[Item]:
    for row in rows:
        manager, public_id, name, structure = row[:4]
        expires = queries.aware(row[4]) if len(row) > 4 else None
        yield Item(
            f"{kind}:{public_id}",
            kind,
            manager,
            "people.person",
            {"structure_id": structure, "public_id": public_id},
            expires,
            Urgency.LATE if expires and c.now > expires else Urgency.LATER,
            {"name": name, "expired": bool(expires and c.now > expires)},
        )


# --- OPCO -------------------------------------------------------------------------------------


def _structures_at_risk(c: _Context, deadlines) -> Iterator[Item]:
    """An OPCO adviser's structures whose funded protocols in progress fail, or are about to
    fail, a legal condition: one item a structure, named only when those protocols concern
    at least SMALL_CELL_K learners (the dashboards' small-cell rule); the others are counted
    in one item, as on the dashboard."""
    k = int(current_app.config["SMALL_CELL_K"])
    by: dict[tuple[int, str], dict] = {}
    for row in c.funded:
        s = by.setdefault(
            (row.user_id, row.structure_public_id),
            {"name": row.structure_name, "learners": set(), "failing": 0, "soon": 0, "due": []},
        )
        s["learners"].add(row.learner_id)
        risk, due = at_risk(c, row, deadlines.get(row.id, ()))
        s["failing"] += bool(risk["failed"] or risk["late"])
        s["soon"] += bool(not (risk["failed"] or risk["late"]) and risk["soon"])
        s["due"] += [due] if due else []
    small: dict[int, int] = defaultdict(int)
    for (adviser, public_id), s in by.items():
        if not (s["failing"] or s["soon"]):
            continue
        if len(s["learners"]) < k:
            small[adviser] += 1
            continue
        due = min(s["due"]) if s["due"] else None  # conditions 1 and 2 have no date
        yield Item(
            f"{Kind.STRUCTURE_AT_RISK}:{public_id}",
            Kind.STRUCTURE_AT_RISK,
            adviser,
            "dashboards.structure",
            {"public_id": public_id},
            due,
            Urgency.LATE if s["failing"] else c.at(due),
            {"structure": s["name"], "failing": s["failing"], "near": s["soon"]},
        )
    for adviser, count in small.items():
        yield Item(
            f"{Kind.STRUCTURE_AT_RISK}:small",
            Kind.STRUCTURE_AT_RISK,
            adviser,
            "dashboards.opco",
            {},
            None,
            Urgency.LATER,
            {"small": count, "k": k},
        )


def structures_at_risk(session: Session, *, adviser_id: int, now: datetime) -> list[Item]:
    """The structures at risk of one OPCO adviser's summary (Kind.STRUCTURE_AT_RISK items),
    whether or not she asked for the summary: her dashboard lists them when she opens it."""
    c = _Context(session, [adviser_id], now)
    c.funded = oversight.funded(session, people=[adviser_id], now=now, asked=False)
    return list(_structures_at_risk(c, _deadlines(c, {r.id for r in c.funded})))


# --- consultant -----------------------------------------------------------------------------


def _stuck(c: _Context) -> Iterator[Item]:
    days = int(current_app.config.get("VAE_STUCK_DAYS", 30))
    limit = c.today - timedelta(days=days)
    before = datetime.combine(limit, time(), tzinfo=c.zone).astimezone(UTC)
    for row in oversight.stuck_pathways(c.session, people=c.people, before=before, day=limit):
        consultant, public_id, state, created_at, learner, last_on = row
        since = last_on or queries.aware(created_at).astimezone(c.zone).date()
        yield Item(
            f"{Kind.VAE_STUCK}:{public_id}",
            Kind.VAE_STUCK,
            consultant,
            "vae.show",
            {"public_id": public_id},
            _end_of(since + timedelta(days=days), c.zone),
            Urgency.LATE,
            {"learner": learner, "state": str(state), "since": since, "days": days},
        )


# --- all ------------------------------------------------------------------------------------


def items(
    session: Session, *, people: list[int] | None, now: datetime, kinds: set[Kind]
) -> Iterator[Item]:
    """Every item of `kinds` waiting for `people` (everyone when None) at `now`, unsorted."""
    c = _Context(session, people, now)
    if kinds & {Kind.SIGN_PROTOCOL}:
        yield from _protocols_to_sign(c)
    if Kind.COUNTERSIGN_SEQUENCE in kinds:
        yield from _sequences_to_countersign(c)
    if Kind.COUNTERSIGN_EVALUATION in kinds:
        yield from _evaluations_to_countersign(c)
    tutoring = kinds & {Kind.REFLECTION_DUE, Kind.FINAL_EVALUATION}
    managing = kinds & {Kind.PROTOCOL_AT_RISK, Kind.PROTOCOL_SIGNATURES}
    c.tutored = queries.tutored(session, people=people, now=now) if tutoring else []
    c.managed = oversight.managed(session, people=people, now=now) if managing else []
    funding = Kind.STRUCTURE_AT_RISK in kinds
    c.funded = oversight.funded(session, people=people, now=now) if funding else []
    windows = {r.id for r in c.tutored} if Kind.REFLECTION_DUE in kinds else set()
    if Kind.PROTOCOL_AT_RISK in kinds:
        windows |= {r.id for r in c.managed if r.status == ProtocolStatus.IN_PROGRESS}
    windows |= {r.id for r in c.funded}
    deadlines = _deadlines(c, windows)
    yield from _tutored(c, kinds, deadlines)
    yield from _managed(c, kinds, deadlines)
    yield from _structures_at_risk(c, deadlines)
    if Kind.PLANNED_SEQUENCE in kinds:
        yield from _planned(c)
    if Kind.SIGN_SEQUENCE in kinds:
        yield from _unsigned(c)
    if Kind.TUTOR_WITHOUT_PIN in kinds:
        rows = oversight.tutors_without_pin(session, people=people)
        yield from _people_items(c, Kind.TUTOR_WITHOUT_PIN, rows)
    if Kind.INVITATION_PENDING in kinds:
        rows = oversight.pending_invitations(session, people=people)
        yield from _people_items(c, Kind.INVITATION_PENDING, rows)
    if Kind.VAE_STUCK in kinds:
        yield from _stuck(c)
