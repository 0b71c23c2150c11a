"""The four legal conditions of an AFEST (Code du travail, art. D6313-3-2), checked per protocol.

These definitions are shared with the dashboards, which count in SQL the share of protocols
meeting all four conditions; they must stay exactly as written here.

A "current" sequence is one that no amendment points to (`Sequence.amends_id`); a current
reflection is a current sequence of kind `reflection`.

1. Activity analysis recorded: `protocol.activity_analysis` is not blank (whitespace only
   counts as blank).
2. Tutor designated before the first sequence: at least one `ProtocolTutor` row exists for the
   protocol, and every current sequence has `occurred_at >= min(ProtocolTutor.designated_at)`
   over the protocol's tutors. Each sequence dated before is flagged.
3. Reflexive phases: every current situation is analysed by at least one current reflection
   (a `ReflectionSituation` row whose reflection is current). A situation not analysed is
   flagged when more than REFLECTION_MAX_DAYS days have passed since it occurred (the
   condition fails); a situation not analysed but still within that window is "pending", not
   failed. A situation analysed later than REFLECTION_MAX_DAYS days is flagged as late (the
   condition is still met). The window is lengthened by every pause of the protocol that
   overlaps it, and frozen while a pause is open (afest.protocols.pauses.deadline): a
   situation whose window a pause froze or lengthened is pending until the lengthened end.
   Pending is not met, as on the dashboards, whose condition 3 (every situation analysed)
   has no window: pauses never move it. A protocol with no current situation has had no
   reflexive phase: not met — "not yet met" until it ends, failed once completed or stopped.
4. Evaluations: at least one current `Evaluation` (no amendment points to it) carries the
   tutor's signature (`Signature` of kind `evaluation`, role `tutor`). The learner's
   countersignature is not required: the evaluation is the designated tutor's act, which the
   tutor's signature attests (as completing a protocol requires of the final one); the
   learner acknowledges it, and a learner who has left or will not countersign cannot undo
   an evaluation that took place. An evaluation written but not signed by the tutor counts
   as none. A protocol not yet ended (draft, awaiting signatures, in progress) with none is
   "not yet met"; a completed or stopped one with none fails.

A condition is met only when its state is MET; PENDING and NOT_YET are not met. A protocol is
"at risk" when any condition is FAILED.

Practice warnings (not conditions): a cycle (a situation plus the duration of its first
reflection) shorter than CYCLE_MIN_MINUTES; current sequences missing the tutor's or the
learner's signature; hours done against hours planned, when they differ by more than
HOURS_MARGIN_PERCENT of the plan. The hours done are those an OPCO can be shown: the
durations of the current sequences signed by both the tutor and the learner. More than the
plan plus the margin is flagged at any time; less than the plan minus the margin only once
the protocol has ended or its planned end has passed (before, it is on its way).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from afest.core.http import format_minutes
from afest.models import Protocol, ProtocolStatus, SequenceKind, SignerRole, utcnow
from afest.protocols import evidence
from afest.protocols.pauses import deadline

ENDED = (ProtocolStatus.COMPLETED, ProtocolStatus.STOPPED)


class State(enum.StrEnum):
    MET = "met"
    FAILED = "failed"
    PENDING = "pending"  # condition 3: a situation still within the reflection window
    NOT_YET = "not_yet"  # conditions 3, 4: a protocol not ended with no situation, evaluation


STATE_LABELS = {
    State.MET: _l("Remplie"),
    State.FAILED: _l("Non remplie"),
    State.PENDING: _l("En attente"),
    State.NOT_YET: _l("Pas encore remplie"),
}


@dataclass(frozen=True)
class Settings:
    reflection_max_days: int = 7
    cycle_min_minutes: int = 210
    hours_margin_percent: int = 25

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            reflection_max_days=int(config.get("REFLECTION_MAX_DAYS", 7)),
            cycle_min_minutes=int(config.get("CYCLE_MIN_MINUTES", 210)),
            hours_margin_percent=int(config.get("HOURS_MARGIN_PERCENT", 25)),
        )


@dataclass(frozen=True)
class Fix:
    """Where a problem is fixed: an endpoint, its URL values and an optional anchor."""

    endpoint: str
    values: dict[str, str]
    anchor: str = ""
    label: Any = ""
    # The afest.policy predicate (actor, protocol) the link needs; None: anyone in scope.
    require: str | None = None


@dataclass
class Item:
    number: int  # 1..4 for conditions, 0 for practice warnings
    key: str
    title: Any
    state: State
    problems: list[Any] = field(default_factory=list)
    fix: Fix | None = None

    @property
    def met(self) -> bool:
        return self.state == State.MET


@dataclass
class Checklist:
    protocol_id: int
    conditions: list[Item]
    warnings: list[Item]
    flagged_sequences: dict[int, list[Any]] = field(default_factory=dict)
    pauses: list[evidence.PauseFacts] = field(default_factory=list)  # in order, UTC

    @property
    def open_pause(self) -> evidence.PauseFacts | None:
        """The pause not resumed yet: the protocol is paused since its start."""
        return next((p for p in self.pauses if p.resumed_at is None), None)

    @property
    def all_met(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def at_risk(self) -> bool:
        return any(c.state == State.FAILED for c in self.conditions)

    def condition(self, number: int) -> Item:
        return self.conditions[number - 1]


def _show(protocol: Protocol, anchor: str = "") -> Fix:
    return Fix("protocols.show", {"public_id": protocol.public_id}, anchor)


def _sequence(seq: evidence.SequenceFacts) -> Fix:
    """A sequence's page, where it is signed or corrected by an amendment."""
    return Fix("sequences.show", {"public_id": seq.public_id}, "", _l("Voir la séquence"))


