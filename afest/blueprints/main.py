"""The role-aware home page and the health check."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required
from sqlalchemy import text

from afest.core.database import get_session
from afest.core.http import render
from afest.todo import home as home_page

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """Each role's entry point: what waits for the person first, then what she follows."""
    return render("main/home.html", **home_page.page(get_session(), current_user))


@bp.get("/sante")
def health():
    """Liveness and database check for load balancers (no data, no login)."""
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}
