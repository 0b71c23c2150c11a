"""Demo data: the two real programmes of DOMAIN.md, built through the services.

- An association of home help in Alpes-Maritimes (funder Uniformation) running two-week
  AFEST on the three home-help blocks; one protocol is left incomplete on purpose.
- #CARE-SKILLS (OPCO Santé, followed by Aract PACA consultants): 10 structures × 3 learners
  × 3 AFEST each towards the DEAS or the DEAES, with VAE pathways at various milestones.
- What their AFEST cost each structure (afest.demo.costs), for the statement of expenses.

Dates are relative to the day of seeding so that the data always looks current; each
protocol's steps are written at their moment in that story (afest.demo.protocol), so that
signatures and audit entries are dated when they happened, not when the seed ran. Seeding is
idempotent: a programme already present is left as it is.
"""

from __future__ import annotations

import random
from datetime import date

from sqlmodel import Session, select

from afest.accounts import operations as accounts
from afest.dashboards import rollups
from afest.demo.careskills import care_skills
from afest.demo.costs import demo_costs
from afest.demo.homehelp import home_help
from afest.demo.people import CARE_SKILLS, DEMO_PASSWORD, DEMO_PIN, Ctx, make_user
from afest.models import Referential, Role
from afest.referentials import operations as referentials

__all__ = ["CARE_SKILLS", "DEMO_LOGINS", "DEMO_PASSWORD", "DEMO_PIN", "seed"]


def bundled_referentials(ctx: Ctx) -> dict[str, Referential]:
    found = {}
    for code, document in referentials.bundled().items():
        ref = ctx.session.exec(
            select(Referential).where(Referential.code == code).order_by(Referential.version.desc())
        ).first()
        found[code] = ref or referentials.import_json(ctx.session, actor_id=None, data=document)
    return found


def seed(session: Session, *, today: date | None = None, seed_value: int = 2026) -> dict[str, int]:
    """Create the demo programmes that are not there yet; return what was created."""
    today = today or date.today()
    ctx = Ctx(
        session=session,
        rng=random.Random(seed_value),
        today=today,
        password_hash=accounts.hash_secret(DEMO_PASSWORD),
        pin_hash=accounts.hash_secret(DEMO_PIN),
        admin_id=0,
        created={},
    )
    admin = make_user(ctx, "admin@afest.demo", "Admin afest", [(Role.ADMIN, None)])
    ctx.admin_id = admin.id
    refs = bundled_referentials(ctx)
    home_help(ctx, refs)
    care_skills(ctx, refs)
    demo_costs(ctx)
    rollups.drain_all(session)  # the dashboards of a fresh install read settled rollups
    return ctx.created


DEMO_LOGINS = [
    ("admin", "admin@afest.demo"),
    ("manager (aide à domicile)", "direction@azur-aide.demo"),
    ("tutor (aide à domicile)", "tuteur@azur-aide.demo"),
    ("learner (aide à domicile)", "apprenant@azur-aide.demo"),
    ("manager (#CARE-SKILLS)", "direction@ehpad-01.demo"),
    ("tutor (#CARE-SKILLS)", "tuteur@ehpad-01.demo"),
    ("learner (#CARE-SKILLS)", "apprenant1@ehpad-01.demo"),
    ("OPCO (Uniformation)", "conseil@uniformation.demo"),
    ("OPCO (OPCO Santé)", "conseil@opco-sante.demo"),
    ("consultant (Aract PACA)", "consultant@aract-paca.demo"),
]
