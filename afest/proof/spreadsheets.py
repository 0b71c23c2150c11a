"""The proof pack as data: the workbook (one sheet per part) and the sequence log as CSV,
user text escaped so that no spreadsheet reads it as a formula, and without the control
characters stored before forms removed them (a last line says how many were left out)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import lazy_gettext as _l

from afest.core.controls import scrub
from afest.core.http import STATUS_LABELS
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
