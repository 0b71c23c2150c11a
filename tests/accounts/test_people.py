"""A structure's people: the manager adds and invites, sets roles, deactivates, and hands a
leaving tutor's protocols over; an account of another organisation is the admin's."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import select

from afest.accounts import links
from afest.models import (
    AuditEntry,
    Organisation,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    RoleAssignment,
    User,
    UserSession,
)
from afest.models.mail import OutboxMessage
from afest.protocols import compliance
from tests.conftest import login

AZUR = "Azur Aide à Domicile"
TUTOR = "tuteur@azur-aide.demo"
OTHER_TUTOR = "tutrice2@azur-aide.demo"


def _azur(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def _roster(session) -> str:
    return f"/structures/{_azur(session).public_id}/personnes"


def _person_url(session, email: str, suffix: str = "") -> str:
    user = session.exec(select(User).where(User.email == email)).one()
    return f"{_roster(session)}/{user.public_id}{suffix}"


def _counts(session) -> tuple[int, int, int]:
    return tuple(
        session.exec(select(sa.func.count()).select_from(table)).one()
        for table in (User, RoleAssignment, OutboxMessage)
    )


def test_the_manager_adds_a_person_who_is_invited(login_as, session):
    client = login_as(Role.MANAGER)
    response = client.post(
        _roster(session),
        data={
            "full_name": "  Inès   Bernard ",
            "email": "Ines.Bernard@Example.org",
            "roles": ["tutor"],
        },
    )
    assert response.status_code == 302
    user = session.exec(select(User).where(User.email == "ines.bernard@example.org")).one()
    assert user.full_name == "Inès Bernard" and not links.has_password(user)
    assert user.password_changed_at is None
    roles = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).all()
    assert [(r.role, r.organisation_id) for r in roles] == [(Role.TUTOR, _azur(session).id)]
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).one()
    assert mail.template == "invitation" and "Sylvie Castel" in mail.subject
    page = client.get(_roster(session)).get_data(as_text=True)
    assert "Inès Bernard" in page and "Invitation envoyée" in page


def test_adding_answers_bad_input_beside_the_field_and_saves_nothing(login_as, session):
    client = login_as(Role.MANAGER)
    before = _counts(session)
    cases = [
        ({"full_name": "", "email": "a@example.org", "roles": ["learner"]}, "Indiquez le nom"),
        ({"full_name": "A B", "email": "pas-une-adresse", "roles": ["learner"]}, "pas une adresse"),
        ({"full_name": "A B", "email": "a@example.org"}, "Choisissez au moins un rôle."),
        ({"full_name": "A B", "email": "a@example.org", "roles": ["admin"]}, "pas un choix valide"),
        ({"full_name": "A B", "email": TUTOR, "roles": ["learner"]}, "fait déjà partie"),
        (
            {"full_name": "A B", "email": "conseil@uniformation.demo", "roles": ["tutor"]},
            "seul l&#39;administrateur",
        ),
    ]
    for data, message in cases:
        response = client.post(_roster(session), data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), (data, message)
    assert _counts(session) == before


def test_the_admin_gives_a_role_to_an_account_of_another_organisation(login_as, session):
    response = login_as(Role.ADMIN).post(
        _roster(session),
        data={"full_name": "x", "email": "conseil@uniformation.demo", "roles": ["tutor"]},
    )
    assert response.status_code == 302
    adviser = session.exec(select(User).where(User.email == "conseil@uniformation.demo")).one()
    held = session.exec(
        select(RoleAssignment.role).where(RoleAssignment.user_id == adviser.id)
    ).all()
    assert set(held) == {Role.OPCO, Role.TUTOR}
    # she has a password already: no invitation
    assert not session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == adviser.email)
    ).first()


def test_roles_change_within_the_structure_and_are_audited(login_as, session):
    client = login_as(Role.MANAGER)
    url = _person_url(session, "apprenant2@azur-aide.demo")
    assert client.get(url).status_code == 200
    response = client.post(url, data={"roles": ["learner", "tutor"]})
    assert response.status_code == 302
    user = session.exec(select(User).where(User.email == "apprenant2@azur-aide.demo")).one()
    held = session.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id))
    assert set(held) == {Role.LEARNER, Role.TUTOR}
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "user.roles", AuditEntry.subject_id == user.id
        )
    ).one()
    assert entry.structure_id == _azur(session).id


def test_a_designated_tutor_keeps_her_role_until_replaced(login_as, session):
    client = login_as(Role.MANAGER)
    response = client.post(_person_url(session, TUTOR), data={"roles": ["learner"]})
    assert response.status_code == 422
    assert "remplacez-la" in response.get_data(as_text=True)


def test_a_manager_cannot_drop_her_own_manager_role(login_as, session):
    client = login_as(Role.MANAGER)
    response = client.post(
        _person_url(session, "direction@azur-aide.demo"), data={"roles": ["tutor"]}
    )
    assert response.status_code == 422
    assert "votre propre rôle" in response.get_data(as_text=True)


def test_deactivating_a_person_ends_her_sessions(app, login_as, session):
    tutor_client = login(app.test_client(), OTHER_TUTOR)
    client = login_as(Role.MANAGER)
    response = client.post(_person_url(session, OTHER_TUTOR, "/actif"), data={"active": "0"})
    assert response.status_code == 302
    assert "sessions sont fermées" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert tutor_client.get("/").status_code == 302
    user = session.exec(select(User).where(User.email == OTHER_TUTOR)).one()
    session.refresh(user)
    assert user.is_active is False
    live = select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    assert session.exec(live).all() == []
    assert (
        client.post(_person_url(session, OTHER_TUTOR, "/actif"), data={"active": "1"}).status_code
        == 302
    )
    session.refresh(user)
    assert user.is_active is True


def test_an_account_with_roles_elsewhere_is_not_the_managers_to_deactivate(
    login_as, session, make_structure
):
    other = make_structure()
    user = session.exec(select(User).where(User.email == OTHER_TUTOR)).one()
    session.add(RoleAssignment(user_id=user.id, role=Role.TUTOR, organisation_id=other.id))
    session.flush()
    client = login_as(Role.MANAGER)
    response = client.post(_person_url(session, OTHER_TUTOR, "/actif"), data={"active": "0"})
    assert "demandez à l&#39;administrateur" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    session.refresh(user)
    assert user.is_active is True


def test_a_new_invitation_is_sent_to_who_has_no_password_yet(login_as, session):
    client = login_as(Role.MANAGER)
    client.post(
        _roster(session),
        data={"full_name": "Lou Martin", "email": "lou@example.org", "roles": ["learner"]},
    )
    response = client.post(_person_url(session, "lou@example.org", "/invitation"))
    assert response.status_code == 302
    mails = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == "lou@example.org")
    ).all()
    assert len(mails) == 2
    refused = client.post(_person_url(session, TUTOR, "/invitation"))
    assert "a déjà choisi son mot de passe" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )


def _open_protocols_of(session, email: str) -> list[Protocol]:
    user = session.exec(select(User).where(User.email == email)).one()
    return list(
        session.exec(
            select(Protocol)
            .options(selectinload(Protocol.learner))
            .join(ProtocolTutor, ProtocolTutor.protocol_id == Protocol.id)
            .where(
                ProtocolTutor.tutor_id == user.id,
                ProtocolTutor.ended_at.is_(None),
                Protocol.status.in_(
                    [
                        ProtocolStatus.DRAFT,
                        ProtocolStatus.AWAITING_SIGNATURES,
                        ProtocolStatus.IN_PROGRESS,
                    ]
                ),
            )
        )
    )


def test_a_leaving_tutor_hands_every_protocol_over_in_one_screen(app, login_as, session):
    leaving = session.exec(select(User).where(User.email == TUTOR)).one()
    successor = session.exec(select(User).where(User.email == OTHER_TUTOR)).one()
    protocols = _open_protocols_of(session, TUTOR)
    assert protocols, "the demo tutor has open protocols"
    with app.test_request_context():
        judged = {p.id: compliance.check(session, p).conditions[1].state for p in protocols}
    client = login_as(Role.MANAGER)
    url = _person_url(session, TUTOR, "/remplacement")
    page = client.get(url).get_data(as_text=True)
    assert all(p.learner.full_name in page for p in protocols) and "Rachid Amrani" in page

    partial = {f"successor_{protocols[0].id}": str(successor.id)}
    refused = client.post(url, data=partial)
    assert (refused.status_code == 422) == (len(protocols) > 1)

    everything = {f"successor_{p.id}": str(successor.id) for p in protocols}
    assert client.post(url, data=everything).status_code == 302
    session.expire_all()
    assert _open_protocols_of(session, TUTOR) == []
    for protocol in protocols:
        links_ = {
            t.tutor_id: t
            for t in session.exec(
                select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)
            )
        }
        assert links_[leaving.id].ended_at is not None
        assert links_[successor.id].ended_at is None
    with app.test_request_context():
        after = {
            p.id: compliance.check(session, session.get(Protocol, p.id)).conditions[1].state
            for p in protocols
        }
    assert after == judged
    assert session.exec(
        select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "protocol.tutor_replace")
    ).one() == len(protocols)
    # her role can go now
    assert client.post(_person_url(session, TUTOR), data={"roles": ["learner"]}).status_code == 302


def test_the_handover_refuses_a_successor_from_elsewhere(
    login_as, session, make_structure, make_user
):
    stranger = make_user([(Role.TUTOR, make_structure().id)])
    protocols = _open_protocols_of(session, TUTOR)
    client = login_as(Role.MANAGER)
    response = client.post(
        _person_url(session, TUTOR, "/remplacement"),
        data={f"successor_{p.id}": str(stranger.id) for p in protocols},
    )
    assert response.status_code == 422
    assert _open_protocols_of(session, TUTOR) == protocols


def test_the_roster_reads_in_a_fixed_number_of_statements(app, login_as, session, make_user):
    client = login_as(Role.MANAGER)
    url, azur_id = _roster(session), _azur(session).id
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind().engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
        few = len(statements)
        for i in range(5):
            make_user([(Role.LEARNER, azur_id)], email=f"lot{i}@example.org")
        session.flush()
        statements.clear()
        page = client.get(url).get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert "lot4@example.org" in page
    assert len(statements) == few, "\n".join(s[:80] for s in statements)


def test_a_refusal_naming_a_person_escapes_her_name(login_as, session, make_user):
    make_user([(Role.LEARNER, _azur(session).id)], email="xss@example.org", name="<b>x</b>")
    response = login_as(Role.MANAGER).post(
        _roster(session), data={"full_name": "A B", "email": "xss@example.org", "roles": ["tutor"]}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&lt;b&gt;x&lt;/b&gt; fait déjà partie" in text and "<b>x</b>" not in text
