"""The current view of a dashboard as CSV or XLSX: the same rows, the same hidden cells, laid
out as French Excel opens them.

CSV: `;` between cells, a decimal comma, hours as h:mm, UTF-8 with a BOM (Excel then reads the
accents right), CRLF line ends. XLSX: numbers in numeric cells with a number format (shares as
percentages, hours as durations of a day), which the spreadsheet shows in its user's locale; a
bold header row that stays in view, columns as wide as their labels, French sheet names.

A text cell that a spreadsheet would read as a formula (starting with = + - @, or a tab or
carriage return) is prefixed with an apostrophe, so that an exported name cannot run anything;
numbers are never text, a negative one included.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment

from afest.dashboards.board import JURY_NAMES, Dashboard, Row, Table
from afest.models import VaeState
from afest.vae.states import STATE_LABELS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX = 31
SHEET_TITLE_SWAPS = str.maketrans({":": "-", "/": "-", "\\": "-", "[": "(", "]": ")"})
LABEL_WIDTH_MAX = 50  # the first column: names; longer ones are cut where the next cell starts
FIGURE_WIDTH_MAX = 16  # the other columns: wider labels wrap in the header
BOLD_WIDTH = 1.1  # a bold character is about this much wider
LINE_HEIGHT = 15  # points, a line of the default font


@dataclass(frozen=True)
class Share:
    """A part of a whole (0 to 1): a percentage with one decimal."""

    ratio: float


@dataclass(frozen=True)
class Duration:
    """A count of minutes, shown as hours and minutes."""

    minutes: int


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def decimal_comma(value: float, digits: int | None = None) -> str:
    text = f"{value:.{digits}f}" if digits is not None else f"{value:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def hours_minutes(minutes: int) -> str:
    sign, minutes = ("-" if minutes < 0 else ""), abs(round(minutes))
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Share):
        return decimal_comma(100 * value.ratio, 1)
    if isinstance(value, Duration):
        return hours_minutes(value.minutes)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return decimal_comma(value)
    return safe_cell(str(value))


def xlsx_cell(value) -> tuple[object, str | None]:
    """(value, number format) of a cell; a format code is the same in every locale."""
    if isinstance(value, Share):
        return value.ratio, "0.0%"
    if isinstance(value, Duration):
        return value.minutes / (24 * 60), "[h]:mm"
    if isinstance(value, bool):
        return int(value), None
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        return value, "0.0"
    return (None if value is None else safe_cell(str(value))), None


def _share(row: Row, num: str, den: str) -> Share | None:
    ratio = row.ratio(num, den)
    return None if ratio is None else Share(ratio)


def headers() -> list[str]:
    return [
        _("Libellé"),
        _("Apprenant·es"),
        _("Protocoles"),
        _("Protocoles terminés"),
        _("Compétences visées"),
        _("Compétences acquises"),
        _("Complétion (%)"),
        _("Séquences réalisées"),
        _("Séquences prévues"),
        _("Heures réalisées (h:mm)"),
        _("Heures prévues (h:mm)"),
        _("Protocoles remplissant les 4 conditions"),
        _("Part conforme (%)"),
    ]


def row_values(row: Row, k: int) -> list:
    if row.hidden:
        return [row.label, *([_("masqué (moins de %(k)s)", k=k)] * (len(headers()) - 1))]
    return [
        row.label,
        row.get("learners"),
        row.get("protocols"),
        row.get("p_completed"),
        row.get("targeted"),
        row.get("acquired"),
        _share(row, "acquired", "targeted"),
        row.get("done_sequences"),
        row.get("planned_sequences"),
        Duration(row.get("done_minutes")),
        Duration(row.get("planned_minutes")),
        row.get("compliant"),
        _share(row, "compliant", "protocols"),
    ]


def vae_label(measure: str) -> str:
    if measure == "pathways":
        return _("Tous les parcours")
    state = VaeState(measure.removeprefix("r_"))
    return _("Abandon") if state == VaeState.ABANDON else str(STATE_LABELS.get(state, state.value))


def sections(board: Dashboard) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) of every table of the view, totals and VAE included."""

    def table(title: str, t: Table):
        return title, headers(), [row_values(r, board.k) for r in t.rows]

    hidden = _("masqué (moins de %(k)s)", k=board.k)
    by_status = [
        [r.label, hidden, hidden] if r.hidden else [r.label, r.get("learners"), r.get("protocols")]
        for r in (*board.statuses.rows, board.paused)
    ]
    out = [
        (_("Total"), headers(), [row_values(board.totals, board.k)]),
        (_("Par statut"), [_("Statut"), _("Apprenant·es"), _("Protocoles")], by_status),
        table(_("Par structure"), board.structures),
        table(_("Par département"), board.departements),
        table(_("Par référentiel"), board.referentials),
        table(_("Par mois de début"), board.months),
        table(_("Par bloc de compétences"), board.blocks),
    ]
    vae = [
        [vae_label(m), hidden if m in board.vae_hidden else v]
        for m, v in board.vae.values.items()
        if m.startswith(("pathways", "r_"))
    ]
    vae += [[str(JURY_NAMES[r.key]), hidden if r.hidden else r.get("pathways")] for r in board.jury]
    out.append((_("Parcours VAE"), [_("Étape"), _("Parcours")], vae))
    return out


