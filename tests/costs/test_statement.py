"""The statement of expenses of a completed protocol, worked out by hand (hours × the cost
valid on each day), found the same in the proof pack's PDF page and XLSX sheet, and in the
structure's statement over a period (page and workbook)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook

from afest.core import clock
from afest.costs import queries
from afest.proof import seal
from afest.proof.expenses import Period, Reason

CENT = Decimal("0.01")


def by_hand(minutes: int, euros_per_hour: str) -> Decimal:
    """minutes × the cost of an hour, rounded to the cent, half up, as an accountant does."""
    return (Decimal(minutes) / 60 * Decimal(euros_per_hour)).quantize(CENT, ROUND_HALF_UP)


# The lines of the protocol built by tests/costs/conftest.py: (sequence, role, minutes, €/h)
LEARNER_LINES = [
    ("s1", 150, "16.20"),  # the learner's own cost, D0..D0+9
    ("r1", 45, "16.20"),
    ("s2", 180, "16.20"),  # a situation alone still counts for the learner
    ("r2", 50, "16.20"),
    ("s3b", 135, "14.80"),  # D0+11: her own cost has ended, the structure's default applies
]
TUTOR_LINES = [
    ("r1", 45, "22.75"),  # S1 (D0+1) has no tutor cost yet: left out
    ("r2", 50, "22.75"),
    ("s3b", 135, "22.75"),
    ("evaluation", 90, "22.75"),  # the evaluation's declared time
]
OTHER = [Decimal("350.00"), Decimal("120.50")]


def _expected(lines) -> tuple[int, Decimal]:
    return sum(m for _, m, _ in lines), sum((by_hand(m, rate) for _, m, rate in lines), Decimal())


LEARNER_MINUTES, LEARNER_EUROS = _expected(LEARNER_LINES)
TUTOR_MINUTES, TUTOR_EUROS = _expected(TUTOR_LINES)
TOTAL = LEARNER_EUROS + TUTOR_EUROS + sum(OTHER)


def test_the_hand_computation_is_what_the_protocol_holds():
    # the figures worked out once more, plainly: an error in by_hand would show here
    assert (
        Decimal("40.50") + Decimal("12.15") + Decimal("48.60") + Decimal("13.50") + Decimal("33.30")
        == LEARNER_EUROS
    )
    assert by_hand(45, "22.75") == Decimal("17.06") and by_hand(90, "22.75") == Decimal("34.13")
    assert Decimal("739.89") == TOTAL


def _euros(cents: int) -> Decimal:
    return Decimal(cents) / 100


def test_the_statement_counts_what_the_hand_computation_counts(app, session, built):
    with app.app_context():
        costed = queries.protocol_statement(session, built.protocol, zone=clock.zone())
    st = costed.statement
    assert (st.learner_minutes, _euros(st.learner_cents)) == (LEARNER_MINUTES, LEARNER_EUROS)
    assert (st.tutor_minutes, _euros(st.tutor_cents)) == (TUTOR_MINUTES, TUTOR_EUROS)
    assert _euros(st.other_cents) == sum(OTHER)
    assert _euros(st.total_cents) == TOTAL
    ids = {name: seq.public_id for name, seq in built.sequences.items()}
    ids["evaluation"] = built.evaluation.public_id
    expected = sorted(
        [(ids[n], "learner", m, by_hand(m, r)) for n, m, r in LEARNER_LINES]
        + [(ids[n], "tutor", m, by_hand(m, r)) for n, m, r in TUTOR_LINES]
    )
    found = sorted(
        (ln.work.public_id, str(ln.role), ln.minutes, _euros(ln.cents)) for ln in st.lines
    )
    assert found == expected
    left = {(x.work.public_id, str(x.role) if x.role else None, x.reason) for x in st.left}
    assert left == {
        (ids["s1"], "tutor", Reason.NO_RATE),
        (ids["s3"], None, Reason.AMENDED),
        (ids["r3"], None, Reason.UNSIGNED),
    }


def _pdf_text(pdf: bytes, tmp_path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: run make install")
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"[\u00a0\u202f]", " ", text)


def _fr(amount: Decimal) -> str:
    """An amount as the French PDF writes it: 1 234,56 €."""
    units, cents = f"{amount:.2f}".split(".")
    grouped = f"{int(units):,}".replace(",", " ")
    return f"{grouped},{cents} €"


def _hours(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d}" if m else f"{h} h"


def test_the_pdf_page_states_the_same_figures(login_as, built, tmp_path):
    client = login_as(built.people["manager"].email)
    response = client.get(f"/protocoles/{built.protocol.public_id}/preuve.pdf")
    assert response.status_code == 200
    pages = _pdf_text(response.data, tmp_path).split("\f")
    page = next(p for p in pages if "État des dépenses" in p)
    for amount in (LEARNER_EUROS, TUTOR_EUROS, *OTHER, TOTAL):
        assert _fr(amount) in page, _fr(amount)
    for _name, minutes, rate in LEARNER_LINES + TUTOR_LINES:
        assert _fr(by_hand(minutes, rate)) in page, (minutes, rate)
    assert _hours(LEARNER_MINUTES) in page and _hours(TUTOR_MINUTES) in page
    assert "aucun coût horaire valable ce jour-là" in page
    assert "remplacée par une correction" in page
    assert "pas signée par le·la tuteur·rice et" in page  # the cell wraps there


def _sheet_facts(sheet) -> dict:
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}


def test_the_xlsx_sheet_holds_the_same_figures(login_as, built):
    client = login_as(built.people["manager"].email)
    response = client.get(f"/protocoles/{built.protocol.public_id}/preuve.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["État des dépenses"]
    facts = _sheet_facts(sheet)
    money = lambda label: Decimal(str(facts[label])).quantize(CENT)  # noqa: E731
    assert money("Coût de l'apprenant·e (€)") == LEARNER_EUROS
    assert money("Coût du·de la tuteur·rice (€)") == TUTOR_EUROS
    assert money("Autres coûts (€)") == sum(OTHER)
    assert money("Total (€)") == TOTAL
    assert facts["Heures de l'apprenant·e"] == pytest.approx(LEARNER_MINUTES / 60)
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(
        (
            "date",
            "séquence",
            "type",
            "personne",
            "rôle",
            "durée (min)",
            "heures",
            "coût horaire (€)",
            "montant (€)",
        )
    )
    lines = []
    for row in rows[header + 1 :]:
        if not row or row[0] is None:
            break
        lines.append(
            (row[5], Decimal(str(row[7])).quantize(CENT), Decimal(str(row[8])).quantize(CENT))
        )
    expected = [(m, Decimal(r), by_hand(m, r)) for _, m, r in LEARNER_LINES + TUTOR_LINES]
    assert sorted(lines) == sorted(expected)
    cell = sheet.cell(row=header + 2, column=9)
    assert isinstance(cell.value, int | float) and "€" in cell.number_format


def test_the_structure_statement_over_a_period(app, login_as, built, tmp_path):
    start = built.start
    client = login_as(built.people["manager"].email)
    structure = built.structure.public_id
    period = {
        "du": (start + timedelta(days=5)).isoformat(),
        "au": (start + timedelta(days=12)).isoformat(),
    }
    # within D0+5..D0+12: S2, R2 and the amended S3, and the outside help of D0+8
    learner = by_hand(180, "16.20") + by_hand(50, "16.20") + by_hand(135, "14.80")
    tutor = by_hand(50, "22.75") + by_hand(135, "22.75")
    total = learner + tutor + Decimal("120.50")
    page = client.get(f"/structures/{structure}/etat-des-depenses", query_string=period)
    assert page.status_code == 200
    html = re.sub(r"[\u00a0\u202f]", " ", page.get_data(as_text=True))
    for amount in (learner, tutor, Decimal("120.50"), total):
        assert _fr(amount) in html, _fr(amount)
    assert "hors de la période" in html
    response = client.get(f"/structures/{structure}/etat-des-depenses.xlsx", query_string=period)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = [r for r in book["Synthèse"].iter_rows(values_only=True) if r and r[0] == "Total"]
    assert [
        Decimal(str(v)).quantize(CENT) for v in (rows[0][3], rows[0][5], rows[0][6], rows[0][7])
    ] == [
        learner,
        tutor,
        Decimal("120.50"),
        total,
    ]
    pdf = client.get(f"/structures/{structure}/etat-des-depenses.pdf", query_string=period)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert seal.check_pdf(pdf.data, using=seal.sealer(app)).valid  # sealed by afest
    first, *rest = _pdf_text(pdf.data, tmp_path).split("\f")
    for amount in (learner, tutor, Decimal("120.50"), total):
        assert _fr(amount) in first, _fr(amount)
    assert "Signature et cachet" in first and "hors de la période" in "".join(rest)
    reasons = {r[-1] for r in book["Non comptés"].iter_rows(min_row=2, values_only=True)}
    assert {"hors de la période", "pas signée par le·la tuteur·rice et l'apprenant·e"} <= reasons
    assert "remplacée par une correction, comptée à sa place" in reasons


def test_a_period_ending_before_it_starts_is_answered_beside_its_field(login_as, built):
    client = login_as(built.people["manager"].email)
    structure = built.structure.public_id
    bad = {"du": "2026-03-10", "au": "2026-03-01"}
    page = client.get(f"/structures/{structure}/etat-des-depenses", query_string=bad)
    assert page.status_code == 422
    assert "La fin de la période précède son début." in page.get_data(as_text=True)
    assert (
        client.get(f"/structures/{structure}/etat-des-depenses.xlsx", query_string=bad).status_code
        == 422
    )


def test_period_of_the_pure_computation(app, session, built):
    with app.app_context():
        period = Period(built.start + timedelta(days=5), built.start + timedelta(days=12))
        found = queries.structure_statement(session, built.structure, period, zone=clock.zone())
    assert [c.protocol.id for c in found.protocols] == [built.protocol.id]
    assert found.total.total_cents == found.protocols[0].statement.total_cents
