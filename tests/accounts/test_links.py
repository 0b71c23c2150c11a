"""Invitations, password resets and the tablet PIN: links that work once, expire, and say
clearly why when they do not."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from afest.accounts import links
from afest.accounts import operations as accounts
from afest.models import AccountToken, AuditEntry, Role, User, UserSession
from afest.models.mail import OutboxMessage
from tests.conftest import PASSWORD, login

TUTOR = "tuteur@azur-aide.demo"
NEW_PASSWORD = "un-nouveau-secret"


def _link_in_mail(session, address: str, template: str) -> str:
    message = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == address, OutboxMessage.template == template)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no {template} mail to {address}"
    match = re.search(
        r"http://\S+?(/(?:invitation|mot-de-passe/nouveau)/[^\s\"<]+)", message.body_text
    )
    assert match, message.body_text
    assert match.group(1) in message.body_html
    return match.group(1)


@pytest.fixture()
def invited_tutor(app, session, make_structure):
    structure = make_structure()
    with app.test_request_context():
        user = accounts.create_user(
            session,
            actor_id=None,
            email="nouvelle.tutrice@example.org",
            full_name="Nouvelle Tutrice",
            password="",
            password_hash=links.UNSET_PASSWORD,
            roles=[(Role.TUTOR, structure.id)],
        )
        links.invite(session, actor_id=None, user=user)
    session.flush()
    return user


def test_an_invited_tutor_chooses_password_and_pin_then_is_signed_in(
    client, session, invited_tutor
):
    path = _link_in_mail(session, invited_tutor.email, "invitation")
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Nouvelle Tutrice" in text and "Code de tablette" in text

    done = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "pin": "2580",
            "pin_confirm": "2580",
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert "Mes apprenant·es" in client.get("/").get_data(as_text=True)
    session.expire_all()
    user = session.get(User, invited_tutor.id)
    assert accounts.verify_secret(user.password_hash, NEW_PASSWORD)
    assert accounts.verify_secret(user.pin_hash, "2580")
    assert session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "user.invitation_accept", AuditEntry.subject_id == user.id
        )
    ).one()

    again = client.get(path)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)


def test_the_invitation_page_answers_bad_secrets_beside_their_fields(
    client, session, invited_tutor
):
    path = _link_in_mail(session, invited_tutor.email, "invitation")
    cases = [
        (
            {"password": "court", "confirm": "court", "pin": "2580", "pin_confirm": "2580"},
            "Entre 10 et 200",
        ),
        (
            {
                "password": NEW_PASSWORD,
                "confirm": "autre-chose-1",
                "pin": "2580",
                "pin_confirm": "2580",
            },
            "Les deux mots de passe diffèrent.",
        ),
        (
            {
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
                "pin": "12a4",
                "pin_confirm": "12a4",
            },
            "de 4 à 8 chiffres",
        ),
        (
            {
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
                "pin": "1234",
                "pin_confirm": "1234",
            },
            "trop facile",
        ),
        (
            {
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
                "pin": "0000",
                "pin_confirm": "0000",
            },
            "trop facile",
        ),
        (
            {
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
                "pin": "2580",
                "pin_confirm": "2581",
            },
            "Les deux codes diffèrent.",
        ),
        ({"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Choisissez votre code de tablette."),
    ]
    for data, message in cases:
        response = client.post(path, data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), (data, message)
    session.expire_all()
    assert session.get(User, invited_tutor.id).password_hash == links.UNSET_PASSWORD
    assert client.get(path).status_code == 200  # the link still works after refusals


def test_an_invited_manager_is_not_asked_for_a_pin(app, client, session, make_structure):
    structure = make_structure()
    with app.test_request_context():
        user = accounts.create_user(
            session,
            actor_id=None,
            email="direction.nouvelle@example.org",
            full_name="Direction Nouvelle",
            password="",
            password_hash=links.UNSET_PASSWORD,
            roles=[(Role.MANAGER, structure.id)],
        )
        links.invite(session, actor_id=None, user=user)
    path = _link_in_mail(session, user.email, "invitation")
    assert "Code de tablette" not in client.get(path).get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).pin_hash is None


def test_a_newer_invitation_ends_the_previous_one(app, client, session, invited_tutor):
    first = _link_in_mail(session, invited_tutor.email, "invitation")
    with app.test_request_context():
        links.invite(session, actor_id=None, user=invited_tutor)
    second = _link_in_mail(session, invited_tutor.email, "invitation")
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_expired_and_tampered_links_get_a_clear_page(client, session, invited_tutor):
    path = _link_in_mail(session, invited_tutor.email, "invitation")
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 410 and "pas valide" in response.get_data(as_text=True)
    assert client.get("/invitation/n'importe-quoi").status_code == 410
    assert client.get("/mot-de-passe/nouveau/" + "x" * 3000).status_code == 410

    token = session.exec(select(AccountToken).where(AccountToken.user_id == invited_tutor.id)).one()
    token.expires_at = token.expires_at - timedelta(days=8)
    session.add(token)
    session.flush()
    expired = client.get(path)
    assert expired.status_code == 410 and "a expiré" in expired.get_data(as_text=True)
    posted = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert posted.status_code == 410
    # a link of one purpose is no link of the other
    assert client.get(path.replace("/invitation/", "/mot-de-passe/nouveau/")).status_code == 410


def test_forgotten_password_answers_the_same_for_unknown_addresses(client, session):
    known = client.post("/mot-de-passe-oublie", data={"email": TUTOR})
    unknown = client.post("/mot-de-passe-oublie", data={"email": "personne@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace(TUTOR, "X") == unknown.get_data(
        as_text=True
    ).replace("personne@example.org", "X")
    mails = session.exec(
        select(OutboxMessage.to_address).where(OutboxMessage.template == "password_reset")
    ).all()
    assert mails == [TUTOR]
    bad = client.post("/mot-de-passe-oublie", data={"email": "pas-une-adresse"})
    assert bad.status_code == 422 and "pas une adresse e-mail valide" in bad.get_data(as_text=True)


def test_a_reset_link_sets_the_password_once_and_ends_other_sessions(app, session):
    elsewhere = login(app.test_client(), TUTOR)
    assert elsewhere.get("/").status_code == 200
    client = app.test_client()
    client.post("/mot-de-passe-oublie", data={"email": TUTOR})
    path = _link_in_mail(session, TUTOR, "password_reset")
    assert "Code de tablette" not in client.get(path).get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert elsewhere.get("/").status_code == 302  # its session ended
    assert client.get("/").status_code == 200  # this one is signed in
    assert client.get(path).status_code == 410
    login(app.test_client(), TUTOR, NEW_PASSWORD)
    assert (
        app.test_client()
        .post("/connexion", data={"email": TUTOR, "password": PASSWORD})
        .status_code
        == 422
    )


def test_a_deactivated_account_gets_no_reset_link_and_its_links_stop(app, client, session):
    user = session.exec(select(User).where(User.email == TUTOR)).one()
    client.post("/mot-de-passe-oublie", data={"email": TUTOR})
    path = _link_in_mail(session, TUTOR, "password_reset")
    accounts.set_active(session, actor_id=None, user=user, active=False)
    session.flush()
    assert client.get(path).status_code == 410
    client.post("/mot-de-passe-oublie", data={"email": TUTOR})
    assert (
        len(session.exec(select(OutboxMessage).where(OutboxMessage.to_address == TUTOR)).all()) == 1
    )


def test_a_tutor_changes_her_pin_with_her_password(login_as, session):
    client = login_as(Role.TUTOR)
    assert client.get("/compte/code-tablette").status_code == 200
    wrong = client.post(
        "/compte/code-tablette",
        data={"password": "faux-faux-1", "pin": "4826", "pin_confirm": "4826"},
    )
    assert wrong.status_code == 422 and "Mot de passe incorrect." in wrong.get_data(as_text=True)
    easy = client.post(
        "/compte/code-tablette", data={"password": PASSWORD, "pin": "9876", "pin_confirm": "9876"}
    )
    assert easy.status_code == 422 and "trop facile" in easy.get_data(as_text=True)
    ok = client.post(
        "/compte/code-tablette", data={"password": PASSWORD, "pin": "4826", "pin_confirm": "4826"}
    )
    assert ok.status_code == 302
    user = session.exec(select(User).where(User.email == TUTOR)).one()
    session.refresh(user)
    assert accounts.verify_secret(user.pin_hash, "4826")
    assert session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "user.pin_change", AuditEntry.subject_id == user.id
        )
    ).one()


def test_only_tutors_have_a_pin_page(login_as):
    assert login_as(Role.MANAGER).get("/compte/code-tablette").status_code == 403


def test_following_a_link_signed_in_as_someone_else_signs_out_first(
    login_as, session, invited_tutor
):
    client = login_as(Role.MANAGER)
    path = _link_in_mail(session, invited_tutor.email, "invitation")
    page = client.get(path)
    assert page.status_code == 200 and "Nouvelle Tutrice" in page.get_data(as_text=True)
    live = session.exec(
        select(UserSession)
        .join(User, User.id == UserSession.user_id)
        .where(User.email == "direction@azur-aide.demo", UserSession.revoked_at.is_(None))
    ).all()
    assert live == []
