"""VAE pathways: milestones in France VAE order, kept as dated history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.models import (
    BlockOutcome,
    CompetenceBlock,
    JuryResult,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    VaeState,
    utcnow,
)
from afest.services import ServiceError, audit

S = VaeState
# Which milestone may follow which. A not-receivable feasibility ends the pathway or
# reroutes it to a newly agreed pathway (with a reason).
NEXT: dict[VaeState, tuple[VaeState, ...]] = {
    S.PROJET: (S.VALIDATION, S.ABANDON),
    S.VALIDATION: (S.PRISE_EN_CHARGE, S.ABANDON),
    S.PRISE_EN_CHARGE: (S.PARCOURS_CONFIRME, S.ABANDON),
    S.PARCOURS_CONFIRME: (S.FAISABILITE_ENVOYEE, S.ABANDON),
    S.FAISABILITE_ENVOYEE: (S.FAISABILITE_INCOMPLETE, S.FAISABILITE_COMPLETE),
    S.FAISABILITE_INCOMPLETE: (S.FAISABILITE_ENVOYEE, S.ABANDON),
    S.FAISABILITE_COMPLETE: (S.FAISABILITE_RECEVABLE, S.FAISABILITE_NON_RECEVABLE),
    S.FAISABILITE_RECEVABLE: (S.VALIDATION_REDIGEE, S.ABANDON),
    S.FAISABILITE_NON_RECEVABLE: (S.PARCOURS_CONFIRME, S.ABANDON),
    S.VALIDATION_REDIGEE: (S.VALIDATION_ENVOYEE, S.ABANDON),
    S.VALIDATION_ENVOYEE: (S.PREPARATION_ORAL, S.JURY_PLANIFIE, S.ABANDON),
    S.PREPARATION_ORAL: (S.JURY_PLANIFIE, S.ABANDON),
    S.JURY_PLANIFIE: (S.JURY_RESULTAT,),
    S.JURY_RESULTAT: (S.CERTIFICATION, S.JURY_PLANIFIE),
    S.CERTIFICATION: (),
    S.ABANDON: (),
}
NEEDS_REASON = {S.FAISABILITE_NON_RECEVABLE, S.ABANDON, S.FAISABILITE_INCOMPLETE}
# A reroute after a not-receivable feasibility needs its reason too.
REROUTE = (S.FAISABILITE_NON_RECEVABLE, S.PARCOURS_CONFIRME)


def start_pathway(
    session: Session,
    *,
    actor_id: int,
    learner_id: int,
    structure_id: int,
    referential_id: int,
    cohort_id: int | None,
    consultant_id: int | None,
    started_on: date,
    note: str = "",
) -> VaePathway:
    """Open a pathway at its first milestone (project)."""
    pathway = VaePathway(
        learner_id=learner_id,
        structure_id=structure_id,
        referential_id=referential_id,
        cohort_id=cohort_id,
        consultant_id=consultant_id,
        state=S.PROJET,
    )
    session.add(pathway)
    session.flush()
    session.add(
        VaeMilestone(
            pathway_id=pathway.id,
            state=S.PROJET,
            occurred_on=started_on,
            recorded_by_id=actor_id,
            recorded_at=utcnow(),
            note=note,
        )
    )
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="vae.start",
        subject_kind="vae",
        subject_id=pathway.id,
        structure_id=structure_id,
        after={"state": S.PROJET, "on": started_on},
    )
    return pathway


def history(session: Session, pathway_id: int) -> list[VaeMilestone]:
    return list(
        session.exec(
            select(VaeMilestone)
            .where(VaeMilestone.pathway_id == pathway_id)
            .order_by(VaeMilestone.occurred_on, VaeMilestone.id)
        )
    )


def record_milestone(
    session: Session,
    *,
    actor_id: int,
    pathway: VaePathway,
    state: VaeState,
    occurred_on: date,
    note: str = "",
    reason: str = "",
    jury_date: date | None = None,
    jury_place: str = "",
    jury_result: JuryResult | None = None,
    block_outcomes: Mapping[int, BlockOutcome] | None = None,
) -> VaeMilestone:
    """Move the pathway to its next milestone, refusing any step out of order."""
    if state not in NEXT[pathway.state]:
        raise ServiceError(
            _l("Étape impossible après « %(current)s ».", current=str(pathway.state)), field="state"
        )
    past = history(session, pathway.id)
    if past and occurred_on < past[-1].occurred_on:
        raise ServiceError(_l("La date précède celle de l'étape précédente."), field="occurred_on")
    if (state in NEEDS_REASON or (pathway.state, state) == REROUTE) and not reason.strip():
        raise ServiceError(_l("Indiquez le motif."), field="reason")
    if state == S.JURY_PLANIFIE and (jury_date is None or not jury_place.strip()):
        raise ServiceError(_l("Indiquez la date et le lieu du jury."), field="jury_date")
    if state == S.JURY_RESULTAT:
        _check_jury(session, pathway, jury_result, block_outcomes or {})
    if state == S.CERTIFICATION and pathway.jury_result not in (
        JuryResult.SUCCESS,
        JuryResult.PARTIAL_SUCCESS,
    ):
        raise ServiceError(
            _l("La certification suit une validation totale ou partielle."), field="state"
        )

    milestone = VaeMilestone(
        pathway_id=pathway.id,
        state=state,
        occurred_on=occurred_on,
        recorded_by_id=actor_id,
        recorded_at=utcnow(),
        note=note.strip(),
        reason=reason.strip(),
        jury_date=jury_date,
        jury_place=jury_place.strip(),
        jury_result=jury_result,
    )
    session.add(milestone)
    session.flush()
    if state == S.JURY_RESULTAT:
        for block_id, outcome in sorted((block_outcomes or {}).items()):
            row = session.get(VaeBlockResult, (pathway.id, block_id))
            if row is None:
                session.add(
                    VaeBlockResult(
                        pathway_id=pathway.id,
                        block_id=block_id,
                        outcome=outcome,
                        milestone_id=milestone.id,
                    )
                )
            elif row.outcome != BlockOutcome.VALIDATED:  # a block once validated stays so
                row.outcome, row.milestone_id = outcome, milestone.id
                session.add(row)
        pathway.jury_result = jury_result
    before = pathway.state
    pathway.state = state
    session.add(pathway)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="vae.milestone",
        subject_kind="vae",
        subject_id=pathway.id,
        structure_id=pathway.structure_id,
        before={"state": before},
        after={
            "state": state,
            "on": occurred_on,
            "reason": reason or None,
            "jury_result": jury_result,
        },
    )
    return milestone


def _check_jury(
    session: Session,
    pathway: VaePathway,
    result: JuryResult | None,
    outcomes: Mapping[int, BlockOutcome],
) -> None:
    if result is None:
        raise ServiceError(_l("Indiquez le résultat du jury."), field="jury_result")
    blocks = set(
        session.exec(
            select(CompetenceBlock.id).where(
                CompetenceBlock.referential_id == pathway.referential_id
            )
        )
    )
    if not outcomes or not set(outcomes) <= blocks:
        raise ServiceError(
            _l("Indiquez le résultat de chaque bloc présenté."), field="block_outcomes"
        )
    validated = {b for b, o in outcomes.items() if o == BlockOutcome.VALIDATED}
    expected = (
        JuryResult.SUCCESS
        if validated == blocks
        else JuryResult.FAILURE
        if not validated
        else JuryResult.PARTIAL_SUCCESS
    )
    if result != expected and not (
        result == JuryResult.SUCCESS
        and validated == set(outcomes)
        and _previously_validated(session, pathway) | validated == blocks
    ):
        raise ServiceError(
            _l("Le résultat global ne correspond pas aux résultats par bloc."), field="jury_result"
        )


def _previously_validated(session: Session, pathway: VaePathway) -> set[int]:
    return set(
        session.exec(
            select(VaeBlockResult.block_id).where(
                VaeBlockResult.pathway_id == pathway.id,
                VaeBlockResult.outcome == BlockOutcome.VALIDATED,
            )
        )
    )
