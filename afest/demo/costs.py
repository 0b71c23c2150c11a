"""What the demo structures' AFEST cost them, so that each proof pack shows a statement of
expenses: loaded hourly costs of the home-help association and of the #CARE-SKILLS
structures (the learners' defaults raised on 1 January, as the minimum wage is), a tutor of
her own, the tutor's training and printed materials of two protocols, the tutor's time on each
final evaluation. All of it is entered by each structure's manager through the operations,
when the seed runs (the costs of past days are entered after them), and only once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from afest.costs import operations
from afest.costs.queries import current_evaluations
from afest.demo.people import Ctx
from afest.models import (
    CostRole,
    EvaluationKind,
    HourlyCost,
    Organisation,
    OtherCostKind,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    User,
)

# cents per hour: (learner last year, learner this year, tutor)
HOME_HELP = (1590, 1640, 2180)
CARE = (1910, 1960, 2530)
OWN_TUTOR = ("tuteur@azur-aide.demo", 2310)  # an experienced tutor, paid above the default
HOME_HELP_EVALUATION_MINUTES = 60
CARE_EVALUATION_MINUTES = 90  # the final bilan of a DEAS or DEAES block takes longer


def _manager(ctx: Ctx, structure: Organisation) -> User:
    return ctx.session.exec(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.organisation_id == structure.id, RoleAssignment.role == Role.MANAGER)
        .order_by(User.id)
    ).first()


def _hourly(ctx: Ctx, structure: Organisation, manager: User, rates: tuple[int, int, int]):
    this_year = date(ctx.today.year, 1, 1)
    last_year = date(ctx.today.year - 1, 1, 1)
    learner_before, learner_now, tutor = rates
    rows = (
        (CostRole.LEARNER, last_year, this_year - timedelta(days=1), learner_before),
        (CostRole.LEARNER, this_year, None, learner_now),
        (CostRole.TUTOR, last_year, None, tutor),
    )
    for role, valid_from, valid_to, cents in rows:
        operations.add_hourly_cost(
            ctx.session,
            actor_id=manager.id,
            structure=structure,
            user_id=None,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            cents_per_hour=cents,
        )


def _own_tutor(ctx: Ctx, structure: Organisation, manager: User) -> None:
    email, cents = OWN_TUTOR
    tutor = ctx.session.exec(select(User).where(User.email == email)).one()
    operations.add_hourly_cost(
        ctx.session,
        actor_id=manager.id,
        structure=structure,
        user_id=tutor.id,
        role=None,
        valid_from=date(ctx.today.year - 1, 1, 1),
        valid_to=None,
        cents_per_hour=cents,
    )


def _first_completed(ctx: Ctx, structure: Organisation) -> Protocol | None:
    return ctx.session.exec(
        select(Protocol)
        .where(Protocol.structure_id == structure.id, Protocol.status == ProtocolStatus.COMPLETED)
        .order_by(Protocol.id)
    ).first()


def _other(ctx: Ctx, protocol: Protocol, manager: User, kind, label, cents, days_before, voucher):
    operations.add_other_cost(
        ctx.session,
        actor_id=manager.id,
        protocol=protocol,
        kind=kind,
        label=label,
        amount_cents=cents,
        spent_on=min(protocol.planned_start - timedelta(days=days_before), ctx.today),
        voucher=voucher,
        today=ctx.today,
    )


def _evaluation_times(ctx: Ctx, structure: Organisation, manager: User, minutes: int) -> None:
    protocols = ctx.session.exec(
        select(Protocol).where(
            Protocol.structure_id == structure.id, Protocol.status == ProtocolStatus.COMPLETED
        )
    )
    for protocol in protocols:
        for timed in current_evaluations(ctx.session, protocol.id):
            if timed.evaluation.kind == EvaluationKind.FINAL and timed.minutes is None:
                operations.declare_evaluation_time(
                    ctx.session,
                    actor_id=manager.id,
                    protocol=protocol,
                    evaluation_id=timed.evaluation.id,
                    minutes=minutes,
                )


def _priced(ctx: Ctx, structure: Organisation, rates, minutes: int) -> bool:
    """The hourly costs of one structure and its final evaluations' times, unless it has
    hourly costs already (then False)."""
    if ctx.session.exec(
        select(HourlyCost.id).where(HourlyCost.structure_id == structure.id)
    ).first():
        return False
    manager = _manager(ctx, structure)
    _hourly(ctx, structure, manager, rates)
    _evaluation_times(ctx, structure, manager, minutes)
    return True


def demo_costs(ctx: Ctx) -> None:
    """The costs of every demo structure (one that has some already is left as it is)."""
    s = ctx.session
    azur = s.exec(select(Organisation).where(Organisation.siret == "77568412300018")).first()
    if azur is not None and _priced(ctx, azur, HOME_HELP, HOME_HELP_EVALUATION_MINUTES):
        manager = _manager(ctx, azur)
        _own_tutor(ctx, azur, manager)
        if protocol := _first_completed(ctx, azur):
            label = "Formation de tuteur·rice AFEST, 2 jours (organisme de formation)"
            voucher = f"FA-{protocol.planned_start.year}-0142"
            kind = OtherCostKind.TUTOR_TRAINING
            _other(ctx, protocol, manager, kind, label, 48000, 21, voucher)
    care = s.exec(
        select(Organisation)
        .where(Organisation.siret.like("26130%00017"))
        .order_by(Organisation.siret)
    ).all()
    for k, structure in enumerate(care):
        priced = _priced(ctx, structure, CARE, CARE_EVALUATION_MINUTES)
        if priced and k == 0 and (protocol := _first_completed(ctx, structure)):
            label = "Livrets d'accueil et fiches de séquence réflexive imprimés"
            voucher = f"IMP-{protocol.planned_start:%y%m}-07"
            kind = OtherCostKind.PEDAGOGICAL
            _other(ctx, protocol, _manager(ctx, structure), kind, label, 3840, 5, voucher)