def _tablet(protocol: Protocol) -> Fix:
    """The tutor's page of the learner, where a reflexive sequence is logged."""
    return Fix(
        "tablet.learner",
        {"public_id": protocol.public_id},
        "",
        _l("Saisir la séquence réflexive"),
        "can_use_tablet",
    )


def _condition_1(protocol: Protocol) -> Item:
    item = Item(1, "activity_analysis", _l("Analyse de l'activité de travail"), State.MET)
    if not (protocol.activity_analysis or "").strip():
        item.state = State.FAILED
        item.problems.append(_l("L'analyse de l'activité n'est pas renseignée dans le protocole."))
        item.fix = (
            Fix(
                "protocols.edit",
                {"public_id": protocol.public_id},
                "",
                _l("Compléter"),
                "can_edit_draft",
            )
            if protocol.status == ProtocolStatus.DRAFT
            else Fix("protocols.show", {"public_id": protocol.public_id}, "analyse", _l("Voir"))
        )
    return item


def _aware(value: datetime) -> datetime:
    # Stored values are aware UTC; a naive value (raw SQL, old rows) is read as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _aware_pause(pause: evidence.PauseFacts) -> evidence.PauseFacts:
    resumed = pause.resumed_at
    return replace(
        pause,
        paused_from=_aware(pause.paused_from),
        resumed_at=None if resumed is None else _aware(resumed),
    )


def _condition_2(protocol, first_designation, seqs, flags) -> Item:
    item = Item(2, "tutor", _l("Tuteur·rice désigné·e avant la première séquence"), State.MET)
    if first_designation is None:
        item.state = State.FAILED
        item.problems.append(_l("Aucun·e tuteur·rice n'est désigné·e."))
        item.fix = _show(protocol, "parties")
        return item
    first = _aware(first_designation)
    for seq in seqs:
        if _aware(seq.occurred_at) < first:
            item.state = State.FAILED
            text = _l(
                "Séquence du %(date)s antérieure à la désignation du·de la tuteur·rice "
                "(%(designated)s).",
                date=_aware(seq.occurred_at).strftime("%d/%m/%Y"),
                designated=first.strftime("%d/%m/%Y"),
            )
            item.problems.append(text)
            flags[seq.id].append(text)
            item.fix = item.fix or _sequence(seq)
    return item


