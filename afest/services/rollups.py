"""Keep the dashboard rollups current on write, and rebuild them from scratch.

Every write that changes what a protocol or a VAE pathway contributes to the dashboards calls
one hook here (`on_sequence_logged`, `on_protocol_status_changed`, ...). The hook recomputes
that protocol's fact row with the same SQL the full rebuild uses, restricted to it, and adds
the difference between the old and the new facts to the cells of every grain. Hence the
invariant the tests check: after any sequence of writes, the rollups equal a full rebuild.

The four legal conditions (D6313-3-2) are counted here with the exact definitions of
afest/services/compliance.py:
1. `activity_analysis` is not blank;
2. at least one tutor is designated, and every current sequence occurred at or after the
   earliest `designated_at` among the protocol's tutors;
3. every current situation is analysed by at least one current reflection;
4. at least one evaluation exists.
"Current" means not amended (no sequence's `amends_id` points to it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy import and_, case, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session

from afest.models import (
    CompetenceAssessment,
    Evaluation,
    Level,
    Organisation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceKind,
    VaeMilestone,
    VaePathway,
    VaeState,
)
from afest.models.rollup import (
    BLOCK_MEASURES,
    DIMENSIONS,
    JURY_KEYS,
    PROTOCOL_MEASURES,
    STATUS_KEYS,
    VAE_MEASURES,
    rollup_cell,
    rollup_pathway,
    rollup_protocol,
    rollup_protocol_block,
    rollup_vae_cell,
)

STATUS_OF = dict(
    zip(
        ("draft", "awaiting_signatures", "in_progress", "completed", "stopped"),
        STATUS_KEYS,
        strict=True,
    )
)
# grain → the optional dimensions it keeps (the référentiel is always kept). Each grain comes
# in three families: keyed by funder and cohort (mixed scopes); "f", by funder only (cohort
# -1: the OPCO view); "c", by cohort only (funder -1: the cohort view). A view reads the
# family of its scope, so that its rows are not split by the other dimension.
_BASE = {
    "s": ("structure", "dept"),
    "sm": ("structure", "dept", "month"),
    "d": ("dept",),
    "m": ("dept", "month"),
    "n": ("month",),
}
_BLOCK_BASE = {
    "sb": ("structure", "dept"),
    "smb": ("structure", "dept", "month"),
    "db": ("dept",),
    "mb": ("dept", "month"),
}


def _families(base: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    out = {}
    for grain, keep in base.items():
        out[grain] = ("funder", "cohort", *keep)
        out[grain + "f"] = ("funder", *keep)
        out[grain + "c"] = ("cohort", *keep)
    return out


GRAINS = _families(_BASE)
BLOCK_GRAINS = _families(_BLOCK_BASE)
CELL_KEYS = ("grain", *DIMENSIONS, "block_id")
VAE_CELL_KEYS = ("grain", *DIMENSIONS)


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


@cache
def protocol_facts(filtered: bool = False):
    """Per protocol: its dimensions and what it adds to each measure of the cells."""
    p = Protocol
    blocks = block_facts(filtered).subquery()
    scope = (
        select(
            blocks.c.protocol_id,
            func.sum(blocks.c.targeted).label("targeted"),
            func.sum(blocks.c.acquired).label("acquired"),
        )
        .group_by(blocks.c.protocol_id)
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
    orphans = _limit(
        select(s3.protocol_id, func.count().label("n"))
        .where(s3.kind == SequenceKind.SITUATION, _current(s3), ~analysed.exists())
        .group_by(s3.protocol_id),
        s3.protocol_id,
        filtered,
    ).subquery()
    evals = _limit(
        select(Evaluation.protocol_id, func.count().label("n")).group_by(Evaluation.protocol_id),
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
        func.coalesce(orphans.c.n, 0) == 0,
        func.coalesce(evals.c.n, 0) > 0,
    )
    is_latest = latest.c.last_id == p.id
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
            _flag(is_latest).label("learners"),
            *(
                _flag(and_(is_latest, p.status == value)).label(f"l_{key}")
                for value, key in STATUS_OF.items()
            ),
            literal_column("1").label("protocols"),
            *(_flag(p.status == value).label(f"p_{key}") for value, key in STATUS_OF.items()),
            func.coalesce(scope.c.targeted, 0).label("targeted"),
            func.coalesce(scope.c.acquired, 0).label("acquired"),
            func.coalesce(plan.c.n, 0).label("planned_sequences"),
            p.planned_minutes.label("planned_minutes"),
            func.coalesce(done.c.n, 0).label("done_sequences"),
            func.coalesce(done.c.minutes, 0).label("done_minutes"),
            _flag(conditions[0]).label("cond_analysis"),
            _flag(conditions[1]).label("cond_tutor"),
            _flag(conditions[2]).label("cond_reflection"),
            _flag(conditions[3]).label("cond_evaluation"),
            _flag(and_(*conditions)).label("compliant"),
        )
        .select_from(p)
        .join(Organisation, Organisation.id == p.structure_id)
        .outerjoin(scope, scope.c.protocol_id == p.id)
        .outerjoin(done, done.c.protocol_id == p.id)
        .outerjoin(plan, plan.c.protocol_id == p.id)
        .outerjoin(tutors, tutors.c.protocol_id == p.id)
        .outerjoin(early, early.c.protocol_id == p.id)
        .outerjoin(orphans, orphans.c.protocol_id == p.id)
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


# --- full rebuild ------------------------------------------------------------------------------


def _dims_for(source, keep: tuple[str, ...]):
    return [
        source.c.funder_id if "funder" in keep else literal_column("-1"),
        source.c.cohort_id if "cohort" in keep else literal_column("-1"),
        source.c.structure_id if "structure" in keep else literal_column("0"),
        source.c.departement if "dept" in keep else literal_column("''"),
        source.c.referential_id,
        source.c.month if "month" in keep else literal_column("0"),
    ]


def _grouped(source, grain: str, keep: tuple[str, ...], measures):
    dims = _dims_for(source, keep)
    grouping = [d for d in dims if d.table is not None]
    return select(
        literal_column(f"'{grain}'"), *dims, *(func.sum(source.c[m]) for m in measures)
    ).group_by(*grouping)


def rebuild(session: Session) -> dict[str, int]:
    """Recompute every rollup from the source tables; return the rows written per table."""
    conn = session.connection()
    for table in (
        rollup_cell,
        rollup_vae_cell,
        rollup_protocol_block,
        rollup_protocol,
        rollup_pathway,
    ):
        conn.execute(table.delete())
    conn.execute(
        rollup_protocol_block.insert().from_select(
            ["protocol_id", "block_id", "targeted", "acquired"], block_facts()
        )
    )
    facts = protocol_facts()
    conn.execute(
        rollup_protocol.insert().from_select([c.name for c in facts.selected_columns], facts)
    )
    vae_facts = pathway_facts()
    conn.execute(
        rollup_pathway.insert().from_select([c.name for c in vae_facts.selected_columns], vae_facts)
    )
    for grain, keep in GRAINS.items():
        conn.execute(
            rollup_cell.insert().from_select(
                ["grain", *DIMENSIONS, "block_id", *PROTOCOL_MEASURES],
                _with_block_zero(_grouped(rollup_protocol, grain, keep, PROTOCOL_MEASURES)),
            )
        )
        conn.execute(
            rollup_vae_cell.insert().from_select(
                ["grain", *DIMENSIONS, *VAE_MEASURES],
                _grouped(rollup_pathway, grain, keep, VAE_MEASURES),
            )
        )
    rp, rb = rollup_protocol, rollup_protocol_block
    for grain, keep in BLOCK_GRAINS.items():
        dims = _dims_for(rp, keep)
        grouping = [d for d in dims if d.table is not None] + [rb.c.block_id]
        conn.execute(
            rollup_cell.insert().from_select(
                ["grain", *DIMENSIONS, "block_id", *BLOCK_MEASURES],
                select(
                    literal_column(f"'{grain}'"),
                    *dims,
                    rb.c.block_id,
                    func.sum(rp.c.learners),
                    func.count(),
                    func.sum(rb.c.targeted),
                    func.sum(rb.c.acquired),
                )
                .select_from(rb.join(rp, rp.c.protocol_id == rb.c.protocol_id))
                .group_by(*grouping),
            )
        )
    session.flush()
    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (
            rollup_protocol,
            rollup_protocol_block,
            rollup_pathway,
            rollup_cell,
            rollup_vae_cell,
        )
    }


def _with_block_zero(query):
    """Insert block_id = 0 after the dimensions of a grouped protocol query."""
    columns = list(query.selected_columns)
    return query.with_only_columns(
        *columns[:7], literal_column("0"), *columns[7:], maintain_column_froms=True
    )


# --- incremental upkeep -----------------------------------------------------------------------


def _cell_key(row, grain: str, keep: tuple[str, ...], block_id: int = 0) -> tuple:
    return (
        grain,
        row.funder_id if "funder" in keep else -1,
        row.cohort_id if "cohort" in keep else -1,
        row.structure_id if "structure" in keep else 0,
        row.departement if "dept" in keep else "",
        row.referential_id,
        row.month if "month" in keep else 0,
        block_id,
    )


def _protocol_delta(old, new, old_blocks, new_blocks) -> dict[tuple, list[int]]:
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(PROTOCOL_MEASURES))
    index = {m: i for i, m in enumerate(PROTOCOL_MEASURES)}
    for facts, blocks, sign in ((old, old_blocks, -1), (new, new_blocks, 1)):
        for row in facts:
            values = [sign * getattr(row, m) for m in PROTOCOL_MEASURES]
            for grain, keep in GRAINS.items():
                cell = delta[_cell_key(row, grain, keep)]
                for i, v in enumerate(values):
                    cell[i] += v
            for block in blocks.get(row.protocol_id, ()):
                for grain, keep in BLOCK_GRAINS.items():
                    cell = delta[_cell_key(row, grain, keep, block.block_id)]
                    cell[index["learners"]] += sign * row.learners
                    cell[index["protocols"]] += sign
                    cell[index["targeted"]] += sign * block.targeted
                    cell[index["acquired"]] += sign * block.acquired
    return delta


def _apply(conn, table, keys: tuple[str, ...], measures, delta, count_column: str) -> None:
    rows = [
        {**dict(zip(keys, key, strict=True)), **dict(zip(measures, values, strict=True))}
        for key, values in delta.items()
        if any(values)
    ]
    if not rows:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={m: table.c[m] + stmt.excluded[m] for m in measures}
    )
    conn.execute(stmt, rows)
    conn.execute(
        table.delete().where(
            *(table.c[k] == sa.bindparam(f"k_{k}") for k in keys), table.c[count_column] == 0
        ),
        [{f"k_{k}": row[k] for k in keys} for row in rows],
    )


def _lock(query, conn):
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


def refresh_protocols(session: Session, protocol_ids: Iterable[int]) -> None:
    """Recompute these protocols' facts and move the cells by the difference."""
    ids = sorted({i for i in protocol_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    rp, rb = rollup_protocol, rollup_protocol_block
    old = conn.execute(_lock(select(rp).where(rp.c.protocol_id.in_(ids)), conn)).all()
    old_blocks: dict[int, list] = defaultdict(list)
    for row in conn.execute(select(rb).where(rb.c.protocol_id.in_(ids))):
        old_blocks[row.protocol_id].append(row)
    new = conn.execute(protocol_facts(True), {"ids": ids}).all()
    new_blocks: dict[int, list] = defaultdict(list)
    for row in conn.execute(block_facts(True), {"ids": ids}):
        new_blocks[row.protocol_id].append(row)
    conn.execute(rb.delete().where(rb.c.protocol_id.in_(ids)))
    conn.execute(rp.delete().where(rp.c.protocol_id.in_(ids)))
    if new:
        conn.execute(rp.insert(), [row._asdict() for row in new])
    block_rows = [row._asdict() for rows in new_blocks.values() for row in rows]
    if block_rows:
        conn.execute(rb.insert(), block_rows)
    delta = _protocol_delta(old, new, old_blocks, new_blocks)
    _apply(conn, rollup_cell, CELL_KEYS, PROTOCOL_MEASURES, delta, "protocols")


def refresh_pathways(session: Session, pathway_ids: Iterable[int]) -> None:
    """Recompute these VAE pathways' facts and move the VAE cells by the difference."""
    ids = sorted({i for i in pathway_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    rv = rollup_pathway
    old = conn.execute(_lock(select(rv).where(rv.c.pathway_id.in_(ids)), conn)).all()
    new = conn.execute(pathway_facts(True), {"ids": ids}).all()
    conn.execute(rv.delete().where(rv.c.pathway_id.in_(ids)))
    if new:
        conn.execute(rv.insert(), [row._asdict() for row in new])
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(VAE_MEASURES))
    for facts, sign in ((old, -1), (new, 1)):
        for row in facts:
            for grain, keep in GRAINS.items():
                cell = delta[_cell_key(row, grain, keep)[:-1]]
                for i, m in enumerate(VAE_MEASURES):
                    cell[i] += sign * getattr(row, m)
    _apply(conn, rollup_vae_cell, VAE_CELL_KEYS, VAE_MEASURES, delta, "pathways")


# --- the hooks the services call, one per kind of write ---------------------------------------


def on_protocol_created(session: Session, protocol_id: int) -> None:
    """A new protocol becomes its learner's latest: the learner's other protocols change too."""
    learner = select(Protocol.learner_id).where(Protocol.id == protocol_id).scalar_subquery()
    siblings = session.connection().scalars(
        select(Protocol.id).where(Protocol.learner_id == learner)
    )
    refresh_protocols(session, [protocol_id, *siblings])


def on_protocol_changed(session: Session, protocol_id: int) -> None:
    refresh_protocols(session, [protocol_id])


on_protocol_status_changed = on_protocol_changed
on_plan_changed = on_protocol_changed
on_sequence_logged = on_protocol_changed
on_assessment_written = on_protocol_changed
on_evaluation_written = on_protocol_changed


def on_milestone_recorded(session: Session, pathway_id: int) -> None:
    refresh_pathways(session, [pathway_id])
