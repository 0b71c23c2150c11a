"""Protocols: the manager's list, and the protocol page everyone in scope can read."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from afest.db import get_session
from afest.loaders import load_protocol_or_404
from afest.models import Protocol, ProtocolStatus, Role
from afest.services import overview, protocol_view
from afest.web import render

bp = Blueprint("protocols", __name__, url_prefix="/protocoles")


@bp.get("/")
@login_required
def index():
    """The manager's protocols, optionally filtered by status."""
    if not current_user.has(Role.MANAGER):
        abort(403)
    status = request.args.get("statut") or None
    if status is not None and status not in ProtocolStatus.__members__.values():
        status = None
    where = [Protocol.structure_id.in_(current_user.orgs(Role.MANAGER))]
    if status:
        where.append(Protocol.status == status)
    items = overview.visible_protocols(get_session(), current_user, where=where)
    return render(
        "protocols/index.html", partial="protocols/_list.html", protocols=items, status=status
    )


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """A protocol: parties, targeted competences by block, plan, sequences, signatures."""
    protocol = load_protocol_or_404(public_id)
    return render("protocols/show.html", view=protocol_view.protocol_view(get_session(), protocol))