def _waiting(day: str, closes: datetime | None, legal: datetime, days: int):
    """What a situation still within its window (maybe moved by a pause) waits for."""
    if closes is None:
        return _l(
            "La mise en situation du %(date)s attend sa séquence réflexive (délai suspendu "
            "pendant la pause).",
            date=day,
        )
    if closes > legal:
        return _l(
            "La mise en situation du %(date)s attend sa séquence réflexive (délai prolongé "
            "par la pause jusqu'au %(until)s).",
            date=day,
            until=closes.strftime("%d/%m/%Y"),
        )
    return _l(
        "La mise en situation du %(date)s attend sa séquence réflexive (dans les %(days)s jours).",
        date=day,
        days=days,
    )


def _condition_3(protocol, seqs, pauses, now, settings, flags, warnings) -> Item:
    item = Item(3, "reflection", _l("Phases réflexives après chaque mise en situation"), State.MET)
    window = timedelta(days=settings.reflection_max_days)
    pending = False
    for seq in seqs:
        if seq.kind != SequenceKind.SITUATION:
            continue
        when = _aware(seq.occurred_at)
        day = when.strftime("%d/%m/%Y")
        closes = deadline(when, window, pauses)
        if not seq.reflections:
            if closes is not None and now > closes:
                item.state = State.FAILED
                text = _l(
                    "La mise en situation du %(date)s n'a été suivie d'aucune séquence "
                    "réflexive (plus de %(days)s jours).",
                    date=day,
                    days=settings.reflection_max_days,
                )
                item.problems.append(text)
                flags[seq.id].append(text)
            else:
                pending = True
                item.problems.append(
                    _waiting(day, closes, when + window, settings.reflection_max_days)
                )
            item.fix = item.fix or _tablet(protocol)
        elif closes is not None and _aware(seq.reflections[0][0]) > closes:
            text = _l(
                "La séquence réflexive sur la mise en situation du %(date)s est venue plus de "
                "%(days)s jours après.",
                date=day,
                days=settings.reflection_max_days,
            )
            flags[seq.id].append(text)
            warnings.append(Item(0, "late_reflection", _l("Réflexion tardive"), State.FAILED))
            warnings[-1].problems.append(text)
            warnings[-1].fix = _sequence(seq)
    if pending and item.state == State.MET:
        item.state = State.PENDING
    if not any(seq.kind == SequenceKind.SITUATION for seq in seqs):
        item.state = State.FAILED if protocol.status in ENDED else State.NOT_YET
        item.problems.append(_l("Aucune mise en situation n'est enregistrée."))
        if protocol.status == ProtocolStatus.IN_PROGRESS:
            item.fix = Fix(
                "tablet.learner",
                {"public_id": protocol.public_id},
                "",
                _l("Saisir une mise en situation"),
                "can_use_tablet",
            )
    return item


def _condition_4(protocol: Protocol, facts: evidence.EvaluationFacts | None) -> Item:
    item = Item(4, "evaluation", _l("Évaluations des acquis"), State.MET)
    if facts is not None and facts.signed:
        return item
    item.state = State.FAILED if protocol.status in ENDED else State.NOT_YET
    if facts is not None and facts.unsigned_id:
        item.problems.append(
            _l(
                "%(n)s évaluation(s) enregistrée(s), aucune signée par le·la tuteur·rice.",
                n=facts.count,
            )
        )
        item.fix = Fix(
            "evaluations.show", {"public_id": facts.unsigned_id}, "", _l("Voir l'évaluation")
        )
        return item
    item.problems.append(_l("Aucune évaluation n'est enregistrée."))
    if protocol.status == ProtocolStatus.IN_PROGRESS:
        item.fix = Fix(
            "evaluations.new", {"public_id": protocol.public_id}, "", _l("Évaluer"), "can_evaluate"
        )
    else:
        item.fix = _show(protocol, "evaluations")
    return item


