"""Who both demo programmes are made of: names, the seeding context, the accounts and
organisations (created once, found again on a second seeding)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from afest.accounts import operations as accounts
from afest.models import Organisation, Role, User

DEMO_PASSWORD = "afest-demo-2026"  # noqa: S105 (documented demo credential)
DEMO_PIN = "2468"
CARE_SKILLS = "CARE-SKILLS-2026"

FIRST = [
    "Camille",
    "Nadia",
    "Sofiane",
    "Léa",
    "Fatou",
    "Julien",
    "Inès",
    "Karim",
    "Manon",
    "Yasmine",
    "Océane",
    "Mehdi",
    "Chloé",
    "Aurélie",
    "Samir",
    "Pauline",
    "Amina",
    "Thomas",
    "Sarah",
    "Lucie",
    "Bilal",
    "Emma",
    "Nora",
    "Hugo",
    "Rania",
    "Élodie",
    "Kevin",
    "Mariam",
    "Laura",
    "Anaïs",
    "Djamel",
    "Justine",
    "Aïcha",
    "Romain",
]
LAST = [
    "Martin",
    "Benali",
    "Rossi",
    "Garcia",
    "Diallo",
    "Lambert",
    "Morel",
    "Haddad",
    "Fournier",
    "Giraud",
    "Mercier",
    "Bonnet",
    "Nguyen",
    "Traoré",
    "Roux",
    "Faure",
    "Blanc",
    "Guerin",
    "Chevalier",
    "Lopez",
    "Brun",
    "Arnaud",
    "Perrin",
    "Marchand",
]


FIRST_RUN_ACCOUNTS: list[tuple[str, str]] = []


@dataclass
class Ctx:
    session: Session
    rng: random.Random
    today: date
    password_hash: str
    pin_hash: str
    admin_id: int
    created: dict[str, int]


def make_user(
    ctx: Ctx, email: str, name: str, roles: list[tuple[Role, int | None]], pin: bool = False
) -> User:
    existing = ctx.session.exec(select(User).where(User.email == email)).first()
    if existing:
        return existing
    user = accounts.create_user(
        ctx.session,
        actor_id=ctx.admin_id or None,
        email=email,
        full_name=name,
        password="",
        roles=roles,
        password_hash=ctx.password_hash,
        pin_hash=ctx.pin_hash if pin else None,
    )
    ctx.created["users"] = ctx.created.get("users", 0) + 1
    return user


def person_name(ctx: Ctx) -> str:
    return f"{ctx.rng.choice(FIRST)} {ctx.rng.choice(LAST)}"


def make_org(ctx: Ctx, **fields) -> Organisation:
    key = fields.get("siret") or fields.get("code")
    column = Organisation.siret if fields.get("siret") else Organisation.code
    existing = ctx.session.exec(select(Organisation).where(column == key)).first()
    if existing:
        return existing
    org = Organisation(**fields)
    ctx.session.add(org)
    ctx.session.flush()
    return org
