"""API tokens: created from the tokens' page (the secret shown once, only its hash kept),
scoped to the organisation chosen, audited, and revoked (401 from then on)."""

from __future__ import annotations

import hashlib
import re

from sqlmodel import select

from afest.models import ApiToken, AuditEntry, Role
from tests.api.conftest import OPCO_SANTE, UNIFORMATION, Api, organisation

SECRET = re.compile(r'<code id="api-secret">(afest_[A-Za-z0-9_-]+)</code>')


def _create(client, org, name="Extranet"):
    return client.post("/jetons-api", data={"name": name, "organisation": org.public_id})


def test_a_token_is_shown_once_stored_hashed_used_then_revoked(app, session, login_as):
    adviser = login_as(Role.OPCO)
    uniformation = organisation(session, code=UNIFORMATION)
    response = _create(adviser, uniformation)
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    assert f'<option value="{uniformation.public_id}">' in page  # another may be made at once
    token = session.exec(select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.organisation_id == uniformation.id and token.revoked_at is None
    listing = adviser.get("/jetons-api").get_data(as_text=True)
    assert "Extranet" in listing and secret not in listing and token.prefix in listing

    api = Api(app.test_client(), secret)
    assert api.get("/api/v1/protocols").status_code == 200
    session.refresh(token)
    assert token.last_used_at is not None

    assert adviser.post(f"/jetons-api/{token.public_id}/revoquer").status_code == 302
    revoked = api.get("/api/v1/protocols")
    assert revoked.status_code == 401
    assert revoked.content_type == "application/problem+json"
    actions = session.exec(
        select(AuditEntry.action)
        .where(AuditEntry.subject_kind == "api_token", AuditEntry.subject_id == token.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["api_token.create", "api_token.revoke"]


def test_an_adviser_makes_tokens_of_her_own_opco_only(session, login_as):
    adviser = login_as(Role.OPCO)
    page = adviser.get("/jetons-api").get_data(as_text=True)
    other = organisation(session, code=OPCO_SANTE)
    assert organisation(session, code=UNIFORMATION).public_id in page
    assert other.public_id not in page
    before = len(session.exec(select(ApiToken)).all())
    response = _create(adviser, other)
    assert response.status_code == 422
    assert "Choisissez une organisation dans la liste." in response.get_data(as_text=True)
    assert len(session.exec(select(ApiToken)).all()) == before


def test_the_admin_makes_a_structures_token_and_a_bad_name_is_refused(session, login_as):
    admin = login_as(Role.ADMIN)
    structure = organisation(session, name="EHPAD Les Oliviers")
    assert _create(admin, structure, name="Paie").status_code == 201
    before = len(session.exec(select(ApiToken)).all())
    response = _create(admin, structure, name="  ")
    assert response.status_code == 422
    assert "Donnez un nom au jeton" in response.get_data(as_text=True)
    assert len(session.exec(select(ApiToken)).all()) == before


def test_an_adviser_neither_lists_nor_revokes_another_opcos_token(session, login_as, make_token):
    make_token(OPCO_SANTE)
    foreign = session.exec(select(ApiToken).order_by(ApiToken.id.desc())).first()
    adviser = login_as(Role.OPCO)
    assert foreign.prefix not in adviser.get("/jetons-api").get_data(as_text=True)
    assert adviser.post(f"/jetons-api/{foreign.public_id}/revoquer").status_code == 404
    session.refresh(foreign)
    assert foreign.revoked_at is None
    assert login_as(Role.MANAGER).get("/jetons-api").status_code == 403


def test_an_unknown_or_malformed_token_is_refused(app):
    for header in ("Bearer afest_nope", "Bearer ", "Basic dXNlcjpwYXNz", "afest_x"):
        response = app.test_client().get("/api/v1/structures", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
