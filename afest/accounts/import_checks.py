"""What a people import reads: its columns; its cells (an e-mail, the roles a cell names, the
e-mails of a "Tuteur·rice de" cell); what the database holds about the e-mails of a file, in
a few statements however many rows it has."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.accounts.operations import normalise_email
from afest.accounts.people import STRUCTURE_ROLES
from afest.core.http import ROLE_LABELS
from afest.core.tabular import Column, header_key
from afest.models import Protocol, ProtocolStatus, ProtocolTutor, Role, RoleAssignment, User

COLUMNS = (
    Column(
        "name",
        (
            "Nom",
            "Nom complet",
            "Prénom Nom",
            "Prénom et nom",
            "Nom et prénom",
            "Nom prénom",
            "Nom de la personne",
            "Name",
            "Full name",
        ),
    ),
    Column("first_name", ("Prénom", "First name"), required=False),
    Column(
        "email",
        (
            "E-mail",
            "Email",
            "Courriel",
            "Mail",
            "Adresse e-mail",
            "Adresse mail",
            "Adresse email",
            "Adresse électronique",
            "Adresse courriel",
        ),
    ),
    Column("roles", ("Rôle", "Rôles", "Rôle(s)", "Role", "Roles")),
    Column(
        "tutor_of",
        (
            "Tuteur·rice de",
            "Tuteur·trice de",
            "Tuteur de",
            "Tutrice de",
            "Tuteur ou tutrice de",
            "Tuteur/tutrice de",
            "Tutor of",
        ),
        required=False,
    ),
)
# as compared: header_key (no case, accents, punctuation: "Tuteur·rice" is "tuteur rice")
ROLE_WORDS = {
    header_key(word): role
    for role, words in (
        (Role.LEARNER, ("apprenant·e", "apprenant", "apprenante", "apprenant(e)", "learner")),
        (Role.TUTOR, ("tuteur·rice", "tuteur·trice", "tuteur", "tutrice", "tutor")),
        (Role.MANAGER, ("responsable", "responsable de structure", "manager", "direction")),
    )
    for word in (*words, *(w + "s" for w in words))
}
ROLE_SEPARATORS = re.compile(r"\s*(?:[,/;+&]|\bet\b)\s*", re.IGNORECASE)
EMAIL_SEPARATORS = re.compile(r"[\s,;/]+")
CHUNK = 500  # values in one IN (...)


def checked_email(text: str) -> str:
    """An address as afest keeps it (lower case), else ValueError saying why."""
    text = text.strip()
    if not text:
        raise ValueError(_l("E-mail vide."))
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(_l("Adresse e-mail invalide : %(email)s.", email=text[:80])) from None
    return normalise_email(text)


def read_roles(text: str) -> tuple[tuple[Role, ...], list[str]]:
    """The roles a cell names, in STRUCTURE_ROLES order, and the words that name none."""
    found: set[Role] = set()
    unknown: list[str] = []
    for word in ROLE_SEPARATORS.split(text):
        if not word.strip():
            continue
        role = ROLE_WORDS.get(header_key(word))
        if role is None:
            unknown.append(word.strip())
        else:
            found.add(role)
    return ordered(found), unknown


def ordered(roles: Iterable[Role]) -> tuple[Role, ...]:
    held = set(roles)
    return tuple(r for r in STRUCTURE_ROLES if r in held)


def role_names(roles: Iterable[Role]) -> str:
    return ", ".join(str(ROLE_LABELS[r]).lower() for r in roles)


def listed_emails(text: str) -> list[str]:
    """The e-mails a "Tuteur·rice de" cell lists, as afest keeps them (unchecked)."""
    return [normalise_email(part) for part in EMAIL_SEPARATORS.split(text) if part.strip()]


@dataclass
class Known:
    """What the database holds about the e-mails of a file (a few statements in all)."""

    accounts: dict[str, User]
    roles: dict[int, set[tuple[Role, int | None]]]  # user id → (role, organisation id)
    drafts: dict[int, list[tuple[int, str]]]  # learner id → her draft protocols (id, title)
    designated: set[tuple[int, int]]  # (protocol id, tutor id) of those drafts


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load(
    session: Session, *, emails: Iterable[str], learners: Iterable[str], structure_id: int
) -> Known:
    """The accounts of `emails` and their roles; the structure's draft protocols of the
    accounts of `learners` and who is designated on them."""
    learners = set(learners)
    wanted = sorted(set(emails) | learners)
    accounts: dict[str, User] = {}
    for chunk in _chunks(wanted):
        for user in session.exec(select(User).where(User.email.in_(chunk))):
            accounts[user.email] = user
    roles: dict[int, set[tuple[Role, int | None]]] = defaultdict(set)
    for chunk in _chunks(sorted(user.id for user in accounts.values())):
        assignments = session.exec(
            select(
                RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.organisation_id
            ).where(RoleAssignment.user_id.in_(chunk))
        )
        for user_id, role, organisation_id in assignments:
            roles[user_id].add((Role(role), organisation_id))
    learner_ids = sorted({accounts[e].id for e in learners if e in accounts})
    drafts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for chunk in _chunks(learner_ids):
        found = session.exec(
            select(Protocol.id, Protocol.title, Protocol.learner_id)
            .where(
                Protocol.learner_id.in_(chunk),
                Protocol.structure_id == structure_id,
                Protocol.status == ProtocolStatus.DRAFT,
            )
            .order_by(Protocol.id)
        )
        for protocol_id, title, learner_id in found:
            drafts[learner_id].append((protocol_id, title))
    designated: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(p for listed in drafts.values() for p, _title in listed)):
        designated.update(
            session.exec(
                select(ProtocolTutor.protocol_id, ProtocolTutor.tutor_id).where(
                    ProtocolTutor.protocol_id.in_(chunk)
                )
            ).all()
        )
    return Known(accounts, roles, drafts, designated)


def is_admin(session: Session, actor_id: int | None) -> bool:
    """The admin (or the console: no actor) may give roles here to an account of another
    organisation; a manager may not."""
    if actor_id is None:
        return True
    held = select(RoleAssignment.id).where(
        RoleAssignment.user_id == actor_id, RoleAssignment.role == Role.ADMIN
    )
    return session.exec(held).first() is not None
