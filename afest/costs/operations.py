"""The writes of the costs, by a manager of the structure, each audited: hourly costs added,
ended or removed (the periods of one person, or of one default, never overlap), other costs
of a protocol added or removed, the tutor's time on an evaluation declared.

None of these is a signed record: the statement of expenses is computed from them when it
is exported, and the audit log keeps what each was before a change."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.accounts.operations import roles_of
from afest.core import audit, clock
from afest.core.errors import ServiceError
from afest.costs import money
from afest.costs.queries import COSTED_ROLES, current_evaluations
from afest.models import (
    CostRole,
    EvaluationTime,
    HourlyCost,
    Organisation,
    OtherCost,
    OtherCostKind,
    Protocol,
    Role,
    RoleAssignment,
    utcnow,
)

MAX_CENTS_PER_HOUR = 50_000  # 500 € an hour: beyond, a slip of the keyboard
MAX_AMOUNT_CENTS = 100_000_000  # 1,000,000 €
MAX_EVALUATION_MINUTES = 720
LABEL_MAX = 200
VOUCHER_MAX = 100


def _shown(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _require_manager(session: Session, actor_id: int, structure_id: int) -> None:
    managers = {
        a.organisation_id for a in roles_of(session, user_id=actor_id) if a.role == Role.MANAGER
    }
    if structure_id not in managers:
        raise ServiceError(_l("Seule la direction de la structure gère ses coûts."))


def _lock(session: Session, structure_id: int) -> None:
    """Two managers adding costs to one structure take turns (PostgreSQL; SQLite has one
    writer at a time), so that both cannot pass the overlap check with overlapping rows."""
    session.exec(
        select(Organisation.id).where(Organisation.id == structure_id).with_for_update()
    ).one()


# --- hourly costs -------------------------------------------------------------------------


def _state(cost: HourlyCost) -> dict[str, Any]:
    return {
        "user_id": cost.user_id,
        "role": cost.role,
        "valid_from": cost.valid_from,
        "valid_to": cost.valid_to,
        "cents_per_hour": cost.cents_per_hour,
    }


def _record(session, actor_id, action: str, cost: HourlyCost, before, after) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_kind="hourlycost",
        subject_id=cost.id,
        structure_id=cost.structure_id,
        before=before,
        after=after,
    )


def _period_text(cost: HourlyCost) -> str:
    if cost.valid_to is None:
        return str(_l("à partir du %(start)s", start=_shown(cost.valid_from)))
    return str(
        _l("du %(start)s au %(end)s", start=_shown(cost.valid_from), end=_shown(cost.valid_to))
    )


def _check_overlap(session: Session, cost: HourlyCost, *, field: str) -> None:
    """Refuse a period of one person (or one default) that overlaps another of hers."""
    query = select(HourlyCost).where(
        HourlyCost.structure_id == cost.structure_id,
        HourlyCost.valid_to.is_(None) | (HourlyCost.valid_to >= cost.valid_from),
    )
    if cost.valid_to is not None:
        query = query.where(HourlyCost.valid_from <= cost.valid_to)
    if cost.id is not None:
        query = query.where(HourlyCost.id != cost.id)
    if cost.user_id is not None:
        query = query.where(HourlyCost.user_id == cost.user_id)
    else:
        query = query.where(HourlyCost.user_id.is_(None), HourlyCost.role == cost.role)
    other = session.exec(query.order_by(HourlyCost.valid_from)).first()
    if other is not None:
        raise ServiceError(
            _l(
                "Cette période chevauche le coût de %(amount)s de l'heure %(period)s : "
                "terminez-le d'abord, ou choisissez d'autres dates.",
                amount=money.shown(other.cents_per_hour),
                period=_period_text(other),
            ),
            field=field,
        )


def _check_person(session: Session, structure_id: int, user_id: int) -> None:
    found = session.exec(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.organisation_id == structure_id,
            RoleAssignment.role.in_(COSTED_ROLES),
        )
    ).first()
    if found is None:
        raise ServiceError(
            _l("Choisissez un·e apprenant·e ou un·e tuteur·rice de la structure."), field="who"
        )


def _check_rate(cents_per_hour: int, valid_from: date, valid_to: date | None) -> None:
    if not 0 < cents_per_hour <= MAX_CENTS_PER_HOUR:
        raise ServiceError(_l("Un coût horaire de 0,01 € à 500,00 €."), field="cents_per_hour")
    if valid_to is not None and valid_to < valid_from:
        raise ServiceError(
            _l("La fin de validité ne peut pas précéder son début."), field="valid_to"
        )


def add_hourly_cost(
    session: Session,
    *,
    actor_id: int,
    structure: Organisation,
    user_id: int | None,
    role: CostRole | None,
    valid_from: date,
    valid_to: date | None,
    cents_per_hour: int,
) -> HourlyCost:
    """The hourly cost of a person of the structure (`user_id`), or its default for a role
    (`role`, no person), valid from `valid_from` to `valid_to` included (open if None)."""
    _require_manager(session, actor_id, structure.id)
    if (user_id is None) == (role is None):
        raise ServiceError(_l("Choisissez une personne ou un coût par défaut."), field="who")
    if user_id is not None:
        _check_person(session, structure.id, user_id)
    _check_rate(cents_per_hour, valid_from, valid_to)
    _lock(session, structure.id)
    cost = HourlyCost(
        structure_id=structure.id,
        user_id=user_id,
        role=role,
        valid_from=valid_from,
        valid_to=valid_to,
        cents_per_hour=cents_per_hour,
        created_by_id=actor_id,
    )
    _check_overlap(session, cost, field="valid_from")
    session.add(cost)
    session.flush()
    _record(session, actor_id, "hourlycost.add", cost, None, _state(cost))
    return cost


def end_hourly_cost(
    session: Session, *, actor_id: int, structure: Organisation, cost: HourlyCost, valid_to: date
) -> HourlyCost:
    """The last day an hourly cost is valid (its start at the earliest)."""
    _require_manager(session, actor_id, structure.id)
    if cost.structure_id != structure.id:
        raise ServiceError(_l("Ce coût n'est pas celui de cette structure."))
    if valid_to < cost.valid_from:
        raise ServiceError(
            _l(
                "La fin de validité ne peut pas précéder son début (%(d)s).",
                d=_shown(cost.valid_from),
            ),
            field="valid_to",
        )
    _lock(session, structure.id)
    before = _state(cost)
    cost.valid_to = valid_to
    _check_overlap(session, cost, field="valid_to")  # a later end may reach the next period
    session.add(cost)
    session.flush()
    _record(session, actor_id, "hourlycost.end", cost, before, _state(cost))
    return cost


def remove_hourly_cost(
    session: Session, *, actor_id: int, structure: Organisation, cost: HourlyCost
) -> None:
    """Remove an hourly cost entered by mistake (the audit log keeps what it was)."""
    _require_manager(session, actor_id, structure.id)
    if cost.structure_id != structure.id:
        raise ServiceError(_l("Ce coût n'est pas celui de cette structure."))
    before = _state(cost)
    _record(session, actor_id, "hourlycost.remove", cost, before, None)
    session.delete(cost)
    session.flush()


# --- a protocol's other costs and evaluation times -----------------------------------------


def _other_state(cost: OtherCost) -> dict[str, Any]:
    return {
        "kind": cost.kind,
        "label": cost.label,
        "amount_cents": cost.amount_cents,
        "spent_on": cost.spent_on,
        "voucher": cost.voucher,
    }


def _record_protocol(
    session, actor_id, protocol: Protocol, action, kind, subject_id, before, after
):
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_kind=kind,
        subject_id=subject_id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before=before,
        after=after,
    )


def add_other_cost(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    kind: OtherCostKind,
    label: str,
    amount_cents: int,
    spent_on: date,
    voucher: str = "",
    today: date | None = None,
) -> OtherCost:
    """Another cost of the protocol: its nature, what it is, its amount, its day (today at
    the latest, in the platform's time zone unless given) and the reference of its
    accounting proof."""
    _require_manager(session, actor_id, protocol.structure_id)
    label, voucher = (label or "").strip(), (voucher or "").strip()
    if not label:
        raise ServiceError(_l("Indiquez ce que couvre ce coût."), field="label")
    if len(label) > LABEL_MAX:
        raise ServiceError(_l("200 caractères au plus."), field="label")
    if len(voucher) > VOUCHER_MAX:
        raise ServiceError(_l("100 caractères au plus."), field="voucher")
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise ServiceError(_l("Un montant de 0,01 € à 1 000 000,00 €."), field="amount_cents")
    if spent_on > (today or clock.today()):
        raise ServiceError(
            _l("Cette date n'est pas encore arrivée : aujourd'hui au plus tard."), field="spent_on"
        )
    cost = OtherCost(
        protocol_id=protocol.id,
        kind=OtherCostKind(kind),
        label=label,
        amount_cents=amount_cents,
        spent_on=spent_on,
        voucher=voucher,
        created_by_id=actor_id,
    )
    session.add(cost)
    session.flush()
    _record_protocol(
        session, actor_id, protocol, "othercost.add", "othercost", cost.id, None, _other_state(cost)
    )
    return cost


def remove_other_cost(
    session: Session, *, actor_id: int, protocol: Protocol, cost: OtherCost
) -> None:
    """Remove another cost of the protocol (the audit log keeps what it was)."""
    _require_manager(session, actor_id, protocol.structure_id)
    if cost.protocol_id != protocol.id:
        raise ServiceError(_l("Ce coût n'est pas celui de ce protocole."))
    before = _other_state(cost)
    _record_protocol(
        session, actor_id, protocol, "othercost.remove", "othercost", cost.id, before, None
    )
    session.delete(cost)
    session.flush()


def declare_evaluation_time(
    session: Session, *, actor_id: int, protocol: Protocol, evaluation_id: int, minutes: int
) -> EvaluationTime:
    """The tutor's time on a current evaluation of the protocol, declared or declared again."""
    _require_manager(session, actor_id, protocol.structure_id)
    if evaluation_id not in {t.evaluation.id for t in current_evaluations(session, protocol.id)}:
        raise ServiceError(
            _l("Choisissez une évaluation en vigueur de ce protocole."), field="evaluation"
        )
    if not 1 <= minutes <= MAX_EVALUATION_MINUTES:
        raise ServiceError(_l("De 1 à 720 minutes."), field="minutes")
    row = session.exec(
        select(EvaluationTime).where(EvaluationTime.evaluation_id == evaluation_id)
    ).first()
    before = None if row is None else {"minutes": row.minutes}
    if row is None:
        row = EvaluationTime(
            protocol_id=protocol.id,
            evaluation_id=evaluation_id,
            minutes=minutes,
            declared_by_id=actor_id,
        )
    else:
        row.minutes, row.declared_by_id, row.declared_at = minutes, actor_id, utcnow()
    session.add(row)
    session.flush()
    _record_protocol(
        session,
        actor_id,
        protocol,
        "evaluationtime.declare",
        "evaluation",
        evaluation_id,
        before,
        {"minutes": minutes},
    )
    return row
