"""VAE milestones: France VAE order, reasons for detours, history of every change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.models import (
    AuditEntry,
    BlockOutcome,
    Competence,
    CompetenceBlock,
    FeasibilityAnswer,
    JuryResult,
    SelfAssessment,
    VaeMilestone,
    VaeState,
)
from afest.vae import operations as vae
from afest.vae import queries as vae_queries
from afest.vae import states as vae_states
from tests.learner_factories import history

S = VaeState
ROAD_TO_SENT = [
    S.VALIDATION,
    S.PRISE_EN_CHARGE,
    S.PARCOURS_CONFIRME,
    S.FAISABILITE_ENVOYEE,
    S.FAISABILITE_COMPLETE,
    S.FAISABILITE_RECEVABLE,
    S.VALIDATION_REDIGEE,
]


@pytest.fixture()
def pathway(session, make_protocol):
    protocol, people = make_protocol()
    p = vae.start_pathway(
        session,
        actor_id=people["manager"].id,
        learner_id=people["learner"].id,
        structure_id=protocol.structure_id,
        referential_id=protocol.referential_id,
        cohort_id=None,
        consultant_id=None,
        started_on=date.today() - timedelta(days=100),
    )
    p._people, p._protocol = people, protocol  # for the tests below
    return p


def walk(session, pathway, states, *, start=None):
    day = start or date.today() - timedelta(days=90)
    for state in states:
        day += timedelta(days=1)
        vae.record_milestone(
            session,
            actor_id=pathway._people["manager"].id,
            pathway=pathway,
            state=state,
            occurred_on=day,
            reason="motif" if state in vae_states.NEEDS_REASON else "",
        )
    return day


def block_ids(session, pathway):
    return list(
        session.exec(
            select(CompetenceBlock.id).where(
                CompetenceBlock.referential_id == pathway.referential_id
            )
        )
    )


def test_no_jury_before_the_dossier_de_validation_is_sent(session, pathway):
    day = walk(session, pathway, ROAD_TO_SENT)
    outcomes = dict.fromkeys(block_ids(session, pathway), BlockOutcome.VALIDATED)
    for state in (S.JURY_RESULTAT, S.JURY_PLANIFIE, S.PREPARATION_ORAL, S.CERTIFICATION):
        with pytest.raises(ServiceError) as refused:
            vae.record_milestone(
                session,
                actor_id=pathway._people["manager"].id,
                pathway=pathway,
                state=state,
                occurred_on=day,
                jury_date=day,
                jury_place="Marseille",
                jury_result=JuryResult.SUCCESS,
                block_outcomes=outcomes,
            )
        assert refused.value.field == "state"
    assert pathway.state == S.VALIDATION_REDIGEE

    walk(session, pathway, [S.VALIDATION_ENVOYEE], start=day)
    vae.record_milestone(
        session,
        actor_id=pathway._people["manager"].id,
        pathway=pathway,
        state=S.JURY_PLANIFIE,
        occurred_on=day + timedelta(days=2),
        jury_date=day + timedelta(days=20),
        jury_place="DREETS PACA, Marseille",
    )
    vae.record_milestone(
        session,
        actor_id=pathway._people["manager"].id,
        pathway=pathway,
        state=S.JURY_RESULTAT,
        occurred_on=day + timedelta(days=3),
        jury_result=JuryResult.SUCCESS,
        block_outcomes=outcomes,
    )
    assert pathway.state == S.JURY_RESULTAT
    assert pathway.jury_result == JuryResult.SUCCESS


def test_jury_needs_date_and_place_and_a_result_consistent_with_blocks(session, pathway):
    day = walk(session, pathway, [*ROAD_TO_SENT, S.VALIDATION_ENVOYEE])
    manager = pathway._people["manager"].id
    with pytest.raises(ServiceError) as missing:
        vae.record_milestone(
            session, actor_id=manager, pathway=pathway, state=S.JURY_PLANIFIE, occurred_on=day
        )
    assert missing.value.field == "jury_date"
    vae.record_milestone(
        session,
        actor_id=manager,
        pathway=pathway,
        state=S.JURY_PLANIFIE,
        occurred_on=day,
        jury_date=day + timedelta(days=5),
        jury_place="Marseille",
    )
    blocks = block_ids(session, pathway)
    partial = dict.fromkeys(blocks, BlockOutcome.VALIDATED)
    partial[blocks[0]] = BlockOutcome.NOT_VALIDATED
    with pytest.raises(ServiceError) as inconsistent:
        vae.record_milestone(
            session,
            actor_id=manager,
            pathway=pathway,
            state=S.JURY_RESULTAT,
            occurred_on=day,
            jury_result=JuryResult.SUCCESS,
            block_outcomes=partial,
        )
    assert inconsistent.value.field == "jury_result"


def test_not_receivable_needs_a_reason_then_ends_or_reroutes(session, pathway):
    day = walk(session, pathway, ROAD_TO_SENT[:5])
    manager = pathway._people["manager"].id
    with pytest.raises(ServiceError) as no_reason:
        vae.record_milestone(
            session,
            actor_id=manager,
            pathway=pathway,
            state=S.FAISABILITE_NON_RECEVABLE,
            occurred_on=day,
        )
    assert no_reason.value.field == "reason"
    vae.record_milestone(
        session,
        actor_id=manager,
        pathway=pathway,
        state=S.FAISABILITE_NON_RECEVABLE,
        occurred_on=day,
        reason="Expérience insuffisante sur le bloc 3",
    )
    # Only two ways out: a new agreed pathway (with its reason) or the end.
    assert set(vae_queries.next_states(pathway)) == {S.PARCOURS_CONFIRME, S.ABANDON}
    with pytest.raises(ServiceError):
        vae.record_milestone(
            session,
            actor_id=manager,
            pathway=pathway,
            state=S.VALIDATION_REDIGEE,
            occurred_on=day,
        )
    with pytest.raises(ServiceError) as reroute_reason:
        vae.record_milestone(
            session, actor_id=manager, pathway=pathway, state=S.PARCOURS_CONFIRME, occurred_on=day
        )
    assert reroute_reason.value.field == "reason"
    vae.record_milestone(
        session,
        actor_id=manager,
        pathway=pathway,
        state=S.PARCOURS_CONFIRME,
        occurred_on=day,
        reason="Réorientation vers le DEAES",
    )
    assert pathway.state == S.PARCOURS_CONFIRME
    assert vae_queries.road_ahead(pathway)[0] == S.FAISABILITE_ENVOYEE


def test_abandon_ends_the_pathway(session, pathway):
    day = walk(session, pathway, [S.VALIDATION])
    vae.record_milestone(
        session,
        actor_id=pathway._people["manager"].id,
        pathway=pathway,
        state=S.ABANDON,
        occurred_on=day,
        reason="Changement de poste",
    )
    assert vae_queries.next_states(pathway) == ()
    assert vae_queries.road_ahead(pathway) == []


def test_every_change_is_kept_in_the_history_and_the_audit_log(session, pathway):
    walk(session, pathway, ROAD_TO_SENT)
    entries = vae_queries.timeline(session, pathway.id)
    assert [e.milestone.state for e in entries] == [S.PROJET, *ROAD_TO_SENT]
    assert all(e.recorded_by for e in entries)
    assert [e.milestone.occurred_on for e in entries] == sorted(
        e.milestone.occurred_on for e in entries
    )
    audited = session.exec(
        select(AuditEntry)
        .where(AuditEntry.subject_kind == "vae", AuditEntry.subject_id == pathway.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [a.action for a in audited] == ["vae.start"] + ["vae.milestone"] * len(ROAD_TO_SENT)
    assert [a.after["state"] for a in audited[1:]] == [str(s) for s in ROAD_TO_SENT]


def test_dates_never_go_backwards_nor_into_the_future(session, pathway):
    day = walk(session, pathway, [S.VALIDATION])
    for bad in (day - timedelta(days=1), date.today() + timedelta(days=10)):
        with pytest.raises(ServiceError) as refused:
            vae.record_milestone(
                session,
                actor_id=pathway._people["manager"].id,
                pathway=pathway,
                state=S.PRISE_EN_CHARGE,
                occurred_on=bad,
            )
        assert refused.value.field == "occurred_on"
    assert (
        len(session.exec(select(VaeMilestone).where(VaeMilestone.pathway_id == pathway.id)).all())
        == 2
    )


def test_feasibility_prefilled_from_afest_levels_then_saved_then_locked(session, pathway):
    protocol, people = pathway._protocol, pathway._people
    history(session, protocol, people, 4)  # two reflections set levels on two competences
    suggestion = vae_queries.prefill_from_afest(session, pathway)
    assert suggestion  # competences assessed in the AFEST get an answer
    assert set(suggestion.values()) <= set(SelfAssessment)
    changed = vae.save_feasibility(
        session, actor_id=people["learner"].id, pathway=pathway, answers=suggestion
    )
    assert changed == len(suggestion)
    stored = session.exec(
        select(FeasibilityAnswer).where(FeasibilityAnswer.pathway_id == pathway.id)
    ).all()
    assert {a.competence_id: a.answer for a in stored} == suggestion

    walk(session, pathway, ROAD_TO_SENT[:4])  # the feasibility file is sent
    with pytest.raises(ServiceError):
        vae.save_feasibility(
            session,
            actor_id=people["learner"].id,
            pathway=pathway,
            answers=dict.fromkeys(suggestion, SelfAssessment.NO),
        )


def test_feasibility_refuses_a_competence_of_another_certification(session, pathway):
    other = session.exec(
        select(CompetenceBlock.id).where(CompetenceBlock.referential_id != pathway.referential_id)
    ).first()
    foreign = session.exec(select(Competence.id).where(Competence.block_id == other)).first()
    with pytest.raises(ServiceError):
        vae.save_feasibility(
            session,
            actor_id=pathway._people["learner"].id,
            pathway=pathway,
            answers={foreign: SelfAssessment.YES},
        )
