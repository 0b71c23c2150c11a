"""The current view of a dashboard as CSV or XLSX: the same rows, the same hidden cells.

A cell that a spreadsheet would read as a formula (starting with = + - @, or a tab or carriage
return) is prefixed with an apostrophe, so that an exported name cannot run anything.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook

from afest.dashboards.board import JURY_NAMES, PAUSED_NAME, STATUS_NAMES, Dashboard, Row, Table
from afest.models.rollup import STATUS_KEYS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _percent(row: Row, num: str, den: str):
    ratio = row.ratio(num, den)
    return None if ratio is None else round(100 * ratio, 1)


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
        _("Heures réalisées"),
        _("Heures prévues"),
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
        _percent(row, "acquired", "targeted"),
        row.get("done_sequences"),
        row.get("planned_sequences"),
        round(row.get("done_minutes") / 60, 1),
        round(row.get("planned_minutes") / 60, 1),
        row.get("compliant"),
        _percent(row, "compliant", "protocols"),
    ]


def sections(board: Dashboard) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) of every table of the view, totals and VAE included."""

    def table(title: str, t: Table):
        return title, headers(), [row_values(r, board.k) for r in (t.all_rows or t.rows)]

    totals = board.totals
    by_status = [
        [str(STATUS_NAMES[s]), totals.get(f"l_{s}"), totals.get(f"p_{s}")] for s in STATUS_KEYS
    ]
    by_status.append([str(PAUSED_NAME), None, totals.get("paused")])
    if totals.hidden:
        by_status = []
    out = [
        (_("Total"), headers(), [row_values(totals, board.k)]),
        (_("Par statut"), [_("Statut"), _("Apprenant·es"), _("Protocoles")], by_status),
        table(_("Par structure"), board.structures),
        table(_("Par département"), board.departements),
        table(_("Par référentiel"), board.referentials),
        table(_("Par mois de début"), board.months),
        table(_("Par bloc de compétences"), board.blocks),
    ]
    hidden = _("masqué (moins de %(k)s)", k=board.k)
    vae = [
        [m.removeprefix("r_"), hidden if m in board.vae_hidden else v]
        for m, v in board.vae.values.items()
        if m.startswith(("pathways", "r_"))
    ]
    vae += [[str(JURY_NAMES[r.key]), hidden if r.hidden else r.get("pathways")] for r in board.jury]
    out.append((_("Parcours VAE"), [_("Étape"), _("Parcours")], vae))
    return out


def to_csv(board: Dashboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    for title, header, rows in sections(board):
        writer.writerow([safe_cell(title)])
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
        writer.writerow([])
    return buffer.getvalue()


def to_xlsx(board: Dashboard) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sections(board):
        sheet = book.create_sheet(title[:31])
        sheet.append([safe_cell(h) for h in header])
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
