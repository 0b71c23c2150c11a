"""The role-aware home page and the health check."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required
from sqlalchemy import text

from afest.core.database import get_session
from afest.core.http import render
from afest.models import Role
from afest.protocols import overview

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """Each role's entry point: what the person has to do or follow, in their scope."""
    db, actor = get_session(), current_user
    sections = {}
    if actor.has(Role.LEARNER):
        sections["learner"] = overview.learner_protocols(db, actor)
    if actor.has(Role.TUTOR):
        sections["tutor"] = overview.tutored_protocols(db, actor)
    if actor.has(Role.MANAGER, Role.OPCO):
        sections["structures"] = overview.protocols_by_structure(db, actor)
    if actor.has(Role.CONSULTANT):
        sections["cohorts"] = overview.followed_cohorts(db, actor)
    if actor.has(Role.ADMIN):
        sections["admin"] = overview.account_counts(db)
    return render("main/home.html", sections=sections)


@bp.get("/sante")
def health():
    """Liveness and database check for load balancers (no data, no login)."""
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}
