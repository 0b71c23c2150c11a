"""The organisation screens render for the administrator: lists (searched, paged, as an htmx
fragment), forms filled in, and the navigation link only for administrators."""

from __future__ import annotations

import pytest

from afest.blueprints import organisations as views
from afest.models import Organisation, OrgKind, Role
from tests.core.test_pages import count_queries
from tests.organisations.conftest import ADMIN, AZUR, new_siret, org

LISTS = ["/admin/structures", "/admin/opco", "/admin/accompagnement", "/admin/cohortes"]


@pytest.mark.parametrize("path", LISTS)
def test_lists_render_with_their_demo_rows(login_as, path):
    page = login_as(ADMIN).get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    expected = {
        "/admin/structures": "Azur Aide à Domicile",
        "/admin/opco": "Uniformation",
        "/admin/accompagnement": "Aract PACA",
        "/admin/cohortes": "CARE-SKILLS-2026",
    }[path]
    assert expected in body
    assert 'aria-current="page"' in body


def test_structures_are_searched_by_name_siret_departement_or_opco(login_as):
    admin = login_as(ADMIN)
    by_name = admin.get("/admin/structures?q=AZUR aide").get_data(as_text=True)
    assert "Azur Aide à Domicile" in by_name and "EHPAD" not in by_name.split("<tbody>")[1]
    assert "EHPAD Villa Azur" in admin.get("/admin/structures?q=azur").get_data(as_text=True)
    assert "Azur Aide" in admin.get(f"/admin/structures?q={AZUR}").get_data(as_text=True)
    by_opco = admin.get("/admin/structures?q=opco santé").get_data(as_text=True)
    assert "Azur Aide" not in by_opco and "EHPAD" in by_opco
    nothing = admin.get("/admin/structures?q=%25_nothing").get_data(as_text=True)
    assert "Aucune structure trouvée." in nothing


def test_a_search_by_htmx_answers_the_table_alone(login_as):
    response = login_as(ADMIN).get("/admin/structures?q=azur", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "Azur Aide" in body
    assert "HX-Request" in response.headers["Vary"]


def test_structures_are_paged_and_the_list_costs_the_same_whatever_its_length(
    session, login_as, monkeypatch, app
):
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    admin = login_as(ADMIN)
    first = admin.get("/admin/structures").get_data(as_text=True)
    assert "Page suivante" in first and "Page précédente" not in first
    second = admin.get("/admin/structures?page=2").get_data(as_text=True)
    assert "Page précédente" in second
    assert admin.get("/admin/structures?page=abc").status_code == 200
    monkeypatch.setattr(views, "PAGE_SIZE", 50)
    with count_queries(app) as few:
        admin.get("/admin/structures")
    opco = org(session, code="UNIFORMATION")
    session.add_all(
        Organisation(
            name=f"Structure {n}",
            kind=OrgKind.STRUCTURE,
            siret=new_siret(),
            departement="13",
            opco_id=opco.id,
        )
        for n in range(30)
    )
    session.flush()
    with count_queries(app) as many:
        admin.get("/admin/structures")
    assert many["n"] == few["n"]


def test_forms_render_filled_in(session, login_as, care_skills):
    admin = login_as(ADMIN)
    azur = org(session, siret=AZUR)
    page = admin.get(f"/admin/structures/{azur.public_id}").get_data(as_text=True)
    assert 'value="Azur Aide à Domicile"' in page and f'value="{AZUR}"' in page
    assert "pas une clé valide" in page  # the demo's SIRET fails its key
    opco = org(session, code="UNIFORMATION")
    page = admin.get(f"/admin/opco/{opco.public_id}").get_data(as_text=True)
    assert 'value="UNIFORMATION"' in page
    page = admin.get(f"/admin/cohortes/{care_skills.public_id}").get_data(as_text=True)
    assert 'value="CARE-SKILLS-2026"' in page and "Claire Jourdan" in page
    assert "26130000100017 — " in page  # its structures, one SIRET a line
    for path in ("/admin/structures/nouvelle", "/admin/opco/nouveau", "/admin/cohortes/nouvelle"):
        assert admin.get(path).status_code == 200
    assert admin.get("/admin/structures/import").status_code == 200


def test_an_opco_is_not_edited_as_a_support_body(session, login_as):
    opco = org(session, code="UNIFORMATION")
    assert login_as(ADMIN).get(f"/admin/accompagnement/{opco.public_id}").status_code == 404
    assert login_as(ADMIN).get(f"/admin/structures/{opco.public_id}").status_code == 404


def test_navigation_links_organisations_for_administrators_only(login_as):
    assert 'href="/admin/structures"' in login_as(ADMIN).get("/").get_data(as_text=True)
    for role in (Role.MANAGER, Role.OPCO, Role.CONSULTANT):
        assert 'href="/admin/structures"' not in login_as(role).get("/").get_data(as_text=True)


def test_the_list_of_structures_leads_to_each_structures_people(session, login_as):
    admin = login_as(ADMIN)
    azur = org(session, siret=AZUR)
    people = f"/structures/{azur.public_id}/personnes"
    assert f'href="{people}"' in admin.get("/admin/structures").get_data(as_text=True)
    assert f'href="{people}"' in admin.get(f"/admin/structures/{azur.public_id}").get_data(
        as_text=True
    )
    assert admin.get(people).status_code == 200
