"""Reads of a VAE pathway: its timeline, what may come next, its results by block, the
référentiel's blocks and the feasibility answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from afest import policy
from afest.assessments.progress import competence_levels
from afest.models import (
    BlockOutcome,
    Competence,
    CompetenceBlock,
    FeasibilityAnswer,
    Organisation,
    SelfAssessment,
    User,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    VaeState,
)
from afest.vae.states import NEXT, ROAD, S


@dataclass(frozen=True)
class TimelineEntry:
    milestone: VaeMilestone
    recorded_by: str


def history(session: Session, pathway_id: int) -> list[VaeMilestone]:
    return list(
        session.exec(
            select(VaeMilestone)
            .where(VaeMilestone.pathway_id == pathway_id)
            .order_by(VaeMilestone.occurred_on, VaeMilestone.id)
        )
    )


def timeline(session: Session, pathway_id: int) -> list[TimelineEntry]:
    """The pathway's history, oldest first, with who recorded each step (one query)."""
    return [
        TimelineEntry(m, name)
        for m, name in session.exec(
            select(VaeMilestone, User.full_name)
            .join(User, User.id == VaeMilestone.recorded_by_id)
            .where(VaeMilestone.pathway_id == pathway_id)
            .order_by(VaeMilestone.occurred_on, VaeMilestone.id)
        )
    ]


def next_states(pathway: VaePathway) -> tuple[VaeState, ...]:
    """The milestones that may be recorded now."""
    return NEXT[pathway.state]


def road_ahead(pathway: VaePathway) -> list[VaeState]:
    """The ordinary steps still to come, for the learner's "what comes next"."""
    if pathway.state in (S.ABANDON, S.CERTIFICATION):
        return []
    if pathway.state in ROAD:
        return list(ROAD[ROAD.index(pathway.state) + 1 :])
    # Detours: incomplete goes back to sending, not receivable back to agreeing the pathway.
    back = (
        S.FAISABILITE_ENVOYEE if pathway.state == S.FAISABILITE_INCOMPLETE else S.PARCOURS_CONFIRME
    )
    return list(ROAD[ROAD.index(back) :])


def block_results(session: Session, pathway_id: int) -> dict[int, BlockOutcome]:
    return dict(
        session.exec(
            select(VaeBlockResult.block_id, VaeBlockResult.outcome).where(
                VaeBlockResult.pathway_id == pathway_id
            )
        ).all()
    )


def blocks_of(session: Session, referential_id: int) -> list[CompetenceBlock]:
    return list(
        session.exec(
            select(CompetenceBlock)
            .where(CompetenceBlock.referential_id == referential_id)
            .order_by(CompetenceBlock.position, CompetenceBlock.id)
        )
    )


def competences_by_block(
    session: Session, referential_id: int
) -> list[tuple[CompetenceBlock, list[Competence]]]:
    """The référentiel's blocks with their competences, in two queries."""
    blocks = blocks_of(session, referential_id)
    by_block: dict[int, list[Competence]] = {b.id: [] for b in blocks}
    for comp in session.exec(
        select(Competence)
        .where(Competence.block_id.in_(list(by_block)))
        .order_by(Competence.block_id, Competence.position, Competence.id)
    ):
        by_block[comp.block_id].append(comp)
    return [(b, by_block[b.id]) for b in blocks]


def feasibility_answers(session: Session, pathway_id: int) -> dict[int, FeasibilityAnswer]:
    return {
        a.competence_id: a
        for a in session.exec(
            select(FeasibilityAnswer).where(FeasibilityAnswer.pathway_id == pathway_id)
        )
    }


def prefill_from_afest(session: Session, pathway: VaePathway) -> dict[int, SelfAssessment]:
    """A suggested self-assessment from the AFEST levels: acquired → yes, started → partly,
    not acquired → no. Competences never assessed in an AFEST are left for the learner."""
    _initial, current = competence_levels(session, pathway.learner_id)
    suggestion = {}
    for competence_id, level in current.items():
        if level.acquired:
            suggestion[competence_id] = SelfAssessment.YES
        elif level.rank > 0:
            suggestion[competence_id] = SelfAssessment.PARTLY
        else:
            suggestion[competence_id] = SelfAssessment.NO
    return suggestion


def visible_pathways(session: Session, actor) -> list:
    """(pathway, learner's name, structure's name) of every pathway the actor may see."""
    return list(
        session.exec(
            select(VaePathway, User.full_name, Organisation.name)
            .join(User, User.id == VaePathway.learner_id)
            .join(Organisation, Organisation.id == VaePathway.structure_id)
            .where(policy.vae_visible(actor))
            .order_by(Organisation.name, User.full_name)
        )
    )
