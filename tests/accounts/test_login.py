"""Login, logout, deactivation, password change, rate limit and CSRF."""

from __future__ import annotations

import re

import argon2
import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from afest import create_app
from afest.accounts import operations as accounts
from afest.core.database import database
from afest.core.extensions import limiter
from afest.models import Role, User, UserSession
from tests.conftest import PASSWORD, login

TUTOR = "tuteur@azur-aide.demo"
MANAGER = "direction@azur-aide.demo"


def test_login_leads_to_home(client):
    response = client.post("/connexion", data={"email": TUTOR, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Mes apprenant·es" in client.get("/").get_data(as_text=True)


def test_email_is_case_and_space_insensitive(client):
    response = client.post(
        "/connexion", data={"email": f"  {TUTOR.upper()} ", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(app, connection):
    wrong = app.test_client().post("/connexion", data={"email": TUTOR, "password": "nope-nope-1"})
    unknown = app.test_client().post(
        "/connexion", data={"email": "nobody@afest.demo", "password": "nope-nope-1"}
    )
    assert wrong.status_code == unknown.status_code == 422

    def normalised(response, email):
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", "TOKEN", body)

    assert normalised(wrong, TUTOR) == normalised(unknown, "nobody@afest.demo")
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": "x"}, "Indiquez votre adresse e-mail."),
        ({"email": "pas-une-adresse", "password": "x"}, "Ce n'est pas une adresse e-mail"),
        ({"email": TUTOR, "password": ""}, "Indiquez votre mot de passe."),
        ({"email": "a" * 300 + "@x.fr", "password": "x"}, "Adresse trop longue."),
        ({"email": TUTOR, "password": "p" * 5000}, "Mot de passe trop long."),
        ({}, "Indiquez votre adresse e-mail."),
    ],
)
def test_bad_login_input_gets_a_message_beside_the_field(client, data, message):
    response = client.post("/connexion", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert 'class="error"' in body and 'aria-invalid="true"' in body


def test_login_with_control_characters_is_refused_cleanly(client):
    response = client.post("/connexion", data={"email": "a\x00b@c.fr", "password": "\x00\x01"})
    assert response.status_code == 422


def test_next_parameter_only_follows_local_paths(client):
    evil = client.post(
        "/connexion?next=//evil.example/x", data={"email": TUTOR, "password": PASSWORD}
    )
    assert evil.headers["Location"] == "/"


def test_logout_revokes_the_session_server_side(app, connection):
    client = login(app.test_client(), TUTOR)
    cookie = client.get_cookie("afest_session").value
    assert client.post("/deconnexion").status_code == 302
    copy = app.test_client()
    copy.set_cookie("afest_session", cookie)
    assert copy.get("/").status_code == 302  # back to the login page


def test_a_copied_cookie_stops_working_after_logout(app, connection):
    client = login(app.test_client(), TUTOR)
    copy = app.test_client()
    copy.set_cookie("afest_session", client.get_cookie("afest_session").value)
    assert copy.get("/").status_code == 200
    client.post("/deconnexion")
    assert copy.get("/").status_code == 302


def test_deactivation_ends_every_session(app, connection, login_as):
    tutor_client = login(app.test_client(), TUTOR)
    assert tutor_client.get("/").status_code == 200
    admin = login_as(Role.ADMIN)
    with app.app_context():
        db = database(app).session()
        tutor = db.exec(select(User).where(User.email == TUTOR)).one()
        public_id = tutor.public_id
        db.close()
    assert admin.post(f"/admin/comptes/{public_id}/actif", data={"active": "0"}).status_code == 302
    assert tutor_client.get("/").status_code == 302
    again = app.test_client().post("/connexion", data={"email": TUTOR, "password": PASSWORD})
    assert again.status_code == 422  # a deactivated account cannot log in


def test_admin_cannot_deactivate_themselves(login_as, session):
    admin = login_as(Role.ADMIN)
    me = session.exec(select(User).where(User.email == "admin@afest.demo")).one()
    admin.post(f"/admin/comptes/{me.public_id}/actif", data={"active": "0"})
    session.refresh(me)
    assert me.is_active


def test_password_change_ends_every_session(app, connection, session, make_user):
    user = make_user([(Role.TUTOR, None)], email="pw@example.org")
    session.commit()
    first = login(app.test_client(), "pw@example.org")
    second = login(app.test_client(), "pw@example.org")
    response = first.post(
        "/compte/mot-de-passe",
        data={
            "current_password": PASSWORD,
            "new_password": "un-nouveau-secret",
            "confirm": "un-nouveau-secret",
        },
    )
    assert response.status_code == 302
    assert second.get("/").status_code == 302
    assert first.get("/").status_code == 302
    login(app.test_client(), "pw@example.org", "un-nouveau-secret")
    open_sessions = session.exec(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    assert len(open_sessions.all()) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "current_password": "faux-mot-de-passe",
                "new_password": "abcdefghijk",
                "confirm": "abcdefghijk",
            },
            "Mot de passe actuel incorrect.",
        ),
        (
            {"current_password": PASSWORD, "new_password": "court", "confirm": "court"},
            "Entre 10 et 200 caractères.",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": "abcdefghijk",
                "confirm": "autre-chose-x",
            },
            "Les deux mots de passe diffèrent.",
        ),
    ],
)
def test_password_change_bad_input(login_as, session, data, message):
    client = login_as(Role.TUTOR)
    response = client.post("/compte/mot-de-passe", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # nothing changed, still logged in


def test_idle_session_expires(app, connection, session):
    client = login(app.test_client(), TUTOR)
    row = session.exec(select(UserSession).order_by(UserSession.id.desc())).first()
    from datetime import timedelta

    row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
    session.add(row)
    session.commit()
    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, connection):
    response = app.test_client().post("/connexion", data={"email": TUTOR, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_only_a_hash_of_the_session_token_is_stored(app, connection, session):
    client = login(app.test_client(), TUTOR)
    row = session.exec(select(UserSession).order_by(UserSession.id.desc())).first()
    assert len(row.token_hash) == 64
    assert client.get_cookie("afest_session").value.find(row.token_hash) == -1


def _strict(app, **settings):
    strict = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "ENV": "testing",
            "TESTING": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
            **settings,
        }
    )
    database(strict).bind = database(app).bind
    return strict


