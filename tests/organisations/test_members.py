"""The members of an OPCO or a support body on its page, for the administrator: listed with
their state, added by name and e-mail (bad input answered beside its field, nothing saved),
re-invited, removed; an OPCO adviser invited there reaches the OPCO dashboard."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa
from sqlmodel import select

from afest.accounts import links
from afest.models import Organisation, Role, RoleAssignment, User
from afest.models.mail import OutboxMessage
from tests.organisations.conftest import ADMIN, org

PASSWORD = "un-mot-de-passe-choisi"


def _page(body: Organisation, kind: str = "opco") -> str:
    return f"/admin/{kind}/{body.public_id}"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _counts(session) -> tuple[int, int, int]:
    return tuple(
        session.exec(select(sa.func.count()).select_from(table)).one()
        for table in (User, RoleAssignment, OutboxMessage)
    )


def _invitation_path(session, email: str) -> str:
    message = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == email, OutboxMessage.template == "invitation")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no invitation to {email}"
    found = re.search(r"http://\S+?(/invitation/[^\s\"<]+)", message.body_text)
    assert found, message.body_text
    return found.group(1)


def test_a_body_page_lists_its_members_with_their_state(session, login_as, aract):
    opco = org(session, code="UNIFORMATION")
    page = _text(login_as(ADMIN).get(_page(opco)))
    assert "Conseillers et conseillères de l'OPCO" in page
    assert "Hélène Vidal (Uniformation)" in page and "conseil@uniformation.demo" in page
    assert "Actif" in page and "Ajouter et inviter" in page
    page = _text(login_as(ADMIN).get(_page(aract, "accompagnement")))
    assert "Consultant·es de l'organisme" in page and "Claire Jourdan" in page
    assert "CARE-SKILLS-2026" in page  # the cohort she follows
    assert "Ajouter : Consultant·e" in page


def test_the_admin_adds_an_adviser_who_is_invited_and_reaches_the_opco_dashboard(
    app, session, login_as, uniformation
):
    admin = login_as(ADMIN)
    response = admin.post(
        f"{_page(uniformation)}/membres",
        data={"full_name": "Léa Morel", "email": "Lea.Morel@Example.org"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{_page(uniformation)}#membres")
    page = _text(admin.get(_page(uniformation)))
    assert "Compte créé : une invitation est partie pour lea.morel@example.org." in page
    assert "Léa Morel" in page and "Invitation envoyée" in page
    adviser = session.exec(select(User).where(User.email == "lea.morel@example.org")).one()
    assert not links.has_password(adviser)

    visitor = app.test_client()
    path = _invitation_path(session, adviser.email)
    assert visitor.get(path).status_code == 200
    chosen = visitor.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert chosen.status_code == 302
    dashboard = visitor.get("/tableaux/opco")
    assert dashboard.status_code == 200
    assert "Tableau de bord OPCO" in _text(dashboard)
    assert "Azur Aide à Domicile" in _text(dashboard)  # the structure Uniformation funds
    page = _text(admin.get(_page(uniformation)))
    assert "Invitation envoyée" not in page.split('id="membres"')[1].split("</table>")[0]


def test_adding_answers_bad_input_beside_the_field_and_saves_nothing(
    session, login_as, uniformation
):
    admin = login_as(ADMIN)
    before = _counts(session)
    cases = [
        ({"full_name": "", "email": "a@example.org"}, "Indiquez le nom de la personne."),
        ({"full_name": "A B", "email": "pas-une-adresse"}, "pas une adresse e-mail valide"),
        ({"full_name": "A B", "email": ""}, "Indiquez son adresse e-mail."),
        ({"full_name": "A B", "email": "conseil@uniformation.demo"}, "est déjà membre de"),
        ({"full_name": "x" * 201, "email": "a@example.org"}, "200 caractères au plus."),
    ]
    for data, message in cases:
        response = admin.post(f"{_page(uniformation)}/membres", data=data)
        assert response.status_code == 422, data
        body = _text(response)
        assert message in body, (data, message)
        assert 'aria-invalid="true"' in body.split('id="ajouter-membre"')[1]
        assert 'value="UNIFORMATION"' in body  # the body's own form stays filled in
    assert _counts(session) == before


def test_the_admin_reinvites_then_removes_a_member(session, login_as, uniformation, make_user):
    invited = make_user([(Role.OPCO, uniformation.id)], name="Inès Invitée")
    invited.password_hash = links.UNSET_PASSWORD
    session.add(invited)
    session.flush()
    admin = login_as(ADMIN)
    member = f"{_page(uniformation)}/membres/{invited.public_id}"
    assert "Renvoyer l'invitation" in _text(admin.get(_page(uniformation)))
    assert admin.post(f"{member}/invitation").status_code == 302
    assert _invitation_path(session, invited.email)
    page = _text(admin.get(_page(uniformation)))
    assert f"Invitation envoyée à {invited.email}." in page

    assert admin.post(f"{member}/retrait").status_code == 302
    page = _text(admin.get(_page(uniformation)))
    assert "Inès Invitée n'est plus membre de « Uniformation »." in page
    assert "Inès Invitée" not in page.split('id="membres"')[1].split("</table>")[0]
    assert session.get(User, invited.id).is_active  # the account stays
    # she is no member any more: her URLs answer 404
    assert admin.post(f"{member}/retrait").status_code == 404
    assert admin.post(f"{member}/invitation").status_code == 404


def test_a_member_is_one_of_this_body_and_of_its_kind(session, login_as, uniformation, aract):
    admin = login_as(ADMIN)
    adviser = session.exec(select(User).where(User.email == "conseil@uniformation.demo")).one()
    # an adviser of Uniformation is no member of the Aract
    elsewhere = f"{_page(aract, 'accompagnement')}/membres/{adviser.public_id}/retrait"
    assert admin.post(elsewhere).status_code == 404
    # an OPCO is not edited as a support body
    wrong_kind = f"/admin/accompagnement/{uniformation.public_id}/membres"
    assert (
        admin.post(wrong_kind, data={"full_name": "A B", "email": "a@example.org"}).status_code
        == 404
    )
    held = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == adviser.id)).all()
    assert [(r.role, r.organisation_id) for r in held] == [(Role.OPCO, uniformation.id)]


def test_a_reinvitation_of_an_active_member_is_refused_in_a_message(
    session, login_as, uniformation
):
    admin = login_as(ADMIN)
    adviser = session.exec(select(User).where(User.email == "conseil@uniformation.demo")).one()
    response = admin.post(f"{_page(uniformation)}/membres/{adviser.public_id}/invitation")
    assert response.status_code == 302
    page = _text(admin.get(_page(uniformation)))
    assert "a déjà choisi son mot de passe" in page
