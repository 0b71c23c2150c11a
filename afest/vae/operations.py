"""VAE pathways: starting one, recording its milestones in France VAE order (kept as dated
history), the feasibility self-assessment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    BlockOutcome,
    Competence,
    CompetenceBlock,
    FeasibilityAnswer,
    JuryResult,
    SelfAssessment,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    VaeState,
    utcnow,
)
from afest.vae.queries import feasibility_answers, history
from afest.vae.states import (
    FEASIBILITY_OPEN,
    FUTURE_TOLERANCE,
    NEEDS_REASON,
    NEXT,
    REROUTE,
    STATE_LABELS,
    S,
)


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
    rollups.on_milestone_recorded(session, pathway.id)
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
            _l(
                "Étape impossible après « %(current)s ».",
                current=str(STATE_LABELS[pathway.state]),
            ),
            field="state",
        )
    if occurred_on > utcnow().date() + FUTURE_TOLERANCE:
        raise ServiceError(_l("La date est dans le futur."), field="occurred_on")
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
    rollups.on_milestone_recorded(session, pathway.id)
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


def save_feasibility(
    session: Session,
    *,
    actor_id: int,
    pathway: VaePathway,
    answers: Mapping[int, SelfAssessment | None],
) -> int:
    """Record the self-assessment per competence; returns how many answers changed."""
    if pathway.state not in FEASIBILITY_OPEN:
        raise ServiceError(
            _l("Le dossier de faisabilité est envoyé : l'auto-évaluation ne se modifie plus.")
        )
    allowed = set(
        session.exec(
            select(Competence.id)
            .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
            .where(CompetenceBlock.referential_id == pathway.referential_id)
        )
    )
    if not set(answers) <= allowed:
        raise ServiceError(_l("Une compétence n'appartient pas à la certification visée."))
    existing = feasibility_answers(session, pathway.id)
    changed: dict[int, str | None] = {}
    now = utcnow()
    for competence_id, answer in sorted(answers.items()):
        row = existing.get(competence_id)
        if answer is None:
            if row is not None:
                session.delete(row)
                changed[competence_id] = None
            continue
        if row is None:
            session.add(
                FeasibilityAnswer(
                    pathway_id=pathway.id,
                    competence_id=competence_id,
                    answer=answer,
                    updated_at=now,
                )
            )
        elif row.answer != answer:
            row.answer, row.updated_at = answer, now
            session.add(row)
        else:
            continue
        changed[competence_id] = str(answer)
    session.flush()
    if changed:
        audit.record(
            session,
            actor_id=actor_id,
            action="vae.feasibility",
            subject_kind="vae",
            subject_id=pathway.id,
            structure_id=pathway.structure_id,
            after={"answers": {str(k): v for k, v in changed.items()}},
        )
    return len(changed)
