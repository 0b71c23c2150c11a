"""Dashboard exports as French Excel opens them: CSV with `;`, decimal commas, h:mm hours and a
BOM; XLSX with numeric cells, number formats, a bold frozen header and French sheet names."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask_babel import force_locale
from openpyxl import load_workbook

from afest.dashboards import export
from afest.dashboards.board import Dashboard, Filters, Row, Table
from afest.models import Role

HIDDEN = "masqué (moins de 3)"
FIGURES = {
    "learners": 4,
    "protocols": 4,
    "p_completed": 1,
    "targeted": 8,
    "acquired": 3,
    "done_sequences": 5,
    "planned_sequences": 6,
    "done_minutes": 750,  # 12 h 30
    "planned_minutes": 1005,  # 16 h 45
    "compliant": 1,
}


def made_board() -> Dashboard:
    """A dashboard built by hand: a formula-like name, a negative figure, a hidden row."""
    evil = Row(1, '=HYPERLINK("http://x")', FIGURES)
    negative = Row(2, "Correction", {**FIGURES, "learners": -2, "done_minutes": -90})
    hidden = Row(3, "Petite structure", {"learners": 1}, hidden=True)
    empty = Table("empty", [])
    return Dashboard(
        totals=Row(None, "total", FIGURES),
        statuses=Table("statuses", [Row("draft", "Brouillon", {"learners": 4, "protocols": 5})]),
        paused=Row("paused", "dont en pause", {"learners": 0, "protocols": 0}),
        structures=Table("structures", [evil, negative, hidden]),
        departements=empty,
        referentials=empty,
        months=empty,
        blocks=empty,
        vae=Row(None, "vae", {"pathways": 4, "r_projet": 4, "r_abandon": 1}),
        jury=[],
        k=3,
        filters=Filters(),
    )


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads the accents right
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def section(rows: list[list[str]], title: str) -> list[list[str]]:
    """The header and rows under a section's title, up to the blank line."""
    start = rows.index([title]) + 1
    end = rows.index([], start)
    return rows[start:end]


def by_header(part: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(part[0], r, strict=True)) for r in part[1:]]


def test_csv_has_decimal_commas_hours_as_h_mm_and_safe_text(app):
    with app.test_request_context():
        body = export.to_csv(made_board())
    rows = csv_rows(body)
    total = by_header(section(rows, "Total"))[0]
    assert total["Complétion (%)"] == "37,5"  # 3 / 8
    assert total["Part conforme (%)"] == "25,0"
    assert total["Heures réalisées (h:mm)"] == "12:30"
    assert total["Heures prévues (h:mm)"] == "16:45"
    assert total["Protocoles"] == "4"
    evil, negative, hidden = by_header(section(rows, "Par structure"))
    assert evil["Libellé"] == '\'=HYPERLINK("http://x")'
    assert negative["Apprenant·es"] == "-2"  # a number, not text behind an apostrophe
    assert negative["Heures réalisées (h:mm)"] == "-1:30"
    assert hidden["Libellé"] == "Petite structure"
    assert set(hidden.values()) == {"Petite structure", HIDDEN}
    vae = section(rows, "Parcours VAE")
    assert ["Projet", "4"] in vae and ["Abandon", "1"] in vae
    for r in rows:  # no decimal point anywhere: every non-integer number has its comma
        assert not any(re.fullmatch(r"-?\d+\.\d+", cell) for cell in r), r


