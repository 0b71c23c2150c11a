"""The read-only JSON API (/api/v1), for the systems of OPCOs and structures.

Each request carries a token (Authorization: Bearer …; no cookie is read, so no CSRF token
is asked); it reads as its organisation (afest.api.tokens.TokenActor). spectree checks each
query and answer against afest.api.schemas and serves the OpenAPI 3.1 document they make
at /api/v1/openapi.json. Errors are problem details (afest.core.problems); an object of
another organisation is not found (404). Each token is rate-limited (API_RATE_LIMIT).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData
from werkzeug.datastructures import MultiDict

from afest.api import paging, queries, tokens
from afest.api import schemas as s
from afest.core.database import get_session, writing
from afest.core.extensions import csrf, limiter
from afest.core.problems import Problem
from afest.dashboards import jobs as dashboards_jobs
from afest.models import utcnow
from afest.protocols import compliance

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _refuse_invalid(_req, _resp, error, _instance, _adapter) -> None:
    """A query that does not match its schema: 400, saying which parameter."""
    if error is not None:
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
        raise Problem(400, _("Paramètre invalide : %(where)s.", where=where or "?"))


spec = SpecTree(
    "flask",
    title="afest API",
    version="1",
    description="Lecture seule, pour les systèmes des OPCO et des structures.",
    path="api/v1/doc",
    mode="strict",
    page_templates={},
    before=_refuse_invalid,
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))
    ],
    security={"bearer": []},
)
ERRORS = {f"HTTP_{code}": s.ProblemOut for code in (400, 401, 404, 429)}


def _answers(model) -> Response:
    return Response(HTTP_200=model, **ERRORS)


def _token_key() -> str:
    """Rate limits count per token (a digest of the header), else per client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return f"api-client:{get_remote_address()}"


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key)(bp)


@bp.before_request
def _authenticate():
    """Every route but the OpenAPI document wants a live token (else 401)."""
    if request.endpoint == "api.openapi":
        return
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    found = tokens.bearer(get_session(), secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise Problem(401)
    token, g.api_actor = found
    now = utcnow()
    if tokens.needs_touch(token, now):
        with writing() as session:
            tokens.touch(session, token_id=token.id, now=now)


def _settings() -> compliance.Settings:
    return compliance.Settings.from_config(current_app.config)


PACK = (("pdf", "pdf"), ("xlsx", "xlsx"), ("csv", "csv"), ("zip", "archive"))
MARK = "protocol-public-id"


def _links_maker():
    """Where a protocol's proof pack is downloaded (from an adviser's session): the addresses
    built once a request, then filled with each protocol's id."""
    shapes = {n: url_for(f"proofpack.{e}", public_id=MARK, _external=True) for n, e in PACK}
    return lambda public_id: s.ProofPackOut(
        **{name: shape.replace(MARK, public_id) for name, shape in shapes.items()}
    )


def _page(model, items, cursor: str | None):
    """A page of a list, with the cursor of the next one and its address."""
    following = None
    if cursor:
        query = {k: v for k, v in request.args.items() if k != "cursor"}
        following = url_for(request.endpoint, **{**query, "cursor": cursor}, _external=True)
    return model(items=items, next_cursor=cursor, next=following)


def _paged(read, query):
    try:
        return read(query)
    except paging.BadCursor:
        raise Problem(
            400, _("Ce curseur n'est pas valide : repartez de la première page.")
        ) from None


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed)."""
    return jsonify(s.with_problem_media(spec.spec))


@bp.get("/structures")
@spec.validate(query=s.PageQuery, resp=_answers(s.StructurePage), tags=["structures"])
def structures(query: s.PageQuery):
    """The structures the token's organisation may look into."""
    items, cursor = _paged(lambda q: queries.structures(get_session(), g.api_actor, q), query)
    return _page(s.StructurePage, items, cursor)


@bp.get("/protocols")
@spec.validate(query=s.ProtocolQuery, resp=_answers(s.ProtocolPage), tags=["protocols"])
def protocols(query: s.ProtocolQuery):
    """Protocols in scope, with their four legal conditions, hours and proof pack links."""
    read = lambda q: queries.protocols(  # noqa: E731
        get_session(), g.api_actor, q, settings=_settings(), links=_links_maker()
    )
    items, cursor = _paged(read, query)
    return _page(s.ProtocolPage, items, cursor)


@bp.get("/protocols/<public_id>")
@spec.validate(resp=_answers(s.ProtocolOut), tags=["protocols"])
def protocol(public_id: str):
    """One protocol in scope (another organisation's: 404)."""
    found = queries.protocol(
        get_session(), g.api_actor, public_id, settings=_settings(), links=_links_maker()
    )
    if found is None:
        raise Problem(404)
    return found


@bp.get("/protocols/<public_id>/sequences")
@spec.validate(resp=_answers(s.SequenceList), tags=["protocols"])
def sequences(public_id: str):
    """The current sequences of a protocol: kind, date, duration, who signed."""
    found = queries.sequences(get_session(), g.api_actor, public_id)
    if found is None:
        raise Problem(404)
    return found


@bp.get("/dashboard")
@spec.validate(query=s.DashboardQuery, resp=_answers(s.DashboardOut), tags=["dashboard"])
def dashboard(query: s.DashboardQuery):
    """The dashboard's figures, cells of fewer than k learners hidden as on the pages."""
    wait = current_app.config["ROLLUP_READ_WAIT_SECONDS"]
    pending = dashboards_jobs.wait_until_settled(get_session(), wait)
    args = MultiDict({k: v for k, v in query.model_dump().items() if v})
    k = current_app.config["SMALL_CELL_K"]
    found = queries.dashboard(get_session(), g.api_actor, args, k=k, pending=pending)
    if isinstance(found, dict):
        raise Problem(400, "; ".join(f"{n}: {' '.join(m)}" for n, m in found.items()))
    return found


@bp.get("/vae/pathways")
@spec.validate(query=s.PageQuery, resp=_answers(s.PathwayPage), tags=["vae"])
def pathways(query: s.PageQuery):
    """VAE pathways in scope and their jury's result per block."""
    items, cursor = _paged(lambda q: queries.pathways(get_session(), g.api_actor, q), query)
    return _page(s.PathwayPage, items, cursor)
