"""VAE pathways: milestones in France VAE order, kept as dated history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

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
    User,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    VaeState,
    utcnow,
)

S = VaeState
STATE_LABELS = {
    S.PROJET: _l("Projet"),
    S.VALIDATION: _l("Recevabilité du projet vérifiée"),
    S.PRISE_EN_CHARGE: _l("Accompagnement commencé"),
    S.PARCOURS_CONFIRME: _l("Parcours validé"),
    S.FAISABILITE_ENVOYEE: _l("Dossier de faisabilité envoyé"),
    S.FAISABILITE_INCOMPLETE: _l("Dossier de faisabilité incomplet"),
    S.FAISABILITE_COMPLETE: _l("Dossier de faisabilité complet"),
    S.FAISABILITE_RECEVABLE: _l("Dossier de faisabilité recevable"),
    S.FAISABILITE_NON_RECEVABLE: _l("Dossier de faisabilité non recevable"),
    S.VALIDATION_REDIGEE: _l("Dossier de validation rédigé"),
    S.VALIDATION_ENVOYEE: _l("Dossier de validation envoyé"),
    S.PREPARATION_ORAL: _l("Préparation de l'oral"),
    S.JURY_PLANIFIE: _l("Jury prévu"),
    S.JURY_RESULTAT: _l("Résultat du jury"),
    S.CERTIFICATION: _l("Certification obtenue"),
    S.ABANDON: _l("Parcours arrêté"),
}
JURY_LABELS = {
    JuryResult.SUCCESS: _l("Validation totale"),
    JuryResult.PARTIAL_SUCCESS: _l("Validation partielle"),
    JuryResult.FAILURE: _l("Pas de validation"),
}
OUTCOME_LABELS = {
    BlockOutcome.VALIDATED: _l("Bloc validé"),
    BlockOutcome.NOT_VALIDATED: _l("Bloc non validé"),
}
ANSWER_LABELS = {
    SelfAssessment.YES: _l("Oui"),
    SelfAssessment.PARTLY: _l("En partie"),
    SelfAssessment.NO: _l("Non"),
}
# The way forward a learner is shown, in pathway order (the ordinary road, no detours).
ROAD = (
    S.PROJET,
    S.VALIDATION,
    S.PRISE_EN_CHARGE,
    S.PARCOURS_CONFIRME,
    S.FAISABILITE_ENVOYEE,
    S.FAISABILITE_COMPLETE,
    S.FAISABILITE_RECEVABLE,
    S.VALIDATION_REDIGEE,
    S.VALIDATION_ENVOYEE,
    S.PREPARATION_ORAL,
    S.JURY_PLANIFIE,
    S.JURY_RESULTAT,
    S.CERTIFICATION,
)
# The self-assessment is written before the feasibility file is sent, or when it came back
# incomplete or not receivable (then the pathway is agreed again).
FEASIBILITY_OPEN = {
    S.PROJET,
    S.VALIDATION,
    S.PRISE_EN_CHARGE,
    S.PARCOURS_CONFIRME,
    S.FAISABILITE_INCOMPLETE,
}
# A milestone may be dated a little ahead (time zones) but not in the future.
FUTURE_TOLERANCE = timedelta(days=1)
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


@dataclass(frozen=True)
class TimelineEntry:
    milestone: VaeMilestone
    recorded_by: str


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
    from afest.assessments.progress import competence_levels

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
