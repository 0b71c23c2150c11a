"""The pages that log or correct a sequence with levels, composed for their views: the
protocol's situations (the unanalysed ones marked), and the level groups, the competences of
the situations chosen first."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlmodel import Session

from afest.models import Protocol, Sequence, SequenceKind
from afest.sequences import tablet


def situation_page(session: Session, protocol: Protocol, form) -> dict[str, Any]:
    """The situation form: the protocol's competences by block, those of its current focus
    first (tablet.focus_of), the others folded; the ones chosen always in view."""
    blocks = tablet.scope_by_block(session, protocol.id)
    focus = tablet.focus_of(session, protocol.id, blocks)
    if focus:
        focus |= set(form.competence_ids.data or [])
    return {"protocol": protocol, "form": form, "blocks": blocks, "focus": focus}


def reflection_page(session: Session, protocol: Protocol, form) -> dict[str, Any]:
    """The reflection form: blank with the unanalysed situations chosen, or back with its
    messages."""
    situations, open_ids = tablet.situations(session, protocol.id)
    if not form.is_submitted():
        form.situation_ids.data = sorted(open_ids)
    return {
        "protocol": protocol,
        "form": form,
        "situations": situations,
        "open_ids": open_ids,
        **tablet.level_groups(
            session, protocol, chosen=form.levels, situation_ids=form.situation_ids.data
        ),
    }


def amend_page(session: Session, sequence: Sequence, protocol: Protocol, form) -> dict[str, Any]:
    """The correction form of a sequence; a reflection's shows its situations and levels."""
    situations, open_ids = tablet.situations(session, protocol.id)
    reflection = sequence.kind == SequenceKind.REFLECTION
    return {
        "sequence": sequence,
        "protocol": protocol,
        "form": form,
        "situations": situations,
        "open_ids": open_ids,
        **tablet.level_groups(
            session,
            protocol,
            chosen=form.levels if reflection else {},
            situation_ids=form.situation_ids.data if reflection else None,
        ),
    }


def after_save(protocol: Protocol, sequence: Sequence, *, signed: bool) -> str:
    """Where the tablet goes once an entry is saved. Signed on the form: a situation opens
    its reflexive sequence (same learner, the situations to analyse chosen: the usual
    "debrief straight after"), a reflection goes back to the learner's screen. Saved without
    signing: the entry's page, where she signs it. `saved` in the address says what was just
    saved (offline.js follows the redirect with fetch, which would spend a flashed message
    before the page shows it)."""
    if not signed:
        return url_for("sequences.show", public_id=sequence.public_id, saved=1)
    if sequence.kind == SequenceKind.SITUATION:
        return url_for("tablet.reflection", public_id=protocol.public_id, saved="situation")
    return url_for("tablet.learner", public_id=protocol.public_id, saved="reflection")
