"""The organisation operations: their rules (each refusal names its field), their audit
entries, and what a structure's change does to its protocols."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import func, select

from afest.core.errors import ServiceError
from afest.models import (
    AuditEntry,
    CohortConsultant,
    CohortStructure,
    OrgKind,
    Protocol,
    ProtocolStatus,
    Role,
)
from afest.organisations import checks, cohorts
from afest.organisations import operations as ops
from tests.organisations.conftest import AZUR, new_siret, org


def refusal(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(**kwargs)
    return caught.value


def entries(session, action: str) -> int:
    return session.exec(select(func.count()).where(AuditEntry.action == action)).one()


def data(**overrides) -> ops.StructureData:
    values = {
        "name": "EHPAD Les Tilleuls",
        "siret": new_siret(),
        "departement": "83",
        "category": "EHPAD",
        "opco_id": None,
        "branch": "",
    }
    values.update(overrides)
    return ops.StructureData(**values)


# --- the checks ---------------------------------------------------------------------------


def test_siret_checks_its_key_and_says_what_is_wrong():
    good = new_siret()
    assert checks.siret(f"{good[:3]} {good[3:6]} {good[6:9]} {good[9:]}") == good
    assert checks.siret("356 000 000 00048") == "35600000000048"  # La Poste's own rule
    wrong_key = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="clé de contrôle"):
        checks.siret(wrong_key)
    with pytest.raises(ValueError, match="14 chiffres"):
        checks.siret("1234")
    with pytest.raises(ValueError, match="que des chiffres"):
        checks.siret("7756841230001A")
    with pytest.raises(ValueError, match="notation scientifique"):
        checks.siret("7,75684E+13")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("13", "13"), ("6", "06"), ("2a", "2A"), ("2B", "2B"), ("971", "971"), ("976", "976")],
)
def test_departements_as_stored(typed, stored):
    assert checks.departement(typed) == stored


@pytest.mark.parametrize("typed", ["20", "00", "96", "975", "977", "99", "1234", "Var", "2C"])
def test_unknown_departements(typed):
    with pytest.raises(ValueError, match="Département inconnu"):
        checks.departement(typed)


def test_categories_from_codes_and_common_words():
    assert checks.category("EHPAD") == "EHPAD"
    assert checks.category("Hôpital") == checks.category("CH") == "hospital"
    assert checks.category("aide à domicile") == "SAAD"
    with pytest.raises(ValueError, match="Catégorie inconnue"):
        checks.category("crèche")


# --- OPCOs and support bodies -------------------------------------------------------------


def test_a_body_is_created_and_renamed_with_an_audit_entry(session):
    body = ops.create_body(
        session, actor_id=None, kind=OrgKind.OPCO, name=" OPCO  EP ", code="opco-ep"
    )
    assert (body.name, body.code, body.kind) == ("OPCO EP", "OPCO-EP", OrgKind.OPCO)
    ops.update_body(session, actor_id=None, body=body, name="OPCO EP", code="OPCO-EP")
    assert entries(session, "organisation.update") == 0  # nothing changed, nothing recorded
    ops.update_body(session, actor_id=None, body=body, name="OPCO Entreprises", code="OPCO-EP")
    last = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "organisation.update"
    assert (last.before["name"], last.after["name"]) == ("OPCO EP", "OPCO Entreprises")


def test_a_body_code_is_free_and_well_formed(session, uniformation):
    taken = refusal(
        ops.create_body,
        session=session,
        actor_id=None,
        kind=OrgKind.SUPPORT_BODY,
        name="X",
        code="uniformation",
    )
    assert taken.field == "code" and "Uniformation" in str(taken.message)
    assert (
        refusal(
            ops.create_body, session=session, actor_id=None, kind=OrgKind.OPCO, name="X", code="A B"
        ).field
        == "code"
    )
    assert (
        refusal(
            ops.create_body,
            session=session,
            actor_id=None,
            kind=OrgKind.STRUCTURE,
            name="X",
            code="S",
        ).field
        == "kind"
    )


# --- structures ---------------------------------------------------------------------------


def test_a_structure_is_created_in_its_cohorts(session, uniformation, care_skills):
    before = entries(session, "organisation.create")
    structure = ops.create_structure(
        session,
        actor_id=None,
        data=data(opco_id=uniformation.id, departement="6", category="Hôpital"),
        cohort_ids=[care_skills.id],
    )
    assert (structure.kind, structure.departement, structure.category) == (
        OrgKind.STRUCTURE,
        "06",
        "hospital",
    )
    assert session.get(CohortStructure, (care_skills.id, structure.id)) is not None
    assert entries(session, "organisation.create") == before + 1
    assert entries(session, "organisation.cohorts") >= 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"siret": "77568412300019"}, "siret", "clé de contrôle"),
        ({"siret": AZUR}, "siret", "clé de contrôle"),  # on record, but for another structure
        ({"name": "  "}, "name", "nom"),
        ({"departement": "20"}, "departement", "Département inconnu"),
        ({"category": "crèche"}, "category", "Catégorie inconnue"),
        ({"branch": "b" * 121}, "branch", "120"),
    ],
)
def test_a_structure_breaking_a_rule_is_refused_beside_its_field(session, overrides, field, words):
    error = refusal(ops.create_structure, session=session, actor_id=None, data=data(**overrides))
    assert error.field == field and words in str(error.message)


def test_a_siret_already_used_names_its_structure(session):
    first = ops.create_structure(session, actor_id=None, data=data(name="SAAD Premier"))
    error = refusal(
        ops.create_structure, session=session, actor_id=None, data=data(siret=first.siret)
    )
    assert error.field == "siret" and "SAAD Premier" in str(error.message)


def test_an_unknown_opco_is_refused(session, aract):
    for opco_id in (aract.id, 2**31 - 1):
        error = refusal(
            ops.create_structure, session=session, actor_id=None, data=data(opco_id=opco_id)
        )
        assert error.field == "opco" and "OPCO inconnu" in str(error.message)


def test_a_siret_on_record_is_kept_as_it_is(session, uniformation):
    azur = org(session, siret=AZUR)  # stored before keys were checked
    ops.update_structure(
        session,
        actor_id=None,
        structure=azur,
        data=data(
            name="Azur Aide", siret=AZUR, departement="06", category="SAAD", opco_id=uniformation.id
        ),
    )
    assert (azur.name, azur.siret) == ("Azur Aide", AZUR)


def test_a_new_opco_funds_the_drafts_not_what_was_sent_for_signature(
    session, make_structure, make_protocol, opco_sante
):
    structure = make_structure()
    draft, _ = make_protocol(structure=structure, stage="draft")
    awaiting, _ = make_protocol(structure=structure, stage="awaiting")
    running, _ = make_protocol(structure=structure, stage="in_progress")
    old = structure.opco_id
    ops.update_structure(
        session,
        actor_id=None,
        structure=structure,
        data=data(siret=structure.siret, opco_id=opco_sante.id),
    )
    funders = {p.id: session.get(Protocol, p.id).funder_id for p in (draft, awaiting, running)}
    assert funders == {draft.id: opco_sante.id, awaiting.id: old, running.id: old}
    last = session.exec(select(AuditEntry).where(AuditEntry.action == "protocol.funder")).one()
    assert last.protocol_id == draft.id
    assert last.before == {"funder_id": old} and last.after == {"funder_id": opco_sante.id}


def test_leaving_a_cohort_takes_its_drafts_out_and_keeps_what_was_signed(
    session, make_structure, make_protocol, care_skills
):
    structure = make_structure()
    session.add(CohortStructure(cohort_id=care_skills.id, structure_id=structure.id))
    session.flush()
    draft, _ = make_protocol(structure=structure, stage="draft", cohort_id=care_skills.id)
    signed, _ = make_protocol(structure=structure, cohort_id=care_skills.id)
    ops.update_structure(
        session,
        actor_id=None,
        structure=structure,
        data=data(siret=structure.siret, departement=structure.departement),
        cohort_ids=[],
    )
    assert session.get(CohortStructure, (care_skills.id, structure.id)) is None
    assert session.get(Protocol, draft.id).cohort_id is None
    assert session.get(Protocol, signed.id).cohort_id == care_skills.id
    assert entries(session, "protocol.cohort") == 1


# --- cohorts ------------------------------------------------------------------------------


def cohort_data(session, **overrides) -> cohorts.CohortData:
    consultant = session.exec(select(CohortConsultant.user_id)).first()
    values = {
        "code": "AIDE-VAR-2027",
        "name": "Aide à domicile du Var",
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 12, 31),
        "structure_sirets": (AZUR,),
        "consultant_ids": frozenset({consultant}),
    }
    values.update(overrides)
    return cohorts.CohortData(**values)


def test_a_cohort_is_created_with_its_structures_and_consultants(session, uniformation, aract):
    cohort = cohorts.create_cohort(
        session,
        actor_id=None,
        data=cohort_data(session, funder_id=uniformation.id, support_body_id=aract.id),
    )
    assert session.get(CohortStructure, (cohort.id, org(session, siret=AZUR).id)) is not None
    created = session.exec(select(AuditEntry).where(AuditEntry.action == "cohort.create")).one()
    assert created.after["structure_ids"] == [org(session, siret=AZUR).id]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"code": "care-skills-2026"}, "code", "#CARE-SKILLS"),  # taken, whatever the case
        ({"code": "avec espace"}, "code", "sans espace"),
        ({"ends_on": date(2026, 12, 31)}, "ends_on", "précède"),
        ({"structure_sirets": ("73282932000074",)}, "structures", "73282932000074"),
        ({"consultant_ids": frozenset({1})}, "consultants", "consultant"),
    ],
)
def test_a_cohort_breaking_a_rule_is_refused_beside_its_field(session, overrides, field, words):
    error = refusal(
        cohorts.create_cohort,
        session=session,
        actor_id=None,
        data=cohort_data(session, **overrides),
    )
    assert error.field == field and words in str(error.message)


def test_a_cohort_funder_is_an_opco_and_its_support_body_a_support_body(
    session, uniformation, aract
):
    assert (
        refusal(
            cohorts.create_cohort,
            session=session,
            actor_id=None,
            data=cohort_data(session, funder_id=aract.id),
        ).field
        == "funder"
    )
    assert (
        refusal(
            cohorts.create_cohort,
            session=session,
            actor_id=None,
            data=cohort_data(session, support_body_id=uniformation.id),
        ).field
        == "support_body"
    )


def test_a_cohort_edit_moves_its_members_and_is_audited(
    session, care_skills, make_user, make_structure, make_protocol
):
    leaving = make_structure()
    session.add(CohortStructure(cohort_id=care_skills.id, structure_id=leaving.id))
    session.flush()
    draft, _ = make_protocol(structure=leaving, stage="draft", cohort_id=care_skills.id)
    consultant = make_user([(Role.CONSULTANT, None)])
    members = session.exec(
        select(CohortStructure).where(CohortStructure.cohort_id == care_skills.id)
    ).all()
    staying = tuple(
        org(session, id=m.structure_id).siret for m in members if m.structure_id != leaving.id
    )
    cohorts.update_cohort(
        session,
        actor_id=None,
        cohort=care_skills,
        data=cohorts.CohortData(
            code=care_skills.code,
            name="#CARE-SKILLS 2026",
            funder_id=care_skills.funder_id,
            support_body_id=care_skills.support_body_id,
            starts_on=care_skills.starts_on,
            ends_on=care_skills.ends_on,
            structure_sirets=staying,
            consultant_ids=frozenset({consultant.id}),
        ),
    )
    assert session.get(CohortStructure, (care_skills.id, leaving.id)) is None
    assert session.get(Protocol, draft.id).cohort_id is None
    followers = session.exec(
        select(CohortConsultant.user_id).where(CohortConsultant.cohort_id == care_skills.id)
    ).all()
    assert followers == [consultant.id]
    update = session.exec(select(AuditEntry).where(AuditEntry.action == "cohort.update")).one()
    assert leaving.id in update.before["structure_ids"]
    assert leaving.id not in update.after["structure_ids"]
    assert update.after["name"] == "#CARE-SKILLS 2026"
    assert session.exec(select(Protocol).where(Protocol.status == ProtocolStatus.DRAFT)).first()
