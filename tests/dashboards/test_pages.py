"""Dashboard pages: figures, drill-down, scope, bad filters, exports, query counts."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import select

from afest.core.database import database
from afest.dashboards import rollups
from afest.dashboards.export import safe_cell
from afest.models import Cohort, Organisation, Role

CONSULTANT = "consultant@aract-paca.demo"
OPCO_SANTE = "conseil@opco-sante.demo"


def cohort_url(session) -> str:
    cohort = session.exec(select(Cohort).where(Cohort.code == "CARE-SKILLS-2026")).one()
    return f"/tableaux/cohortes/{cohort.public_id}"


def structure(session, siret: str) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.siret == siret)).one()


def test_cohort_page_shows_the_programme(session, login_as):
    page = login_as(CONSULTANT).get(cohort_url(session))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Chiffres par structure (10 structures)" in html
    assert '<span class="big-figure">30</span>' in html  # learners, first of the key figures
    assert "30 protocoles sur 90" in html  # meeting the four conditions, of all protocols
    assert "<svg" in html and 'role="img"' in html
    assert " style=" not in html and "<script>" not in html


def test_opco_drills_down_to_structure_then_protocol(session, login_as):
    client = login_as(Role.OPCO)
    page = client.get("/tableaux/opco").get_data(as_text=True)
    azur = structure(session, "77568412300018")
    assert f'href="/tableaux/structures/{azur.public_id}"' in page
    detail = client.get(f"/tableaux/structures/{azur.public_id}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert 'href="/protocoles/' in html
    first = html.split('href="/protocoles/')[1].split('"')[0]
    assert client.get(f"/protocoles/{first}").status_code == 200


def test_opco_sees_nothing_of_a_structure_funded_by_another_opco(session, login_as):
    ehpad = structure(session, "26130000100017")  # OPCO Santé
    client = login_as(Role.OPCO)  # Uniformation
    assert client.get(f"/tableaux/structures/{ehpad.public_id}").status_code == 404
    assert ehpad.name not in client.get("/tableaux/opco").get_data(as_text=True)
    other = login_as(OPCO_SANTE)
    assert other.get(f"/tableaux/structures/{ehpad.public_id}").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("dept=ZZ", "Département inconnu"),
        ("ref=NOPE", "Référentiel inconnu"),
        ("du=garbage", "Mois invalide"),
        ("du=2026-13", "Mois invalide"),
        ("du=2026-05&au=2026-01", "La fin de la période précède son début"),
        ("au=%00%ff", "Mois invalide"),
    ],
)
def test_bad_filters_give_a_clear_message(session, login_as, query, message):
    client = login_as(CONSULTANT)
    response = client.get(f"{cohort_url(session)}?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    export = client.get(f"{cohort_url(session)}/export.csv?{query}")
    assert export.status_code == 422


@pytest.mark.parametrize("query", ["page=abc", "page=-4", "page=99999", "dept=", "x=1"])
def test_harmless_odd_values_are_ignored(session, login_as, query):
    assert login_as(CONSULTANT).get(f"{cohort_url(session)}?{query}").status_code == 200


def test_filters_apply(session, login_as):
    html = login_as(CONSULTANT).get(f"{cohort_url(session)}?dept=04").get_data(as_text=True)
    assert "Chiffres par structure (1 structures)" in html


def test_csv_and_xlsx_exports_of_the_current_view(session, login_as):
    client = login_as(CONSULTANT)
    response = client.get(f"{cohort_url(session)}/export.csv?dept=13")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0] == ["Total"] and rows[1][0] == "Libellé"
    total_protocols = int(rows[2][2])
    assert 0 < total_protocols < 90  # the département filter applies to the export
    xlsx = client.get(f"{cohort_url(session)}/export.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book["Total"]["C2"].value == 90


def test_the_structure_drill_down_exports_its_own_figures(session, login_as):
    client = login_as(Role.MANAGER)
    azur = session.exec(select(Organisation).where(Organisation.name.like("%Azur%"))).first()
    page = client.get(f"/tableaux/structures/{azur.public_id}").get_data(as_text=True)
    assert f"/tableaux/structures/{azur.public_id}/export.csv" in page
    response = client.get(f"/tableaux/structures/{azur.public_id}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    direct = session.execute(
        sa.text("SELECT COUNT(*) FROM protocol WHERE structure_id = :s"), {"s": azur.id}
    ).scalar()
    assert book["Total"]["C2"].value == direct  # every protocol of the structure, its manager
    bad = client.get(f"/tableaux/structures/{azur.public_id}/export.csv?du=garbage")
    assert bad.status_code == 422


def test_export_cells_cannot_run_formulas(session, login_as, make_structure, make_protocol):
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [safe_cell(v) for v in ("+1", "-1", "@x", "ok", 3)] == ["'+1", "'-1", "'@x", "ok", 3]
    uniformation = session.exec(
        select(Organisation).where(Organisation.code == "UNIFORMATION")
    ).one()
    evil = make_structure(name='=HYPERLINK("http://x")', opco=uniformation, departement="06")
    make_protocol(structure=evil)
    body = login_as(Role.OPCO).get("/tableaux/opco/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ";=HYPERLINK" not in body and "\n=HYPERLINK" not in body


@contextmanager
def count_queries(app):
    engine = database(app).engine
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_dashboard_query_count_does_not_grow_with_structures(
    app, session, login_as, make_structure, make_protocol
):
    client = login_as(Role.OPCO)
    client.get("/tableaux/opco")
    with count_queries(app) as before:
        assert client.get("/tableaux/opco").status_code == 200
    uniformation = session.exec(
        select(Organisation).where(Organisation.code == "UNIFORMATION")
    ).one()
    for n in range(3):
        make_protocol(structure=make_structure(name=f"S{n}", opco=uniformation))
    rollups.drain_all(session)  # what a settle costs is measured apart, below
    with count_queries(app) as after:
        assert client.get("/tableaux/opco").status_code == 200
    assert len(after) <= len(before) + 1  # + a round of suppression for the new small rows
    # the session and the settle check (4 with their savepoint), the filters' choices (2), the
    # cells (8), distinct learners (the tables 1, the page 1), the rounds of complementary
    # suppression (2 here), the protocols at risk (2), the block table's patterns (1, once;
    # the learners of the cells between their bounds, none here), the savepoint released (1)
    assert len(after) <= 23


def test_a_save_shows_on_the_next_dashboard_read_and_settling_costs_constant_queries(
    app, session, login_as, make_structure, make_protocol
):
    client = login_as(Role.OPCO)
    uniformation = session.exec(
        select(Organisation).where(Organisation.code == "UNIFORMATION")
    ).one()
    structure = make_structure(name="Marquée", opco=uniformation, departement="2A")
    make_protocol(structure=structure)
    rollups.drain_all(session)
    with count_queries(app) as settled:
        page = client.get("/tableaux/opco?dept=2A").get_data(as_text=True)
    assert "Marquée" in page
    counts = []
    for n in (1, 6):
        for _ in range(n):
            make_protocol(structure=structure)  # each marks its protocol, nothing more
        assert rollups.is_pending(session)
        with count_queries(app) as statements:
            assert client.get("/tableaux/opco?dept=2A").status_code == 200
        assert not rollups.is_pending(session)
        counts.append(len(statements) - len(settled))
    # one protocol or six: the same statements (± the counts of rows near the threshold): one
    # per grain of cells moved, the new facts computed once into the settle's scratch tables
    # (made if missing, emptied, filled), the old and new facts read and swapped, the empty
    # cells removed, the block patterns kept (one per family moved, the emptied removed: 3),
    # the kept learners' memberships (read, add, remove emptied; the same for counts; and on
    # PostgreSQL their lock), the settle check and the marks
    grains = len(rollups.GRAINS) + len(rollups.BLOCK_GRAINS)
    families = len(rollups.PATTERN_OWNERS)
    assert abs(counts[0] - counts[1]) <= 2 and 0 < max(counts) <= grains + families + 33
    body = client.get("/tableaux/opco/export.csv?dept=2A").get_data(as_text=True)
    row = next(
        r for r in csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";") if "Marquée" in r
    )
    assert "8" in row, row  # 1 + 1 + 6 protocols: every save before the read is in it


def test_dashboard_links_only_for_those_who_can_use_them(session, login_as):
    assert 'href="/tableaux/opco"' in login_as(Role.OPCO).get("/").get_data(as_text=True)
    assert 'href="/tableaux/opco"' not in login_as(Role.MANAGER).get("/").get_data(as_text=True)
    home = login_as(CONSULTANT).get("/").get_data(as_text=True)
    assert f'href="{cohort_url(session)}"' in home
