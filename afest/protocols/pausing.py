"""Pausing and resuming a protocol in progress (the learner's sick leave, the tutor's absence),
by a manager of its structure; afest.protocols.pauses says how a pause moves the deadlines.

Dates are days of the platform's time zone (TIMEZONE), stored as UTC instants:

- a pause from day D starts at D 00:00 local time;
- a resumption on day R ends the pause at R 00:00 local time, today included: the day of
  return is a working day, and the windows a pause lengthens do not depend on the hour at
  which the manager recorded the return.

So a pause covers whole days, from its first day to the eve of the return. It starts no
earlier than the protocol (its planned start, or its signature if earlier) and no later than
today; the return is dated between the pause's first day and today. At most one pause
is open at a time, and pauses do not overlap (a new one starts no earlier than the day the
last one ended). Stopping a paused protocol ends its pause (`end_on_stop`); closing it is
refused while it is paused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.accounts.operations import roles_of
from afest.core import audit, clock
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import Protocol, ProtocolPause, ProtocolStatus, Role, utcnow

REASON_MAX = 2000


def start_of(day: date, zone: tzinfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def day_of(moment: datetime, zone: tzinfo) -> date:
    """The day of `zone` in which a stored (UTC) instant falls."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def _shown(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def open_pause(session: Session, protocol_id: int) -> ProtocolPause | None:
    """The protocol's pause not resumed yet, if any."""
    return session.exec(
        select(ProtocolPause).where(
            ProtocolPause.protocol_id == protocol_id, ProtocolPause.resumed_at.is_(None)
        )
    ).first()


def _last_resumed(session: Session, protocol_id: int) -> datetime | None:
    return session.exec(
        select(ProtocolPause.resumed_at)
        .where(ProtocolPause.protocol_id == protocol_id, ProtocolPause.resumed_at.is_not(None))
        .order_by(ProtocolPause.resumed_at.desc())
    ).first()


def _require_manager_in_progress(session: Session, actor_id: int, protocol: Protocol) -> None:
    managers = {
        a.organisation_id for a in roles_of(session, user_id=actor_id) if a.role == Role.MANAGER
    }
    if protocol.structure_id not in managers:
        raise ServiceError(_l("Seule la direction de la structure peut suspendre ce protocole."))
    if protocol.status != ProtocolStatus.IN_PROGRESS:
        raise ServiceError(_l("Seul un protocole en cours peut être mis en pause ou repris."))


def _check_start(session, protocol: Protocol, paused_from: date, today: date, zone) -> None:
    if paused_from > today:
        raise ServiceError(
            _l("La pause ne peut pas commencer après aujourd'hui."), field="paused_from"
        )
    # the first day a sequence of the protocol may be dated (its planned start), or the day
    # it was signed if that came first
    started = min(protocol.planned_start, day_of(protocol.started_at or utcnow(), zone))
    if paused_from < started:
        raise ServiceError(
            _l(
                "La pause ne peut pas commencer avant le début du protocole (%(d)s).",
                d=_shown(started),
            ),
            field="paused_from",
        )
    last = _last_resumed(session, protocol.id)
    if last is not None and paused_from < day_of(last, zone):
        raise ServiceError(
            _l(
                "La pause ne peut pas commencer avant la reprise précédente (%(d)s).",
                d=_shown(day_of(last, zone)),
            ),
            field="paused_from",
        )


def pause(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    paused_from: date,
    planned_until: date | None,
    reason: str,
    zone: tzinfo | None = None,
) -> ProtocolPause:
    """Put a protocol in progress on hold from the start of `paused_from` (a day of the
    platform's time zone), with a reason and an optional expected return."""
    zone = zone or clock.zone()
    _require_manager_in_progress(session, actor_id, protocol)
    if open_pause(session, protocol.id) is not None:
        raise ServiceError(_l("Ce protocole est déjà en pause."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_l("Indiquez le motif de la pause."), field="reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(_l("2000 caractères au plus."), field="reason")
    _check_start(session, protocol, paused_from, utcnow().astimezone(zone).date(), zone)
    if planned_until is not None and planned_until <= paused_from:
        raise ServiceError(
            _l("La reprise prévue doit suivre le début de la pause."), field="planned_until"
        )
    row = ProtocolPause(
        protocol_id=protocol.id,
        paused_from=start_of(paused_from, zone),
        planned_until=planned_until,
        reason=reason,
        created_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    _record(session, actor_id, protocol, row, "protocol.pause", None, _state(row))
    return row


def resume(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    resumed_on: date,
    zone: tzinfo | None = None,
) -> ProtocolPause:
    """End the protocol's open pause at the start of `resumed_on` (between the pause's first
    day and today, in the platform's time zone)."""
    zone = zone or clock.zone()
    _require_manager_in_progress(session, actor_id, protocol)
    row = open_pause(session, protocol.id)
    if row is None:
        raise ServiceError(_l("Ce protocole n'est pas en pause."))
    first = day_of(row.paused_from, zone)
    if resumed_on < first:
        raise ServiceError(
            _l("La reprise ne peut pas précéder le début de la pause (%(d)s).", d=_shown(first)),
            field="resumed_on",
        )
    if resumed_on > utcnow().astimezone(zone).date():
        raise ServiceError(
            _l("La reprise ne peut pas être datée après aujourd'hui."), field="resumed_on"
        )
    return _end(session, actor_id, protocol, row, start_of(resumed_on, zone))


def end_on_stop(session: Session, *, actor_id: int, protocol: Protocol) -> None:
    """A protocol stopped while paused: its pause ends when it stops (`protocol.ended_at`)."""
    row = open_pause(session, protocol.id)
    if row is not None:
        _end(session, actor_id, protocol, row, protocol.ended_at or utcnow())


def _end(session, actor_id, protocol, row: ProtocolPause, at: datetime) -> ProtocolPause:
    before = _state(row)
    row.resumed_at = at
    row.resumed_by_id = actor_id
    session.add(row)
    session.flush()
    _record(session, actor_id, protocol, row, "protocol.resume", before, _state(row))
    return row


def _state(row: ProtocolPause) -> dict:
    return {
        "paused_from": row.paused_from,
        "planned_until": row.planned_until,
        "reason": row.reason,
        "resumed_at": row.resumed_at,
    }


def _record(session, actor_id, protocol: Protocol, row, action, before, after) -> None:
    rollups.on_protocol_paused(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_kind="protocolpause",
        subject_id=row.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before=before,
        after=after,
    )
