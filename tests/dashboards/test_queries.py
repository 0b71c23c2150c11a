"""Dashboard figures: equal to a direct SQL computation, scoped, with small cells hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from afest.dashboards import queries as dashboards
from afest.dashboards import rollups
from afest.dashboards.board import Dashboard, Filters, Listing, Scope
from afest.models import Autonomy, Cohort, Organisation, SequenceKind
from afest.sequences import operations as sequences
from afest.sequences.operations import SequenceData

K = 3
ALL = lambda _sid: True  # noqa: E731  (a viewer entitled to no structure's records)


def build(session, **kwargs) -> Dashboard:
    """The dashboard as a request sees it: the marks of the writes before it settled first;
    every structure listed, as an export lists them."""
    rollups.drain_all(session)
    return dashboards.build(session, **{"listing": Listing(page=None), **kwargs})


DIRECT = {
    "protocols": "SELECT COUNT(*) FROM protocol p WHERE {w}",
    "learners": "SELECT COUNT(DISTINCT p.learner_id) FROM protocol p WHERE {w}",
    "p_completed": "SELECT COUNT(*) FROM protocol p WHERE {w} AND p.status = 'completed'",
    "done_sequences": "SELECT COUNT(*) FROM sequence s JOIN protocol p ON p.id = s.protocol_id "
    "WHERE {w} AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)",
    "done_minutes": "SELECT COALESCE(SUM(s.duration_minutes), 0) FROM sequence s "
    "JOIN protocol p ON p.id = s.protocol_id "
    "WHERE {w} AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)",
    "planned_sequences": "SELECT COUNT(*) FROM plannedsequence ps "
    "JOIN protocol p ON p.id = ps.protocol_id WHERE {w}",
    "planned_minutes": "SELECT COALESCE(SUM(p.planned_minutes), 0) FROM protocol p WHERE {w}",
    "targeted": "SELECT COUNT(*) FROM protocolcompetence pc "
    "JOIN protocol p ON p.id = pc.protocol_id WHERE {w}",
    "acquired": "SELECT COUNT(*) FROM protocolcompetence pc "
    "JOIN protocol p ON p.id = pc.protocol_id "
    "JOIN competenceassessment ca ON ca.id = (SELECT MAX(c2.id) FROM competenceassessment c2 "
    "WHERE c2.protocol_id = pc.protocol_id AND c2.competence_id = pc.competence_id) "
    "JOIN level l ON l.id = ca.level_id WHERE {w} AND l.acquired",
    # the four legal conditions, written out independently of the rollup code
    "compliant": """
        SELECT COUNT(*) FROM protocol p WHERE {w}
        AND TRIM(REPLACE(REPLACE(REPLACE(p.activity_analysis, CHR(9), ' '), CHR(10), ' '),
                 CHR(13), ' ')) <> ''
        AND EXISTS (SELECT 1 FROM protocoltutor t WHERE t.protocol_id = p.id)
        AND NOT EXISTS (SELECT 1 FROM sequence s WHERE s.protocol_id = p.id
            AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)
            AND s.occurred_at < (SELECT MIN(t.designated_at) FROM protocoltutor t
                                 WHERE t.protocol_id = p.id))
        AND EXISTS (SELECT 1 FROM sequence s WHERE s.protocol_id = p.id
            AND s.kind = 'situation'
            AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id))
        AND NOT EXISTS (SELECT 1 FROM sequence s WHERE s.protocol_id = p.id
            AND s.kind = 'situation'
            AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM reflectionsituation rs
                JOIN sequence r ON r.id = rs.reflection_id
                WHERE rs.situation_id = s.id
                AND NOT EXISTS (SELECT 1 FROM sequence n2 WHERE n2.amends_id = r.id)))
        AND EXISTS (SELECT 1 FROM evaluation e WHERE e.protocol_id = p.id
            AND NOT EXISTS (SELECT 1 FROM evaluation n WHERE n.amends_id = e.id)
            AND EXISTS (SELECT 1 FROM signature g WHERE g.subject_kind = 'evaluation'
                AND g.subject_id = e.id AND g.signer_role = 'tutor'))
    """,
}


def direct(session, measure: str, where: str, **params) -> int:
    sql = DIRECT[measure].format(w=where)
    if session.connection().dialect.name == "sqlite":
        sql = sql.replace("CHR(", "CHAR(")
    return int(session.connection().execute(sa.text(sql), params).scalar())


def care_skills(session) -> Cohort:
    return session.exec(select(Cohort).where(Cohort.code == "CARE-SKILLS-2026")).one()


def opco(session, code: str) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.code == code)).one()


def test_cohort_figures_equal_a_direct_sql_computation(session):
    cohort = care_skills(session)
    board = build(
        session, scope=Scope(cohort_ids=frozenset({cohort.id})), filters=Filters(), k=K, protect=ALL
    )
    totals = board.totals
    assert (board.structures.total, totals.get("learners"), totals.get("protocols")) == (10, 30, 90)
    assert not totals.hidden
    for measure in DIRECT:
        assert totals.get(measure) == direct(session, measure, "p.cohort_id = :c", c=cohort.id), (
            measure
        )
    by_structure = dict(
        session.connection()
        .execute(
            sa.text(
                "SELECT p.structure_id, COUNT(s.id) FROM protocol p LEFT JOIN sequence s "
                "ON s.protocol_id = p.id AND NOT EXISTS "
                "(SELECT 1 FROM sequence n WHERE n.amends_id = s.id) "
                "WHERE p.cohort_id = :c GROUP BY p.structure_id"
            ),
            {"c": cohort.id},
        )
        .all()
    )
    shown = {r.key: r.get("done_sequences") for r in board.structures.rows}
    assert shown == by_structure
    assert all(r.get("learners") == 3 and not r.hidden for r in board.structures.rows)
    assert sum(r.get("protocols") for r in board.months.rows) == 90
    vae = (
        session.connection()
        .execute(
            sa.text(
                "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM vaemilestone m WHERE "
                "m.pathway_id = v.id AND m.state = 'jury_resultat') THEN 1 ELSE 0 END) "
                "FROM vaepathway v WHERE v.cohort_id = :c"
            ),
            {"c": cohort.id},
        )
        .one()
    )
    assert (board.vae.get("pathways"), board.vae.get("r_jury_resultat")) == tuple(vae)


def test_blocks_and_referentials_add_up(session):
    cohort = care_skills(session)
    board = build(
        session, scope=Scope(cohort_ids=frozenset({cohort.id})), filters=Filters(), k=K, protect=ALL
    )
    assert sum(r.get("targeted") for r in board.blocks.rows) == board.totals.get("targeted")
    assert sum(r.get("acquired") for r in board.blocks.rows) == board.totals.get("acquired")
    assert sum(r.get("protocols") for r in board.referentials.rows) == 90


def _log_situation(session, protocol, people):
    comp = (
        session.connection()
        .execute(
            sa.text("SELECT competence_id FROM protocolcompetence WHERE protocol_id = :p"),
            {"p": protocol.id},
        )
        .first()[0]
    )
    sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=ZoneInfo("Europe/Paris"),
        data=SequenceData(
            client_id=f"dash-{protocol.id}",
            occurred_at=datetime.now(UTC) - timedelta(days=3),
            duration_minutes=120,
            autonomy=Autonomy.ALONE,
            competence_ids=[comp],
        ),
    )


def test_an_opco_sees_nothing_of_a_structure_funded_by_another(session, make_protocol):
    uniformation = opco(session, "UNIFORMATION")
    scope = Scope(funder_ids=frozenset({uniformation.id}))
    before = build(session, scope=scope, filters=Filters(), k=K, protect=ALL)
    protocol, people = make_protocol()  # a structure with its own OPCO
    _log_situation(session, protocol, people)
    after = build(session, scope=scope, filters=Filters(), k=K, protect=ALL)
    assert dict(after.totals.values) == dict(before.totals.values)
    assert protocol.structure_id not in {r.key for r in after.structures.rows}
    assert after.vae.values == before.vae.values


def test_small_cells_are_hidden_and_cannot_be_recomputed(session, make_protocol, make_structure):
    uniformation = opco(session, "UNIFORMATION")
    small = make_structure(name="Petite structure", opco=uniformation, departement="83")
    protocol, people = make_protocol(structure=small)
    _log_situation(session, protocol, people)
    board = build(
        session,
        scope=Scope(funder_ids=frozenset({uniformation.id})),
        filters=Filters(),
        k=K,
        protect=ALL,
    )
    assert not board.totals.hidden and board.totals.get("learners") == 8
    rows = {r.key: r for r in board.structures.rows}
    assert rows[small.id].hidden  # 1 learner
    # Azur (7 learners) is hidden too: else total − Azur would give the small structure away
    assert all(r.hidden for r in rows.values())
    depts = {r.key: r for r in board.departements.rows}
    assert depts["83"].hidden and depts["06"].hidden
    for table in board.tables:
        assert sum(r.hidden for r in table.rows) != 1, table.name
    assert board.suppressed


def test_an_entitled_viewer_sees_small_cells_of_their_structure(session, make_protocol):
    protocol, _people = make_protocol()
    board = build(
        session,
        scope=Scope(structure_id=protocol.structure_id, whole_structure=True),
        filters=Filters(),
        k=K,
        protect=None,
    )
    assert board.totals.get("learners") == 1 and not board.totals.hidden


def test_filters_narrow_the_figures(session):
    cohort = care_skills(session)
    scope = Scope(cohort_ids=frozenset({cohort.id}))
    full = build(session, scope=scope, filters=Filters(), k=K, protect=ALL)
    dept13 = build(session, scope=scope, filters=Filters(departement="13"), k=K, protect=ALL)
    assert dept13.totals.get("protocols") == direct(
        session,
        "protocols",
        "p.cohort_id = :c AND p.structure_id IN "
        "(SELECT id FROM organisation WHERE departement = '13')",
        c=cohort.id,
    )
    months = sorted(r.key for r in full.months.rows)
    period = Filters(month_from=months[-1], month_to=months[-1])
    last = build(session, scope=scope, filters=period, k=K, protect=ALL)
    assert last.totals.get("protocols") == next(
        r.get("protocols") for r in full.months.rows if r.key == months[-1]
    )
    assert [r.key for r in last.months.rows] == [months[-1]]


@pytest.mark.parametrize(
    ("text", "month"),
    [("2026-03", 202603), ("2026-13", None), ("garbage", None), ("", None), ("26-3-1", None)],
)
def test_parse_month(text, month):
    assert dashboards.parse_month(text) == month


def test_kept_learner_counts_are_the_same_for_a_few_keys_or_many(session):
    """Past members.KEYS_IN_QUERY keys, the dimension's rows are read whole and picked in
    Python: the same counts as asked key by key, unknown keys answering nothing."""
    from afest.dashboards import members

    conn = session.connection()
    uniformation = session.exec(
        select(Organisation).where(Organisation.code == "UNIFORMATION")
    ).one()
    owner = ("f", uniformation.id)
    every = members.counts(conn, owner, ["structure"])["structure"]
    assert every
    known = sorted(every)
    many = known + [str(900_000 + i) for i in range(members.KEYS_IN_QUERY + 1)]
    assert members.counts(conn, owner, ["structure"], many)["structure"] == every
    one_by_one = {}
    for key in known:
        one_by_one |= members.counts(conn, owner, ["structure"], [key])["structure"]
    assert one_by_one == every
    assert members.counts(conn, owner, ["structure"], many[-3:])["structure"] == {}


def test_on_postgresql_a_dashboard_plans_for_its_values_and_only_in_its_transaction(
    app, engine_name
):
    """A dashboard's transaction has PostgreSQL plan each statement for its own values (a
    plan kept for an average owner reads every cell of a national OPCO); the setting ends
    with the transaction, so that the next request on the pooled connection (a tutor's
    page) keeps its prepared plans."""
    if engine_name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    from sqlmodel import Session

    from afest.core.database import database

    show = "SHOW plan_cache_mode"
    with database(app).engine.connect() as conn:
        with Session(bind=conn) as session:
            assert session.connection().exec_driver_sql(show).scalar() == "auto"
            scope = Scope(funder_ids=frozenset({opco(session, "UNIFORMATION").id}))
            dashboards.build(session, scope=scope, filters=Filters(), k=K)
            assert session.connection().exec_driver_sql(show).scalar() == "force_custom_plan"
            session.commit()
        assert conn.exec_driver_sql(show).scalar() == "auto"
