"""The members of an OPCO or a support body (afest.accounts.members): added by name and
e-mail (a new account invited, an existing one given the role), removed, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from afest.accounts import links, members
from afest.core.errors import ServiceError
from afest.models import (
    AuditEntry,
    Cohort,
    CohortConsultant,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    User,
)
from afest.models.mail import OutboxMessage

CONSULTANT = "consultant@aract-paca.demo"
MANAGER = "direction@azur-aide.demo"


def _org(session, code: str) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.code == code)).one()


def _user(session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _roles(session, user: User) -> set[tuple[Role, int | None]]:
    rows = session.exec(
        select(RoleAssignment.role, RoleAssignment.organisation_id).where(
            RoleAssignment.user_id == user.id
        )
    )
    return {(Role(role), org) for role, org in rows}


def _mails(session, email: str) -> list[OutboxMessage]:
    return session.exec(select(OutboxMessage).where(OutboxMessage.to_address == email)).all()


def _audited(session, action: str, user: User) -> list[AuditEntry]:
    return session.exec(
        select(AuditEntry).where(AuditEntry.action == action, AuditEntry.subject_id == user.id)
    ).all()


def test_a_new_adviser_of_an_opco_is_created_and_invited(app, session):
    opco = _org(session, "UNIFORMATION")
    with app.test_request_context():
        user, created = members.add_member(
            session,
            actor_id=None,
            body=opco,
            full_name="  Léa   Morel ",
            email=" Lea.Morel@Uniformation.example ",
        )
    assert created and user.email == "lea.morel@uniformation.example"
    assert user.full_name == "Léa Morel" and not links.has_password(user)
    assert _roles(session, user) == {(Role.OPCO, opco.id)}
    assert [m.template for m in _mails(session, user.email)] == ["invitation"]
    assert _audited(session, "user.create", user) and _audited(session, "user.invite", user)
    (member,) = [m for m in members.members_of(session, opco) if m.user.id == user.id]
    assert member.state == members.INVITED and member.elsewhere == ()


def test_an_existing_account_keeps_its_roles_elsewhere_and_is_not_invited_again(app, session):
    """A manager of a structure who also advises for an OPCO; a consultant in two bodies."""
    opco = _org(session, "OPCO-SANTE")
    manager = _user(session, MANAGER)
    held = _roles(session, manager)
    with app.test_request_context():
        user, created = members.add_member(
            session, actor_id=None, body=opco, full_name="ignored", email=MANAGER
        )
    assert not created and user.id == manager.id and manager.full_name != "ignored"
    assert _roles(session, manager) == held | {(Role.OPCO, opco.id)}
    assert _mails(session, MANAGER) == []  # she has her password already
    (entry,) = _audited(session, "user.roles", manager)
    assert entry.before == {"organisation_id": opco.id, "roles": []}
    assert entry.after == {"organisation_id": opco.id, "roles": ["opco"]}
    (member,) = [m for m in members.members_of(session, opco) if m.user.id == manager.id]
    assert member.state == members.ACTIVE
    assert (Role.MANAGER, "Azur Aide à Domicile") in member.elsewhere

    other = Organisation(kind=OrgKind.SUPPORT_BODY, name="DAVA Sud", code="DAVA-SUD")
    session.add(other)
    session.flush()
    consultant = _user(session, CONSULTANT)
    with app.test_request_context():
        members.add_member(session, actor_id=None, body=other, full_name="x", email=CONSULTANT)
    aract = _org(session, "ARACT-PACA")
    assert {(Role.CONSULTANT, aract.id), (Role.CONSULTANT, other.id)} <= _roles(session, consultant)


def test_an_invited_account_without_a_password_is_invited_with_its_new_role(
    app, session, make_user
):
    opco = _org(session, "UNIFORMATION")
    structure = _org(session, "OPCO-SANTE")  # any organisation: what matters is the password
    invited = make_user([(Role.TUTOR, structure.id)])
    invited.password_hash = links.UNSET_PASSWORD
    session.add(invited)
    session.flush()
    with app.test_request_context():
        members.add_member(session, actor_id=None, body=opco, full_name="x", email=invited.email)
        text = members.added_message(opco, invited, False)
    assert [m.template for m in _mails(session, invited.email)] == ["invitation"]
    assert "une invitation est partie" in text


@pytest.mark.parametrize(
    ("email", "name", "field", "words"),
    [
        ("conseil@uniformation.demo", "x", "email", "déjà membre"),
        ("nouvelle@example.org", "   ", "full_name", "Indiquez le nom"),
        ("pas-une-adresse", "Léa Morel", "email", "Adresse e-mail invalide"),
    ],
)
def test_what_cannot_be_added_is_refused_beside_its_field(app, session, email, name, field, words):
    opco = _org(session, "UNIFORMATION")
    before = session.exec(select(sa.func.count()).select_from(RoleAssignment)).one()
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        members.add_member(session, actor_id=None, body=opco, full_name=name, email=email)
    assert refused.value.field == field and words in str(refused.value.message)
    assert session.exec(select(sa.func.count()).select_from(RoleAssignment)).one() == before


def test_a_deactivated_account_is_reactivated_before_it_is_added(app, session, make_user):
    opco = _org(session, "UNIFORMATION")
    user = make_user([])
    user.is_active = False
    session.add(user)
    session.flush()
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        members.add_member(session, actor_id=None, body=opco, full_name="x", email=user.email)
    assert refused.value.field == "email" and "désactivé" in str(refused.value.message)
    assert _roles(session, user) == set()


def test_a_structure_has_no_members_of_this_kind(app, session, make_structure):
    with app.test_request_context(), pytest.raises(ServiceError):
        members.add_member(
            session, actor_id=None, body=make_structure(), full_name="x", email="a@example.org"
        )


def test_removing_takes_the_role_there_away_and_nothing_else(app, session):
    opco = _org(session, "OPCO-SANTE")
    manager = _user(session, MANAGER)
    held = _roles(session, manager)
    with app.test_request_context():
        members.add_member(session, actor_id=None, body=opco, full_name="x", email=MANAGER)
        members.remove_member(session, actor_id=None, body=opco, user=manager)
    assert _roles(session, manager) == held and manager.is_active
    entries = _audited(session, "user.roles", manager)
    assert [e.after["roles"] for e in entries] == [["opco"], []]
    with app.test_request_context(), pytest.raises(ServiceError):
        members.remove_member(session, actor_id=None, body=opco, user=manager)


def test_a_consultant_stops_following_her_cohorts_once_she_is_one_nowhere(app, session):
    aract = _org(session, "ARACT-PACA")
    consultant = _user(session, CONSULTANT)
    other = Organisation(kind=OrgKind.SUPPORT_BODY, name="DAVA Sud", code="DAVA-SUD")
    session.add(other)
    session.flush()

    def followed() -> list[int]:
        return session.exec(
            select(CohortConsultant.cohort_id).where(CohortConsultant.user_id == consultant.id)
        ).all()

    cohorts = followed()
    assert cohorts, "the demo's consultant follows a cohort"
    with app.test_request_context():
        members.add_member(session, actor_id=None, body=other, full_name="x", email=CONSULTANT)
        members.remove_member(session, actor_id=None, body=aract, user=consultant)
        assert followed() == cohorts  # still a consultant, of DAVA Sud
        members.remove_member(session, actor_id=None, body=other, user=consultant)
    assert followed() == []
    (entry,) = _audited(session, "user.cohorts", consultant)
    assert entry.before == {"cohort_ids": sorted(cohorts)} and entry.after == {"cohort_ids": []}
    assert session.exec(select(Cohort).where(Cohort.id.in_(cohorts))).all()  # cohorts stay


def test_the_members_list_costs_the_same_whatever_its_length(app, session, make_user):
    from tests.core.test_pages import count_queries

    aract = _org(session, "ARACT-PACA")
    with count_queries(app) as few:
        members.members_of(session, aract)
    for n in range(12):
        make_user([(Role.CONSULTANT, aract.id), (Role.TUTOR, None)], name=f"Consultante {n}")
    with count_queries(app) as many:
        found = members.members_of(session, aract)
    assert len(found) >= 13 and many["n"] == few["n"]
    assert [m.user.full_name for m in found] == sorted(m.user.full_name for m in found)
