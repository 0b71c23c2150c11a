"""The page of a référentiel, composed for its views: its blocks, competences and level
scale, and for whoever may edit it the editor's three forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from afest import policy
from afest.models import Level, Referential
from afest.referentials import queries
from afest.referentials.forms import BlockForm, CompetenceForm, LevelsForm


def scale_text(levels: Iterable[Level]) -> str:
    """The scale as the editor types it: a level a line, an acquired one marked with " *"."""
    return "\n".join(lv.label + (" *" if lv.acquired else "") for lv in levels)


def editor_page(
    session: Session,
    actor,
    ref: Referential,
    *,
    block_form=None,
    competence_form=None,
    levels_form=None,
) -> dict[str, Any]:
    """The référentiel in full and the editor's forms: blank (the scale's filled with the
    scale as it stands), or the one posted in vain back with its messages."""
    full = queries.full(session, ref.id)
    return {
        "ref": full,
        "newer": queries.newer_version(session, full),
        "editable": policy.can_edit_referential(actor, ref),
        "block_form": block_form or BlockForm(formdata=None),
        "competence_form": competence_form or CompetenceForm.of_blocks(full.blocks, formdata=None),
        "levels_form": levels_form or LevelsForm(formdata=None, levels=scale_text(full.levels)),
    }
