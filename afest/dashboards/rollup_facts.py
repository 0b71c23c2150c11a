"""The facts behind the dashboard rollups: one SQL query per kind, for one protocol or all.

`protocol_facts()` computes, for every protocol, its dimensions and what it adds to each
measure; `protocol_facts(True)` the same for the protocols in the `ids` parameter. The full
rebuild and the upkeep on write run the very same statement, so they cannot disagree.

The four legal conditions (D6313-3-2), with the exact definitions of
afest/protocols/compliance.py:
1. `activity_analysis` is not blank (whitespace only is blank);
2. at least one tutor is designated, and every current sequence occurred at or after the
   earliest `designated_at` among the protocol's tutors;
3. at least one current situation exists, and every current situation is analysed by at
   least one current reflection (no window: a situation still within its window,
   lengthened or frozen by a pause or not, is "pending" on the compliance panel, and pending
   is not met there either — so pauses change nothing here);
4. at least one current evaluation carries the tutor's signature (the learner's
   countersignature is not required).
`paused`: the protocol is in progress and has a pause not resumed yet.
"Current" means not amended (no sequence's `amends_id` points to it). "Acquired" means the
latest assessed level (highest assessment id, as on the protocol page) has `Level.acquired`.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy import and_, case, exists, func, literal_column, select
from sqlalchemy.orm import aliased

from afest.models import (
    CompetenceAssessment,
    Evaluation,
    Level,
    Organisation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolPause,
    ProtocolStatus,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
    VaeMilestone,
    VaePathway,
    VaeState,
)
from afest.models.rollup import JURY_KEYS, STATUS_KEYS

CONDITION_NAMES = ("cond_analysis", "cond_tutor", "cond_reflection", "cond_evaluation")
STATUS_OF = dict(
    zip(
        ("draft", "awaiting_signatures", "in_progress", "completed", "stopped"),
        STATUS_KEYS,
        strict=True,
    )
)


def _month(column) -> sa.ColumnElement[int]:
    return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)


def _flag(condition) -> sa.ColumnElement[int]:
    return case((condition, 1), else_=0)


def _current(seq):
    newer = aliased(Sequence)
    return ~exists().where(newer.amends_id == seq.id)


# Fact queries are built once (building them costs far more than running them for one
# protocol) and take the ids to restrict to as an expanding parameter.
IDS = sa.bindparam("ids", expanding=True)


def _limit(query, column, filtered: bool):
    return query.where(column.in_(IDS)) if filtered else query


# --- facts: the same SQL for one protocol and for all of them -------------------------------


@cache
def block_facts(filtered: bool = False):
    """Per protocol and block: competences targeted, and acquired (latest level acquired)."""
    ca, pc = CompetenceAssessment, ProtocolCompetence
    latest = _limit(
        select(ca.protocol_id, ca.competence_id, func.max(ca.id).label("last_id")).group_by(
            ca.protocol_id, ca.competence_id
        ),
        ca.protocol_id,
        filtered,
    ).subquery()
    last = aliased(CompetenceAssessment)
    query = (
        select(
            pc.protocol_id,
            pc.block_id,
            func.count().label("targeted"),
            func.coalesce(func.sum(_flag(Level.acquired)), 0).label("acquired"),
        )
        .select_from(pc)
        .outerjoin(
            latest,
            and_(
                latest.c.protocol_id == pc.protocol_id, latest.c.competence_id == pc.competence_id
            ),
        )
        .outerjoin(last, last.id == latest.c.last_id)
        .outerjoin(Level, Level.id == last.level_id)
        .group_by(pc.protocol_id, pc.block_id)
    )
    return _limit(query, pc.protocol_id, filtered)


def _blockset(blocks) -> sa.ColumnElement[str]:
    """On each block row of a protocol, the ids of all its blocks in increasing order,
    comma-separated: a string aggregate over the protocol's rows as a window ordered by
    block, which orders on every engine (an aggregate's own ORDER BY needs SQLite 3.44)."""
    return func.aggregate_strings(sa.cast(blocks.c.block_id, sa.String), ",").over(
        partition_by=blocks.c.protocol_id, order_by=blocks.c.block_id, rows=(None, None)
    )


@cache
def protocol_facts(filtered: bool = False):
    """Per protocol: its dimensions and what it adds to each measure of the cells."""
    p = Protocol
    blocks = block_facts(filtered).subquery()
    ordered = select(blocks, _blockset(blocks).label("blockset")).subquery()
    scope = (
        select(
            ordered.c.protocol_id,
            func.sum(ordered.c.targeted).label("targeted"),
            func.sum(ordered.c.acquired).label("acquired"),
            func.min(ordered.c.blockset).label("blockset"),  # the same on each of its rows
        )
        .group_by(ordered.c.protocol_id)
        .subquery()
    )
    s1 = aliased(Sequence)
    done = _limit(
        select(
            s1.protocol_id,
            func.count().label("n"),
            func.sum(s1.duration_minutes).label("minutes"),
        )
        .where(_current(s1))
        .group_by(s1.protocol_id),
        s1.protocol_id,
        filtered,
    ).subquery()
    plan = _limit(
        select(PlannedSequence.protocol_id, func.count().label("n")).group_by(
            PlannedSequence.protocol_id
        ),
        PlannedSequence.protocol_id,
        filtered,
    ).subquery()
    tutors = _limit(
        select(
            ProtocolTutor.protocol_id, func.min(ProtocolTutor.designated_at).label("first")
        ).group_by(ProtocolTutor.protocol_id),
        ProtocolTutor.protocol_id,
        filtered,
    ).subquery()
    s2 = aliased(Sequence)
    early = _limit(
        select(s2.protocol_id, func.count().label("n"))
        .join(tutors, tutors.c.protocol_id == s2.protocol_id)
        .where(_current(s2), s2.occurred_at < tutors.c.first)
        .group_by(s2.protocol_id),
        s2.protocol_id,
        filtered,
    ).subquery()
    s3, refl = aliased(Sequence), aliased(Sequence)
    analysed = (
        select(ReflectionSituation.situation_id)
        .join(refl, refl.id == ReflectionSituation.reflection_id)
        .where(ReflectionSituation.situation_id == s3.id, _current(refl))
    )
    situations = _limit(
        select(
            s3.protocol_id,
            func.count().label("n"),
            func.sum(_flag(~analysed.exists())).label("orphans"),
        )
        .where(s3.kind == SequenceKind.SITUATION, _current(s3))
        .group_by(s3.protocol_id),
        s3.protocol_id,
        filtered,
    ).subquery()
    newer_eval = aliased(Evaluation)
    evals = _limit(
        select(Evaluation.protocol_id, func.count().label("n"))
        .where(
            ~exists().where(newer_eval.amends_id == Evaluation.id),
            exists().where(
                Signature.subject_kind == SignedKind.EVALUATION,
                Signature.subject_id == Evaluation.id,
                Signature.signer_role == SignerRole.TUTOR,
            ),
        )
        .group_by(Evaluation.protocol_id),
        Evaluation.protocol_id,
        filtered,
    ).subquery()
    p2 = aliased(Protocol)
    latest = select(p2.learner_id, func.max(p2.id).label("last_id")).group_by(p2.learner_id)
    if filtered:
        latest = latest.where(
            p2.learner_id.in_(select(Protocol.learner_id).where(Protocol.id.in_(IDS)))
        )
    latest = latest.subquery()

    analysis = func.trim(
        func.replace(
            func.replace(func.replace(p.activity_analysis, "\t", " "), "\n", " "), "\r", " "
        )
    )
    conditions = (
        analysis != "",
        and_(tutors.c.first.is_not(None), func.coalesce(early.c.n, 0) == 0),
        and_(func.coalesce(situations.c.n, 0) > 0, situations.c.orphans == 0),
        func.coalesce(evals.c.n, 0) > 0,
    )
    is_latest = latest.c.last_id == p.id
    paused = exists().where(ProtocolPause.protocol_id == p.id, ProtocolPause.resumed_at.is_(None))
    query = (
        select(
            p.id.label("protocol_id"),
            func.coalesce(p.funder_id, 0).label("funder_id"),
            func.coalesce(p.cohort_id, 0).label("cohort_id"),
            p.structure_id,
            func.coalesce(Organisation.departement, "").label("departement"),
            p.referential_id,
            _month(p.planned_start).label("month"),
            p.learner_id,
            p.status,
            func.coalesce(scope.c.blockset, "").label("blockset"),
            _flag(is_latest).label("learners"),
            *(
                _flag(and_(is_latest, p.status == value)).label(f"l_{key}")
                for value, key in STATUS_OF.items()
            ),
            literal_column("1").label("protocols"),
            *(_flag(p.status == value).label(f"p_{key}") for value, key in STATUS_OF.items()),
            _flag(and_(p.status == ProtocolStatus.IN_PROGRESS, paused)).label("paused"),
            func.coalesce(scope.c.targeted, 0).label("targeted"),
            func.coalesce(scope.c.acquired, 0).label("acquired"),
            func.coalesce(plan.c.n, 0).label("planned_sequences"),
            p.planned_minutes.label("planned_minutes"),
            func.coalesce(done.c.n, 0).label("done_sequences"),
            func.coalesce(done.c.minutes, 0).label("done_minutes"),
            *(
                _flag(condition).label(name)
                for name, condition in zip(CONDITION_NAMES, conditions, strict=True)
            ),
            _flag(and_(*conditions)).label("compliant"),
            *(
                _flag(and_(is_latest, condition)).label(f"l_{name}")
                for name, condition in zip(CONDITION_NAMES, conditions, strict=True)
            ),
        )
        .select_from(p)
        .join(Organisation, Organisation.id == p.structure_id)
        .outerjoin(scope, scope.c.protocol_id == p.id)
        .outerjoin(done, done.c.protocol_id == p.id)
        .outerjoin(plan, plan.c.protocol_id == p.id)
        .outerjoin(tutors, tutors.c.protocol_id == p.id)
        .outerjoin(early, early.c.protocol_id == p.id)
        .outerjoin(situations, situations.c.protocol_id == p.id)
        .outerjoin(evals, evals.c.protocol_id == p.id)
        .outerjoin(latest, latest.c.learner_id == p.learner_id)
    )
    return _limit(query, p.id, filtered)


@cache
def pathway_facts(filtered: bool = False):
    """Per VAE pathway: its dimensions, the milestones it reached and its jury result."""
    vp, vm = VaePathway, VaeMilestone
    reached = _limit(
        select(
            vm.pathway_id,
            func.min(vm.occurred_on).label("first_on"),
            *(func.max(_flag(vm.state == s)).label(f"r_{s.value}") for s in VaeState),
        ).group_by(vm.pathway_id),
        vm.pathway_id,
        filtered,
    ).subquery()
    query = (
        select(
            vp.id.label("pathway_id"),
            func.coalesce(Organisation.opco_id, 0).label("funder_id"),
            func.coalesce(vp.cohort_id, 0).label("cohort_id"),
            vp.structure_id,
            func.coalesce(Organisation.departement, "").label("departement"),
            vp.referential_id,
            func.coalesce(_month(reached.c.first_on), _month(vp.created_at)).label("month"),
            literal_column("1").label("pathways"),
            *(func.coalesce(reached.c[f"r_{s.value}"], 0).label(f"r_{s.value}") for s in VaeState),
            *(_flag(vp.jury_result == r).label(f"jury_{r}") for r in JURY_KEYS),
        )
        .select_from(vp)
        .join(Organisation, Organisation.id == vp.structure_id)
        .outerjoin(reached, reached.c.pathway_id == vp.id)
    )
    return _limit(query, vp.id, filtered)
