"""The words of the costs and of the statement of expenses, in French (lazy), for the pages,
the proof pack's PDF and its workbook."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from afest.costs import money
from afest.models import CostRole, OtherCostKind, SequenceKind
from afest.proof.expenses import EVALUATION, Reason

ROLE_LABELS = {CostRole.LEARNER: _l("Apprenant·e"), CostRole.TUTOR: _l("Tuteur·rice")}

DEFAULT_LABELS = {
    CostRole.LEARNER: _l("Coût par défaut des apprenant·es"),
    CostRole.TUTOR: _l("Coût par défaut des tuteur·rices"),
}

KIND_LABELS = {
    OtherCostKind.TUTOR_TRAINING: _l("Formation du·de la tuteur·rice"),
    OtherCostKind.EXTERNAL_SUPPORT: _l("Accompagnement extérieur"),
    OtherCostKind.PEDAGOGICAL: _l("Frais pédagogiques (matériel, documentation)"),
    OtherCostKind.OTHER: _l("Autre coût"),
}

WORK_LABELS = {
    SequenceKind.SITUATION: _l("Mise en situation"),
    SequenceKind.REFLECTION: _l("Séquence réflexive"),
    EVALUATION: _l("Évaluation"),
}

REASON_LABELS = {
    Reason.AMENDED: _l("remplacée par une correction, comptée à sa place"),
    Reason.OUTSIDE_PERIOD: _l("hors de la période"),
    Reason.UNSIGNED: _l("pas signée par le·la tuteur·rice et l'apprenant·e"),
    Reason.NO_DURATION: _l("durée de l'évaluation non déclarée"),
    Reason.NO_RATE: _l("aucun coût horaire valable ce jour-là"),
}


def words() -> dict[str, Any]:
    """What the cost pages and the proof pack's page render with: these labels and the
    money format."""
    return {
        "money": money.shown,
        "COST_ROLE_LABELS": ROLE_LABELS,
        "DEFAULT_LABELS": DEFAULT_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "WORK_LABELS": WORK_LABELS,
        "REASON_LABELS": REASON_LABELS,
    }
