"""The pages of a VAE pathway, composed for their views: its timeline with the form of the
next milestone, and the feasibility self-assessment (as saved, or proposed from the AFEST
levels)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from afest import policy
from afest.models import CompetenceBlock, Organisation, Referential, User, VaePathway
from afest.vae import queries
from afest.vae.forms import feasibility_form, milestone_form
from afest.vae.states import FEASIBILITY_OPEN


def people(session: Session, pathway: VaePathway) -> dict[str, Any]:
    """The learner, consultant, structure and référentiel every page of a pathway names."""
    return {
        "learner": session.get(User, pathway.learner_id),
        "consultant": session.get(User, pathway.consultant_id) if pathway.consultant_id else None,
        "structure": session.get(Organisation, pathway.structure_id),
        "referential": session.get(Referential, pathway.referential_id),
    }


def pathway_page(session: Session, actor, pathway: VaePathway, form=None) -> dict[str, Any]:
    """The timeline, the road ahead, the jury's results per block and, for whoever may record
    it, the form of the next milestone (blank, or `form` back with its messages)."""
    blocks = queries.blocks_of(session, pathway.referential_id)
    can_record = policy.can_record_vae_milestone(actor, pathway)
    next_states = queries.next_states(pathway)
    if can_record and form is None and next_states:
        form = milestone_form(next_states, blocks, formdata=None)
    return {
        "pathway": pathway,
        "timeline": queries.timeline(session, pathway.id),
        "road": queries.road_ahead(pathway),
        "blocks": blocks,
        "results": queries.block_results(session, pathway.id),
        "form": form if can_record else None,
        "can_edit_feasibility": policy.can_edit_feasibility(actor, pathway),
        **people(session, pathway),
    }


def competence_ids(groups: list[tuple[CompetenceBlock, list]]) -> list[int]:
    """The competences of the certification, block after block: one answer field each."""
    return [c.id for _block, competences in groups for c in competences]


def _answers_form(session: Session, pathway: VaePathway, groups, prefilled: bool):
    """The self-assessment as saved, or as the learner's AFEST levels suggest it."""
    if prefilled:
        answers = queries.prefill_from_afest(session, pathway)
    else:
        saved = queries.feasibility_answers(session, pathway.id)
        answers = {k: a.answer for k, a in saved.items()}
    data = {f"c_{k}": v.value for k, v in answers.items()}
    return feasibility_form(competence_ids(groups), formdata=None, data=data)


def feasibility_page(
    session: Session, actor, pathway: VaePathway, form=None, *, prefilled: bool = False
) -> dict[str, Any]:
    """The self-assessment per competence grouped by block: as saved, proposed from AFEST
    (`prefilled`), or `form` back with its messages; editable while the pathway allows it."""
    groups = queries.competences_by_block(session, pathway.referential_id)
    if form is None:
        form = _answers_form(session, pathway, groups, prefilled)
    return {
        "pathway": pathway,
        "groups": groups,
        "form": form,
        "editable": policy.can_edit_feasibility(actor, pathway)
        and pathway.state in FEASIBILITY_OPEN,
        "prefilled": prefilled,
        **people(session, pathway),
    }