def _practice(protocol, seqs, settings, now, warnings) -> None:
    short = [
        s
        for s in seqs
        if s.kind == SequenceKind.SITUATION
        and s.reflections
        and s.duration_minutes + s.reflections[0][1] < settings.cycle_min_minutes
    ]
    if short:
        item = Item(0, "short_cycle", _l("Cycles courts"), State.FAILED)
        for s in short:
            item.problems.append(
                _l(
                    "Le cycle du %(date)s dure %(minutes)s min (moins de %(min)s min).",
                    date=_aware(s.occurred_at).strftime("%d/%m/%Y"),
                    minutes=s.duration_minutes + s.reflections[0][1],
                    min=settings.cycle_min_minutes,
                )
            )
        item.fix = _sequence(short[0])
        warnings.append(item)
    unsigned = [s for s in seqs if not {"tutor", "learner"} <= s.signed]
    if unsigned:
        item = Item(0, "unsigned", _l("Séquences non signées"), State.FAILED)
        item.problems.append(
            _l(
                "%(n)s séquence(s) sans la signature du·de la tuteur·rice ou de l'apprenant·e.",
                n=len(unsigned),
            )
        )
        item.fix = _sequence(unsigned[0])
        warnings.append(item)
    _hours(protocol, seqs, settings, now, warnings)


# Who must have signed a sequence for its hours to count as done (this panel's hours, the
# certificat de réalisation's: afest.proof.proofpack).
HOURS_SIGNERS = frozenset({str(SignerRole.TUTOR), str(SignerRole.LEARNER)})


def minutes_done(seqs: Iterable[evidence.SequenceFacts]) -> int:
    """The hours done of a protocol's current sequences: those signed by both HOURS_SIGNERS
    (the certificat de réalisation's, afest.proof.certificates.minutes_certified)."""
    return sum(s.duration_minutes for s in seqs if s.signed >= HOURS_SIGNERS)


def _hours(protocol, seqs, settings, now, warnings) -> None:
    """Hours done (signed by both) far from the hours planned: above at any time, below once
    the protocol has ended or its planned end has passed."""
    planned = protocol.planned_minutes
    if not planned:
        return
    done = minutes_done(seqs)
    margin = planned * settings.hours_margin_percent / 100
    ended = protocol.status in ENDED or protocol.planned_end < now.date()
    if done > planned + margin or (ended and done < planned - margin):
        item = Item(0, "hours", _l("Heures réalisées / prévues"), State.FAILED)
        item.problems.append(
            _l(
                "%(done)s réalisées et signées pour %(planned)s prévues : un écart de plus de "
                "%(margin)s %%.",
                done=format_minutes(done),
                planned=format_minutes(planned),
                margin=settings.hours_margin_percent,
            )
        )
        item.fix = _show(protocol, "heures")
        warnings.append(item)


def check_many(
    session: Session,
    protocols: Iterable[Protocol],
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    facts: tuple | None = None,
) -> dict[int, Checklist]:
    """The checklist of each protocol, in a fixed number of queries whatever their number;
    `facts`: what evidence.gather already read of them (a caller that needs it too)."""
    protocols = list(protocols)
    if not protocols:
        return {}
    settings = settings or Settings()
    now = now or utcnow()
    designated, evaluations, by_protocol, paused = facts or evidence.gather(
        session, [p.id for p in protocols]
    )
    result = {}
    for protocol in protocols:
        seqs = by_protocol.get(protocol.id, [])
        pauses = [_aware_pause(p) for p in paused.get(protocol.id, [])]
        flags: dict[int, list[Any]] = defaultdict(list)
        warnings: list[Item] = []
        conditions = [
            _condition_1(protocol),
            _condition_2(protocol, designated.get(protocol.id), seqs, flags),
            _condition_3(protocol, seqs, pauses, now, settings, flags, warnings),
            _condition_4(protocol, evaluations.get(protocol.id)),
        ]
        _practice(protocol, seqs, settings, now, warnings)
        result[protocol.id] = Checklist(protocol.id, conditions, warnings, dict(flags), pauses)
    return result


def check(
    session: Session,
    protocol: Protocol,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Checklist:
    """The checklist of one protocol: the four conditions, then the practice warnings."""
    return check_many(session, [protocol], settings=settings, now=now)[protocol.id]