def test_xlsx_has_numeric_cells_number_formats_and_a_frozen_bold_header(app):
    with app.test_request_context():
        book = load_workbook(io.BytesIO(export.to_xlsx(made_board())))
    sheet = book["Par structure"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    assert all(c.font.b for c in sheet[1])
    cells = dict(zip(header, sheet[2], strict=True))
    learners = cells["Apprenant·es"]
    assert learners.data_type == "n" and learners.value == 4 and isinstance(learners.value, int)
    share = cells["Complétion (%)"]
    assert share.data_type == "n" and share.value == 3 / 8 and share.number_format == "0.0%"
    hours = cells["Heures réalisées (h:mm)"]
    # stored as a number of days under a duration format, which openpyxl reads back as one
    assert hours.number_format == "[h]:mm" and hours.is_date
    assert hours.value == timedelta(hours=12, minutes=30)
    assert (
        cells["Libellé"].value == '\'=HYPERLINK("http://x")' and cells["Libellé"].data_type == "s"
    )
    negative = dict(zip(header, sheet[3], strict=True))["Apprenant·es"]
    assert negative.value == -2 and negative.data_type == "n"
    hidden = [c.value for c in sheet[4]]
    assert hidden == ["Petite structure", *[HIDDEN] * (len(header) - 1)]
    for cell in sheet[1]:  # as wide as its label, or the label wraps on lines of the header
        width, label = sheet.column_dimensions[cell.column_letter].width, cell.value
        assert width >= max(len(word) for word in label.split()) + 2, label
        lines = -(-len(label) // (width - 2))
        assert width >= len(label) or (cell.alignment.wrap_text and lines > 1), label
        assert sheet.row_dimensions[1].height >= 15 * lines, label
    assert sheet.column_dimensions["A"].width >= len("Petite structure")
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$1"
    vae = [[c.value for c in r] for r in book["Parcours VAE"].iter_rows()]
    assert ["Projet", 4] in vae and ["Abandon", 1] in vae


def test_sheet_names_are_valid_in_french_and_in_english(app):
    with app.test_request_context():
        french = load_workbook(io.BytesIO(export.to_xlsx(made_board()))).sheetnames
        with force_locale("en"):
            english = load_workbook(io.BytesIO(export.to_xlsx(made_board()))).sheetnames
    assert "Par bloc de compétences" in french and "Parcours VAE" in french
    assert english != french
    awkward = export.sheet_titles(
        ["Par mois : début/fin [2026] ?", "Par mois : début/fin [2026] ?"]
    )
    assert awkward == ["Par mois - début-fin (2026)", "Par mois - début-fin (2026) 2"]
    for name in french + english + awkward:
        assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\"), name


def test_the_demo_opco_exports_open_right_in_french_excel(session, login_as):
    client = login_as(Role.OPCO)
    response = client.get("/tableaux/opco/export.csv")
    assert response.mimetype == "text/csv"
    assert response.is_streamed  # written a line at a time, not held whole
    assert response.data.startswith("\ufeff".encode())  # the mark French Excel reads UTF-8 by
    rows = csv_rows(response.data)
    total = by_header(section(rows, "Total"))[0]
    acquired, targeted = int(total["Compétences acquises"]), int(total["Compétences visées"])
    assert total["Complétion (%)"] == f"{100 * acquired / targeted:.1f}".replace(".", ",")
    assert "," in total["Complétion (%)"]
    assert re.fullmatch(r"\d+:[0-5]\d", total["Heures réalisées (h:mm)"])
    months = by_header(section(rows, "Par mois de début"))
    assert any(HIDDEN in r.values() for r in months)  # the demo's small cells stay hidden

    book = load_workbook(io.BytesIO(client.get("/tableaux/opco/export.xlsx").data))
    sheet = book["Total"]
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["Protocoles"].value == int(total["Protocoles"])
    assert cells["Complétion (%)"].value == acquired / targeted
    assert cells["Complétion (%)"].number_format == "0.0%"
    hours, minutes = map(int, total["Heures réalisées (h:mm)"].split(":"))
    assert cells["Heures réalisées (h:mm)"].value == timedelta(hours=hours, minutes=minutes)
    assert sheet.freeze_panes == "A2"
    hidden = [c.value for r in book["Par mois de début"].iter_rows(min_row=2) for c in r]
    assert HIDDEN in hidden