def csv_lines(board: Dashboard) -> Iterator[bytes]:
    """The CSV export, a line at a time (the response streams them): UTF-8 after its byte
    order mark, ";" between cells and CRLF line ends, as French Excel reads them. Its labels
    are translated here, in the request; the lines need nothing of it."""
    return _csv_lines(sections(board))


def _csv_lines(tables: list[tuple[str, list[str], list[list]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # CRLF line ends, the csv module's default
    yield "\ufeff".encode()
    for title, header, rows in tables:
        for row in ([title], header, *rows, []):
            writer.writerow([csv_cell(v) for v in row])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()


def to_csv(board: Dashboard) -> bytes:
    return b"".join(csv_lines(board))


def sheet_titles(titles: list[str]) -> list[str]:
    """Names a spreadsheet accepts: none of []:*?/\\, at most 31 characters, each its own."""
    out: list[str] = []
    for title in titles:
        name = " ".join(
            title.translate(SHEET_TITLE_SWAPS).replace("*", " ").replace("?", " ").split()
        )
        name = name[:SHEET_TITLE_MAX].rstrip() or "-"
        base, n = name, 1
        while name.casefold() in {o.casefold() for o in out}:
            n += 1
            name = f"{base[: SHEET_TITLE_MAX - len(str(n)) - 1].rstrip()} {n}"
        out.append(name)
    return out


def _column_widths(header: list[str], rows: list[list]) -> list[int]:
    """The first column as wide as its longest name (up to LABEL_WIDTH_MAX); the others as wide
    as their figures and their label, a label wider than FIGURE_WIDTH_MAX wrapping instead."""
    widths = []
    for c, label in enumerate(header):
        shown = max((len(csv_cell(row[c])) for row in rows), default=0)  # about as shown
        cap = LABEL_WIDTH_MAX if c == 0 else max(FIGURE_WIDTH_MAX, shown)
        widths.append(min(max(round(BOLD_WIDTH * len(label)), shown), cap))
    return widths


def _fill_sheet(sheet, header: list[str], rows: list[list]) -> None:
    """Cells with their formats, a bold header in view, printed in landscape on pages one
    table wide with the header on each."""
    right = Alignment(horizontal="right")
    for values in [header, *rows]:
        sheet.append([xlsx_cell(v)[0] for v in values])
        for cell, value in zip(sheet[sheet.max_row], values, strict=False):
            cell.number_format = xlsx_cell(value)[1] or cell.number_format
            if cell.column > 1 and cell.data_type == "s":
                cell.alignment = right  # a hidden figure's text, where the figure would be
    widths = _column_widths(header, rows)
    for cell, width in zip(sheet[1], widths, strict=True):
        sheet.column_dimensions[cell.column_letter].width = width + 2
        bold = copy(cell.font)  # the workbook's font, in bold
        bold.b = True
        cell.font = bold
        cell.alignment = Alignment(  # a figure's label right-aligned, over its figures
            wrap_text=True, vertical="top", horizontal="left" if cell.column == 1 else "right"
        )
    lines = max(len(textwrap.wrap(h, w) or [""]) for h, w in zip(header, widths, strict=True))
    sheet.row_dimensions[1].height = LINE_HEIGHT * lines + 2
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def to_xlsx(board: Dashboard) -> bytes:
    book = Workbook()
    book.remove(book.active)
    parts = sections(board)
    for name, (_title, header, rows) in zip(
        sheet_titles([p[0] for p in parts]), parts, strict=True
    ):
        _fill_sheet(book.create_sheet(name), header, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(board: Dashboard, fmt: str) -> tuple[bytes | Iterator[bytes], str]:
    """(body, mimetype) of the export in this format: "xlsx" (a workbook is written whole),
    else CSV, its lines as they are written."""
    if fmt == "xlsx":
        return to_xlsx(board), XLSX_MIMETYPE
    return csv_lines(board), CSV_MIMETYPE
