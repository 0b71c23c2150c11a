"""The organisation forms answer bad input with a French message beside the field, and save
nothing; good input is saved, audited, and listed."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from afest.models import AuditEntry, Cohort, CohortConsultant, Organisation
from tests.organisations.conftest import ADMIN, AZUR, new_siret, org


def beside(page: str, field: str) -> str:
    """The error shown beside a field ("" when there is none)."""
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return found.group(1).replace("&#39;", "'").replace("&#34;", '"') if found else ""


def structure_form(**overrides) -> dict[str, str]:
    values = {
        "name": "SAAD Les Oliviers",
        "siret": new_siret(),
        "departement": "13",
        "category": "SAAD",
        "branch": "Aide à domicile",
        "opco": "",
    }
    values.update(overrides)
    return values


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_structure_is_created_listed_and_audited(session, login_as, uniformation):
    admin = login_as(ADMIN)
    before = count(session, AuditEntry)
    values = structure_form(opco=str(uniformation.id))
    response = admin.post("/admin/structures/nouvelle", data=values)
    assert response.status_code == 302
    created = org(session, siret=values["siret"])
    assert (created.name, created.opco_id, created.category) == (
        "SAAD Les Oliviers",
        uniformation.id,
        "SAAD",
    )
    assert count(session, AuditEntry) == before + 1
    listed = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "SAAD Les Oliviers" in listed and "créée" in listed


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"siret": "73282932000075"}, "siret", "clé de contrôle ne correspond pas"),
        ({"siret": "1234"}, "siret", "14 chiffres (ici 4)"),
        ({"siret": ""}, "siret", "Indiquez le SIRET."),
        ({"siret": AZUR}, "siret", "clé de contrôle"),
        ({"name": ""}, "name", "Indiquez un nom."),
        ({"departement": "20"}, "departement", "Département inconnu : 20"),
        ({"departement": "975"}, "departement", "Département inconnu"),
        ({"category": "crèche"}, "category", "Catégorie inconnue"),
        ({"category": ""}, "category", "Indiquez la catégorie."),
        ({"opco": "999999"}, "opco", "OPCO inconnu"),
        ({"opco": "abc"}, "opco", "OPCO inconnu"),
        ({"cohorts": "999999"}, "cohorts", ""),
    ],
)
def test_a_bad_structure_is_answered_beside_its_field(session, login_as, overrides, field, words):
    before = count(session, Organisation)
    response = login_as(ADMIN).post("/admin/structures/nouvelle", data=structure_form(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    if field == "cohorts":
        assert 'class="error"' in page.split("<legend>")[1]
    else:
        assert words in beside(page, field), beside(page, field) or page
    assert "Rien n'a été enregistré" in page.replace("&#39;", "'")
    assert count(session, Organisation) == before


def test_a_siret_already_used_says_by_which_structure(session, login_as):
    admin = login_as(ADMIN)
    siret = new_siret()
    assert admin.post("/admin/structures/nouvelle", data=structure_form(siret=siret)).status_code
    response = admin.post(
        "/admin/structures/nouvelle", data=structure_form(siret=siret, name="Autre")
    )
    assert response.status_code == 422
    assert beside(response.get_data(as_text=True), "siret") == (
        "Ce SIRET est déjà celui de « SAAD Les Oliviers »."
    )


def test_a_structure_is_edited_keeping_its_siret_on_record(session, login_as, opco_sante):
    azur = org(session, siret=AZUR)
    response = login_as(ADMIN).post(
        f"/admin/structures/{azur.public_id}",
        data=structure_form(name="Azur Aide", siret=AZUR, departement="6", opco=str(opco_sante.id)),
    )
    assert response.status_code == 302
    session.refresh(azur)
    assert (azur.name, azur.departement, azur.opco_id) == ("Azur Aide", "06", opco_sante.id)


def test_a_body_is_created_and_its_code_must_be_free(session, login_as):
    admin = login_as(ADMIN)
    response = admin.post(
        "/admin/accompagnement/nouveau", data={"name": "Aract Occitanie", "code": "aract-occ"}
    )
    assert response.status_code == 302
    assert org(session, code="ARACT-OCC").name == "Aract Occitanie"
    response = admin.post("/admin/opco/nouveau", data={"name": "Autre", "code": "ARACT-OCC"})
    assert response.status_code == 422
    assert beside(response.get_data(as_text=True), "code") == (
        "Ce code est déjà celui de « Aract Occitanie »."
    )
    response = admin.post("/admin/opco/nouveau", data={"name": "Autre", "code": "avec espace"})
    assert "sans espace" in beside(response.get_data(as_text=True), "code")


def cohort_form(**overrides) -> dict[str, str]:
    values = {
        "code": "AIDE-VAR-2027",
        "name": "Aide à domicile du Var",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "structures": f"{AZUR} — Azur Aide à Domicile\n",
        "funder": "",
        "support_body": "",
    }
    values.update(overrides)
    return values


def test_a_cohort_is_created_with_its_structures_and_consultants(session, login_as, aract):
    consultant = session.exec(select(CohortConsultant.user_id)).first()
    response = login_as(ADMIN).post(
        "/admin/cohortes/nouvelle",
        data={**cohort_form(support_body=str(aract.id)), "consultants": str(consultant)},
    )
    assert response.status_code == 302
    cohort = session.exec(select(Cohort).where(Cohort.code == "AIDE-VAR-2027")).one()
    assert cohort.support_body_id == aract.id
    assert session.get(CohortConsultant, (cohort.id, consultant)) is not None


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"code": "care-skills-2026"}, "code", "est déjà celui de la cohorte « #CARE-SKILLS »"),
        ({"code": ""}, "code", "Indiquez un code."),
        ({"ends_on": "2026-12-31"}, "ends_on", "La fin précède le début."),
        ({"ends_on": "31/12/2027"}, "ends_on", ""),
        ({"structures": "73282932000074"}, "structures", "Aucune structure n'a ce(s) SIRET"),
        ({"structures": "Azur Aide"}, "structures", "Ligne(s) 1 : chaque ligne commence"),
        ({"funder": "999999"}, "funder", "Financeur inconnu"),
        ({"support_body": "x"}, "support_body", "Organisme d'accompagnement inconnu"),
    ],
)
def test_a_bad_cohort_is_answered_beside_its_field(session, login_as, overrides, field, words):
    before = count(session, Cohort)
    response = login_as(ADMIN).post("/admin/cohortes/nouvelle", data=cohort_form(**overrides))
    assert response.status_code == 422
    message = beside(response.get_data(as_text=True), field)
    assert message and words in message, message
    assert count(session, Cohort) == before
