"""The proof pack as data: the workbook (one sheet per part, the statement of expenses among
them) and the sequence log as CSV; a structure's statement of expenses as a workbook. In each,
user text escaped so that no spreadsheet reads it as a formula, and without the control
characters stored before forms removed them (a last line says how many were left out)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import lazy_gettext as _l

from afest.core.controls import scrub
from afest.core.http import STATUS_LABELS
from afest.costs import money
from afest.costs.labels import KIND_LABELS as COST_KIND_LABELS
from afest.costs.labels import REASON_LABELS, WORK_LABELS
from afest.costs.labels import ROLE_LABELS as COST_ROLE_LABELS
from afest.models import Autonomy, EvaluationKind, SequenceKind
from afest.proof.proofpack import Pack
from afest.protocols.compliance import STATE_LABELS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """User text that a spreadsheet would read as a formula gets a leading apostrophe, and
    loses the control characters no workbook may hold (a NUL stored before forms removed them
    would otherwise make this proof impossible to export, for good: the record is signed)."""
    if not isinstance(value, str):
        return value
    value, _removed = scrub(value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Cells:
    """Cells escaped (escape_cell), counting the control characters left out."""

    def __init__(self) -> None:
        self.removed = 0

    def cell(self, value: Any) -> Any:
        if isinstance(value, str):
            value, removed = scrub(value)
            self.removed += removed
        return escape_cell(value)

    def row(self, values: list[Any]) -> list[Any]:
        return [self.cell(v) for v in values]

    def note(self) -> str | None:
        """What the document says of the characters left out, if any were."""
        if not self.removed:
            return None
        return CONTROLS_NOTE.format(n=self.removed)


# In French, as the files' headers are.
CONTROLS_NOTE = (
    "Caractères de contrôle retirés : {n} caractère(s) invisible(s) enregistré(s) dans les "
    "textes avant que les formulaires ne les écartent ne figurent pas dans ce fichier."
)


# The words of the PDF, not the codes stored in the database.
KIND_LABELS = {
    SequenceKind.SITUATION: _l("Mise en situation"),
    SequenceKind.REFLECTION: _l("Séquence réflexive"),
}
AUTONOMY_LABELS = {Autonomy.ACCOMPANIED: _l("Accompagnée"), Autonomy.ALONE: _l("En autonomie")}
EVALUATION_LABELS = {
    EvaluationKind.INTERMEDIATE: _l("Évaluation intermédiaire"),
    EvaluationKind.FINAL: _l("Évaluation finale"),
}

SEQUENCE_HEADER = [
    "id",
    "date",
    "heure (UTC)",
    "type",
    "durée (min)",
    "autonomie",
    "lieu",
    "intention / attendus",
    "signature tuteur·rice",
    "empreinte tuteur·rice",
    "signature apprenant·e",
    "empreinte apprenant·e",
]


def rows_sequences(pack: Pack) -> list[list[Any]]:
    """The sequence log as rows: one per current sequence, signatures with their hashes."""
    rows = []
    for s in pack.view.sequences:
        tutor = pack.signature("sequence", s.id, "tutor")
        learner = pack.signature("sequence", s.id, "learner")
        rows.append(
            [
                s.public_id,
                s.occurred_at.date(),
                s.occurred_at.strftime("%H:%M"),
                str(KIND_LABELS[s.kind]),
                s.duration_minutes,
                str(AUTONOMY_LABELS[s.autonomy]) if s.autonomy else "",
                s.place,
                s.intent or s.expected,
                tutor.signed_at.replace(tzinfo=None) if tutor else None,
                tutor.content_hash if tutor else "",
                learner.signed_at.replace(tzinfo=None) if learner else None,
                learner.content_hash if learner else "",
            ]
        )
    return rows


def _certificate_facts(pack: Pack) -> list[tuple[str, object]]:
    """The latest signed certificat de réalisation: who signed it, where, when, its hash."""
    state = pack.certificate
    certificate, signature = state.latest, state.signature
    if certificate is None:
        return [("Certificat de réalisation", "non signé")]
    return [
        ("Certificat de réalisation", "à jour" if not state.out_of_date else "plus à jour"),
        ("Certificat : minutes certifiées", certificate.minutes),
        ("Certificat : du", certificate.first_day),
        ("Certificat : au", certificate.last_day),
        ("Certificat : signé par", certificate.signatory_name),
        ("Certificat : qualité", certificate.signatory_role),
        ("Certificat : fait à", certificate.place),
        ("Certificat : le", certificate.signed_on),
        ("Certificat : empreinte (SHA-256)", signature.content_hash if signature else ""),
    ]


def xlsx_bytes(pack: Pack) -> bytes:
    """The same figures as the PDF, one sheet per part; user text escaped."""
    from openpyxl import Workbook

    p = pack.protocol
    cells = _Cells()
    book = Workbook()
    sheet = book.active
    sheet.title = "Protocole"
    facts = [
        ("Intitulé", p.title),
        ("Apprenant·e", p.learner.full_name),
        ("Structure", p.structure.name),
        ("SIRET", p.structure.siret or ""),
        ("Référentiel", f"{p.referential.code} — {p.referential.title}"),
        ("Tuteur·rice(s)", ", ".join(t.full_name for t in pack.tutors)),
        ("Statut", str(STATUS_LABELS[p.status])),
        ("Début prévu", p.planned_start),
        ("Fin prévue", p.planned_end),
        ("Minutes prévues", p.planned_minutes),
        ("Minutes réalisées", pack.minutes_done),
        ("Minutes signées (certificat de réalisation)", pack.minutes_certified),
        *_certificate_facts(pack),
        ("Séquences", len(pack.view.sequences)),
        ("Évaluations", len(pack.view.evaluations)),
        ("Quatre conditions remplies", "oui" if pack.checklist.all_met else "non"),
        ("Objectif", p.objective),
        ("Analyse de l'activité", p.activity_analysis),
        ("Exporté le (UTC)", pack.exported_at.replace(tzinfo=None)),
    ]
    for key, value in facts:
        sheet.append(cells.row([key, value]))
    seq_sheet = book.create_sheet("Séquences")
    seq_sheet.append(SEQUENCE_HEADER)
    for row in rows_sequences(pack):
        seq_sheet.append(cells.row(row))
    eval_sheet = book.create_sheet("Évaluations")
    eval_sheet.append(["id", "type", "date", "compétence", "niveau", "synthèse"])
    for e in pack.view.evaluations:
        for competence_id, level in pack.evaluation_levels.get(e.id, []):
            eval_sheet.append(
                cells.row(
                    [
                        e.public_id,
                        str(EVALUATION_LABELS[e.kind]),
                        e.evaluated_on,
                        pack.competence_labels.get(competence_id, str(competence_id)),
                        level.label,
                        e.summary,
                    ]
                )
            )
    files = pack.attached_files()
    if files:
        sheet_files = book.create_sheet("Pièces jointes")
        sheet_files.append(["séquence", "date", "fichier", "type", "taille (octets)", "sha256"])
        for s, a, name in files:
            sheet_files.append(
                cells.row([s.public_id, s.occurred_at.date(), name, a.media_type, a.size, a.sha256])
            )
    bilan = book.create_sheet("Bilan")
    bilan.append(["bloc", "compétence", "niveau au départ", "niveau à la fin"])
    for block in pack.bilan:
        for row in block.rows:
            bilan.append(
                cells.row(
                    [
                        block.code,
                        f"{row.code} — {row.title}",
                        row.start.label if row.start else "",
                        row.end.label if row.end else "",
                    ]
                )
            )
    checks = book.create_sheet("Conformité")
    checks.append(["condition", "état", "manque"])
    for item in pack.checklist.conditions:
        problems = " ; ".join(str(x) for x in item.problems)
        checks.append(cells.row([str(item.title), str(STATE_LABELS[item.state]), problems]))
    statement_sheet(book, pack, cells)
    if note := cells.note():
        sheet.append(["Note", note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(pack: Pack) -> str:
    """The sequence log as CSV (semicolon-separated, as French spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(SEQUENCE_HEADER)
    cells = _Cells()
    for row in rows_sequences(pack):
        writer.writerow(["" if v is None else cells.cell(v) for v in row])
    if note := cells.note():
        writer.writerow([note])
    return out.getvalue()


# --- the statement of expenses ----------------------------------------------------------------

EUROS = '#,##0.00 "€"'
HOURS = "0.00"
LINE_HEADER = [
    "date",
    "séquence",
    "type",
    "personne",
    "rôle",
    "durée (min)",
    "heures",
    "coût horaire (€)",
    "montant (€)",
]
SPEND_HEADER = ["date", "nature", "libellé", "pièce justificative", "montant (€)"]
LEFT_HEADER = ["date", "séquence ou coût", "type", "rôle", "personne", "durée (min)", "motif"]


def _hours(minutes: int) -> float:
    """Hours as a number the sheet can multiply (shown with two decimals): 50 min is 5/6 h,
    not 0.83 h, so that hours × cost gives the line's amount again."""
    return minutes / 60


def _widths(sheet, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width


def _put(sheet, cells: _Cells, values: list[Any], formats: dict[int, str] | None = None) -> None:
    """Append a row; `formats` gives the number format of some of its columns (0-based)."""
    sheet.append(cells.row(values))
    for column, number_format in (formats or {}).items():
        sheet.cell(row=sheet.max_row, column=column + 1).number_format = number_format


def _summary(sheet, cells: _Cells, figures) -> None:
    """The subtotals and the total of a statement (or of the sum of several), one a row."""
    for label, value, number_format in (
        ("Heures de l'apprenant·e", _hours(figures.learner_minutes), HOURS),
        ("Coût de l'apprenant·e (€)", money.euros(figures.learner_cents), EUROS),
        ("Heures du·de la tuteur·rice", _hours(figures.tutor_minutes), HOURS),
        ("Coût du·de la tuteur·rice (€)", money.euros(figures.tutor_cents), EUROS),
        ("Autres coûts (€)", money.euros(figures.other_cents), EUROS),
        ("Total (€)", money.euros(figures.total_cents), EUROS),
    ):
        _put(sheet, cells, [label, value], {1: number_format})


def _line_row(costed, line) -> list[Any]:
    return [
        line.work.day,
        line.work.public_id,
        str(WORK_LABELS[line.work.kind]),
        costed.name(line.person_id),
        str(COST_ROLE_LABELS[line.role]),
        line.minutes,
        _hours(line.minutes),
        money.euros(line.cents_per_hour),
        money.euros(line.cents),
    ]


LINE_FORMATS = {0: "dd/mm/yyyy", 6: HOURS, 7: EUROS, 8: EUROS}


def _spend_row(spend) -> list[Any]:
    return [
        spend.day,
        str(COST_KIND_LABELS[spend.kind]),
        spend.label,
        spend.voucher,
        money.euros(spend.cents),
    ]


SPEND_FORMATS = {0: "dd/mm/yyyy", 4: EUROS}


def _left_row(costed, left) -> list[Any]:
    if left.spend is not None:
        s = left.spend
        return [
            s.day,
            s.label,
            str(COST_KIND_LABELS[s.kind]),
            "",
            "",
            None,
            str(REASON_LABELS[left.reason]),
        ]
    w = left.work
    return [
        w.day,
        w.public_id,
        str(WORK_LABELS[w.kind]),
        str(COST_ROLE_LABELS[left.role]) if left.role else "",
        costed.name(left.person_id),
        left.minutes,
        str(REASON_LABELS[left.reason]),
    ]


LEFT_FORMATS = {0: "dd/mm/yyyy"}


def _period_text(period) -> str:
    if period is None:
        return "toute la durée du protocole"
    return f"du {period.start:%d/%m/%Y} au {period.end:%d/%m/%Y}"


def statement_sheet(book, pack: Pack, cells: _Cells) -> None:
    """The proof pack's sheet "État des dépenses": the figures of its PDF page."""
    costed, p = pack.expenses, pack.protocol
    sheet = book.create_sheet("État des dépenses")
    _widths(sheet, [30, 24, 20, 24, 14, 12, 10, 16, 14])
    for key, value in (
        ("Employeur", p.structure.name),
        ("SIRET", p.structure.siret or ""),
        ("Intitulé", p.title),
        ("Apprenant·e", p.learner.full_name),
        ("Période", _period_text(costed.statement.period)),
    ):
        _put(sheet, cells, [key, value])
    _summary(sheet, cells, costed.statement)
    sheet.append([])
    _put(sheet, cells, ["Heures comptées"])
    sheet.append(LINE_HEADER)
    for line in costed.statement.lines:
        _put(sheet, cells, _line_row(costed, line), LINE_FORMATS)
    sheet.append([])
    _put(sheet, cells, ["Autres coûts"])
    sheet.append(SPEND_HEADER)
    for spend in costed.statement.spends:
        _put(sheet, cells, _spend_row(spend), SPEND_FORMATS)
    sheet.append([])
    _put(sheet, cells, ["Non comptés"])
    sheet.append(LEFT_HEADER)
    for left in costed.statement.left:
        _put(sheet, cells, _left_row(costed, left), LEFT_FORMATS)


SUMMARY_HEADER = [
    "intitulé",
    "apprenant·e",
    "heures apprenant·e",
    "coût apprenant·e (€)",
    "heures tuteur·rice",
    "coût tuteur·rice (€)",
    "autres coûts (€)",
    "total (€)",
]
SUMMARY_FORMATS = {2: HOURS, 3: EUROS, 4: HOURS, 5: EUROS, 6: EUROS, 7: EUROS}


def _summary_row(title: str, learner: str, figures) -> list[Any]:
    return [
        title,
        learner,
        _hours(figures.learner_minutes),
        money.euros(figures.learner_cents),
        _hours(figures.tutor_minutes),
        money.euros(figures.tutor_cents),
        money.euros(figures.other_cents),
        money.euros(figures.total_cents),
    ]


def statement_xlsx(found) -> bytes:
    """A structure's statement over a period (afest.costs.queries.StructureStatement): a
    summary sheet, one row per protocol and their total; the lines, the other costs and
    what is left out, each on its sheet, with the protocol they belong to."""
    from openpyxl import Workbook

    cells = _Cells()
    book = Workbook()
    sheet = book.active
    sheet.title = "Synthèse"
    _put(sheet, cells, ["Employeur", found.structure.name])
    _put(sheet, cells, ["SIRET", found.structure.siret or ""])
    _put(sheet, cells, ["Période", _period_text(found.period)])
    sheet.append([])
    sheet.append(SUMMARY_HEADER)
    for c in found.protocols:
        row = _summary_row(c.protocol.title, c.protocol.learner.full_name, c.statement)
        _put(sheet, cells, row, SUMMARY_FORMATS)
    _put(sheet, cells, _summary_row("Total", "", found.total), SUMMARY_FORMATS)
    parts = (
        ("Lignes", LINE_HEADER, lambda c: c.statement.lines, _line_row, LINE_FORMATS),
        (
            "Autres coûts",
            SPEND_HEADER,
            lambda c: c.statement.spends,
            lambda c, s: _spend_row(s),
            SPEND_FORMATS,
        ),
        ("Non comptés", LEFT_HEADER, lambda c: c.statement.left, _left_row, LEFT_FORMATS),
    )
    for title, header, items, row_of, formats in parts:
        part = book.create_sheet(title)
        part.append(["intitulé", "apprenant·e", *header])
        shifted = {column + 2: f for column, f in formats.items()}
        for c in found.protocols:
            for item in items(c):
                row = [c.protocol.title, c.protocol.learner.full_name, *row_of(c, item)]
                _put(part, cells, row, shifted)
    if note := cells.note():
        sheet.append(["Note", note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
