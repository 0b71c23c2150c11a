"""Dashboards stay true when organisations change: after a structure's département, OPCO or
cohorts change (or a cohort's funder and structures), the rollups, once settled, equal a
full rebuild; and the change did move them (the test fails if the marking is removed)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import select

from afest.dashboards import rollups
from afest.models import CohortStructure, Protocol, Referential, Role
from afest.models.rollup import rollup_pathway, rollup_protocol
from afest.organisations import cohorts
from afest.organisations import operations as ops
from afest.vae import operations as vae
from tests.dashboards.test_rollups import assert_equals_rebuild, drain_all, snapshot


def facts(session, table, key: str, ids) -> dict[int, tuple]:
    rows = session.connection().execute(
        sa.select(table.c[key], table.c.funder_id, table.c.cohort_id, table.c.departement).where(
            table.c[key].in_(list(ids))
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def world(session, make_structure, make_protocol, make_user, cohort):
    """A structure in `cohort`, with a draft and a signed protocol in it, and a VAE pathway."""
    structure = make_structure(departement="83")
    session.add(CohortStructure(cohort_id=cohort.id, structure_id=structure.id))
    session.flush()
    draft, people = make_protocol(structure=structure, stage="draft", cohort_id=cohort.id)
    signed, _ = make_protocol(structure=structure, cohort_id=cohort.id)
    consultant = make_user([(Role.CONSULTANT, None)])
    ref = session.exec(select(Referential).where(Referential.code == "RNCP35830")).one()
    pathway = vae.start_pathway(
        session,
        actor_id=consultant.id,
        learner_id=people["learner"].id,
        structure_id=structure.id,
        referential_id=ref.id,
        cohort_id=cohort.id,
        consultant_id=consultant.id,
        started_on=date(2026, 9, 1),
    )
    drain_all(session)
    return structure, draft, signed, pathway


def test_structure_changes_keep_the_rollups_equal_to_a_rebuild(
    session, make_structure, make_protocol, make_user, care_skills, opco_sante
):
    structure, draft, signed, pathway = world(
        session, make_structure, make_protocol, make_user, care_skills
    )
    assert_equals_rebuild(session)  # the starting point agrees
    before = snapshot(session)
    ops.update_structure(
        session,
        actor_id=None,
        structure=structure,
        data=ops.StructureData(
            name=structure.name,
            siret=structure.siret,
            departement="2A",
            category="EHPAD",
            opco_id=opco_sante.id,
        ),
        cohort_ids=[],
    )
    assert rollups.is_pending(session)  # marked, not yet settled
    drain_all(session)
    assert snapshot(session) != before
    protocols = facts(session, rollup_protocol, "protocol_id", [draft.id, signed.id])
    old_opco = signed.funder_id
    assert protocols == {
        draft.id: (opco_sante.id, 0, "2A"),  # the draft follows the OPCO, leaves the cohort
        signed.id: (old_opco, care_skills.id, "2A"),  # signed: funder and cohort kept
    }
    pathways = facts(session, rollup_pathway, "pathway_id", [pathway.id])
    assert pathways == {pathway.id: (opco_sante.id, care_skills.id, "2A")}
    assert_equals_rebuild(session)


def test_cohort_changes_keep_the_rollups_equal_to_a_rebuild(
    session, make_structure, make_protocol, make_user, care_skills, uniformation
):
    structure, draft, signed, _pathway = world(
        session, make_structure, make_protocol, make_user, care_skills
    )
    members = session.exec(
        select(CohortStructure.structure_id).where(CohortStructure.cohort_id == care_skills.id)
    ).all()
    staying = [m for m in members if m != structure.id]
    sirets = tuple(
        session.get(type(structure), m).siret for m in staying
    )  # every member but the structure of the world
    cohorts.update_cohort(
        session,
        actor_id=None,
        cohort=care_skills,
        data=cohorts.CohortData(
            code=care_skills.code,
            name=care_skills.name,
            funder_id=uniformation.id,  # a new funder: no dimension of the rollups
            support_body_id=care_skills.support_body_id,
            starts_on=care_skills.starts_on,
            ends_on=care_skills.ends_on,
            structure_sirets=sirets,
        ),
    )
    drain_all(session)
    assert session.get(Protocol, draft.id).cohort_id is None
    assert facts(session, rollup_protocol, "protocol_id", [draft.id])[draft.id][1] == 0
    assert facts(session, rollup_protocol, "protocol_id", [signed.id])[signed.id][1] == (
        care_skills.id
    )
    assert_equals_rebuild(session)


def test_an_import_moving_structures_keeps_the_rollups_equal_to_a_rebuild(
    session, make_structure, make_protocol, make_user, care_skills, uniformation
):
    from afest.core.tabular import read_table
    from afest.organisations import imports

    structure, draft, _signed, pathway = world(
        session, make_structure, make_protocol, make_user, care_skills
    )
    uniformation_code = uniformation.code
    content = (
        "SIRET;Nom;Département;Catégorie;Code OPCO\n"
        f"{structure.siret};{structure.name};971;SAAD;{uniformation_code}\n"
    ).encode()
    imports.import_rows(
        session,
        actor_id=None,
        table=read_table(content, imports.COLUMNS),
        filename="x.csv",
        sha256="0" * 64,
    )
    drain_all(session)
    assert facts(session, rollup_protocol, "protocol_id", [draft.id])[draft.id] == (
        uniformation.id,
        care_skills.id,
        "971",
    )
    assert facts(session, rollup_pathway, "pathway_id", [pathway.id])[pathway.id][2] == "971"
    assert_equals_rebuild(session)