@pytest.fixture()
def strict_app(app):
    """The same database with CSRF and the login rate limit switched on."""
    yield _strict(app)
    # Flask-Limiter keeps its state on its (module-global) instance: give it back to `app`.
    limiter.init_app(app)


@pytest.fixture()
def throttled_app(app):
    """Rate limits on, CSRF off, one trusted proxy in front (X-Forwarded-For is believed)."""
    yield _strict(
        app, WTF_CSRF_ENABLED=False, LOGIN_RATE_LIMIT_CLIENT="5 per minute", TRUSTED_PROXIES=1
    )
    limiter.init_app(app)


def _csrf_token(client) -> str:
    page = client.get("/connexion").get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_login_is_rate_limited(strict_app, connection):
    database(strict_app).bind = connection
    client = strict_app.test_client()
    token = _csrf_token(client)
    codes = [
        client.post(
            "/connexion", data={"email": TUTOR, "password": "mauvais-mdp", "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]
    refused = client.post(
        "/connexion", data={"email": TUTOR, "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Trop de tentatives pour ce compte ou depuis votre adresse" in text


def _post(client, email, password, address):
    return client.post(
        "/connexion",
        data={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    ).status_code


def test_throttling_one_account_leaves_the_others_open(throttled_app, connection):
    database(throttled_app).bind = connection
    client = throttled_app.test_client()
    office = "203.0.113.7"
    assert [_post(client, TUTOR, "mauvais-mdp", office) for _ in range(4)] == [422] * 3 + [429]
    # the same office, another account with its right password: in
    assert _post(throttled_app.test_client(), MANAGER, PASSWORD, office) == 302
    # a sign-in that succeeds is not counted against the office
    for _ in range(3):
        assert _post(throttled_app.test_client(), MANAGER, PASSWORD, office) == 302


def test_throttling_counts_per_client_address_behind_the_proxy(throttled_app, connection):
    database(throttled_app).bind = connection
    client = throttled_app.test_client()
    guesser, colleague = "198.51.100.9", "203.0.113.20"
    guesses = [f"personne{i}@example.org" for i in range(6)]
    codes = [_post(client, email, "mauvais-mdp", guesser) for email in guesses]
    assert codes == [422] * 5 + [429]
    # the proxy's own address is shared by everybody: only the forwarded one counts
    assert _post(throttled_app.test_client(), MANAGER, PASSWORD, colleague) == 302


def test_forgotten_password_is_rate_limited_per_address(throttled_app, connection):
    database(throttled_app).bind = connection
    client = throttled_app.test_client()
    codes = [
        client.post(
            "/mot-de-passe-oublie",
            data={"email": TUTOR},
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        ).status_code
        for i in range(6)
    ]
    assert codes == [200] * 5 + [429]
    assert "Trop de demandes pour cette adresse" in client.post(
        "/mot-de-passe-oublie", data={"email": TUTOR}
    ).get_data(as_text=True)


def test_state_changing_requests_need_the_csrf_token(strict_app, connection):
    database(strict_app).bind = connection
    client = strict_app.test_client()
    response = client.post("/connexion", data={"email": TUTOR, "password": PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_htmx_requests_send_the_csrf_token_in_a_header(strict_app, connection):
    database(strict_app).bind = connection
    client = strict_app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    header_token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    response = client.post(
        "/connexion",
        data={"email": TUTOR, "password": PASSWORD},
        headers={"X-CSRFToken": header_token, "HX-Request": "true"},
    )
    assert response.status_code == 302


def test_authenticate_is_constant_work_for_unknown_users(app, session, monkeypatch):
    """An unknown e-mail costs one argon2 check with the same parameters as a known one's."""
    checked = []
    real_verify = PasswordHasher.verify

    def spy(hasher, stored_hash, secret):
        checked.append(argon2.extract_parameters(stored_hash))
        return real_verify(hasher, stored_hash, secret)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    with app.app_context():
        assert accounts.authenticate(session, email=TUTOR, password="wrong-password") is None
        assert accounts.authenticate(session, email="nobody@x.fr", password="whatever-x") is None
    assert len(checked) == 2
    assert checked[0] == checked[1]


def test_production_hashes_passwords_at_full_strength():
    """Outside ENV = "testing", argon2 runs with its default parameters (RFC 9106, low
    memory): at least 3 passes over 64 MiB."""
    production = create_app(
        {"ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"}
    )
    with production.app_context():
        made = argon2.extract_parameters(accounts.hash_secret("correct horse battery"))
    assert made.time_cost >= 3
    assert made.memory_cost >= 64 * 1024
    assert made.parallelism >= 1


def test_absolute_timeout_ends_even_an_active_session(app, connection, session):
    client = login(app.test_client(), TUTOR)
    row = session.exec(select(UserSession).order_by(UserSession.id.desc())).first()
    from datetime import timedelta

    row.created_at = row.created_at - timedelta(hours=13)  # still seen a moment ago
    session.add(row)
    session.commit()
    assert client.get("/").status_code == 302


def test_login_limit_is_shared_through_redis_when_configured(app, connection):
    import redis

    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    server.flushdb()
    shared = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "ENV": "testing",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "LOGIN_RATE_LIMIT": "2 per minute",
        }
    )
    database(shared).bind = connection
    try:
        codes = [
            shared.test_client()
            .post("/connexion", data={"email": TUTOR, "password": "faux-faux-1"})
            .status_code
            for _ in range(3)
        ]
        assert codes == [422, 422, 429]
        assert server.keys("*"), "the limiter wrote nothing to Redis"
    finally:
        server.flushdb()
        limiter.init_app(app)
