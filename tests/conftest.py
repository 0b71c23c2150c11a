"""Test fixtures. The schema is built once per run from the Alembic migrations, the demo data
is seeded once on top, and every test runs inside a transaction rolled back at its end.

The engine is SQLite by default; with AFEST_TEST_DATABASE_URL pointing to a PostgreSQL server
the suite creates its own database there, runs on it, and drops it. If that server cannot be
reached the run fails rather than silently testing less.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from afest import create_app
from afest.accounts import operations as accounts
from afest.core.database import database
from afest.core.jobs import huey
from afest.models import Organisation, OrgKind, Referential, Role, User

# Jobs run in place, at once, in the caller's app context (huey's immediate mode): a test sees
# what a job does as soon as it is asked for, with no consumer to start.
huey.immediate = True

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "afest-demo-2026"
FAST_HASH = None  # one argon2 hash reused by the factories


def alembic_config(connection) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["connection"] = connection
    return config


def create_pg_database(base_url: str) -> str:
    url = make_url(base_url)
    name = f"afest_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL at {url.render_as_string(hide_password=True)} is unreachable: {exc.orig}",
            returncode=3,
        )
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def engine_name() -> str:
    return "postgresql" if os.environ.get("AFEST_TEST_DATABASE_URL") else "sqlite"


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory, engine_name):
    """A factory of empty databases on the engine under test (dropped at the end)."""
    made: list[str] = []

    def make() -> str:
        if engine_name == "postgresql":
            url = create_pg_database(os.environ["AFEST_TEST_DATABASE_URL"])
        else:
            path = tmp_path_factory.mktemp("db") / "afest.sqlite"
            url = f"sqlite:///{path}"
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            drop_pg_database(url)


# where the test apps keep files outside the database: "claims" (the funding claims' ZIPs),
# "attachments" (sequences' attachments), one folder each for the whole run
KEPT_FILES: dict[str, str] = {}


@pytest.fixture(scope="session")
def app(fresh_database_url, tmp_path_factory):
    """The app on a database migrated to head and seeded with the demo data."""
    from afest import demo

    url = fresh_database_url()
    application = create_app(
        {
            "DATABASE_URL": url,
            "ENV": "testing",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SEAL_DIR": str(tmp_path_factory.mktemp("seal")),
            "CLAIMS_DIR": KEPT_FILES.setdefault("claims", str(tmp_path_factory.mktemp("claims"))),
            "ATTACHMENTS_URL": KEPT_FILES.setdefault(
                "attachments", str(tmp_path_factory.mktemp("attachments"))
            ),
        }
    )
    db = database(application)
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    # in the app's context: the demo's password and PIN are hashed with the cheap parameters
    # of ENV = "testing" (afest.accounts.operations), so that every login of the suite is cheap
    with application.app_context(), db.session(write=True) as session:
        demo.seed(session)
        session.commit()
    yield application
    db.engine.dispose()


@pytest.fixture(autouse=True)
def _login_limit_off():
    """Flask-Limiter keeps `enabled` on its module-global instance, so a test that builds
    another app (without RATELIMIT_ENABLED=False) switches the limit on for every later test.
    Each test starts with the session app's setting; a test that wants the limit builds its
    own app after this runs (see test_auth's strict_app)."""
    from afest.core.extensions import limiter

    limiter.enabled = False
    yield


@pytest.fixture()
def connection(app) -> Iterator[sa.Connection]:
    """A connection in a transaction that the test's changes never leave."""
    db = database(app)
    conn = db.engine.connect()
    transaction = conn.begin()
    db.bind = conn
    try:
        yield conn
    finally:
        db.bind = db.engine
        transaction.rollback()
        conn.close()


@pytest.fixture()
def session(connection) -> Iterator[Session]:
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as s:
        yield s


@pytest.fixture()
def client(app, connection):
    return app.test_client()


def login(client, email: str, password: str = PASSWORD):
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture()
def login_as(app, connection):
    """login_as("tuteur@azur-aide.demo") or login_as(Role.TUTOR): a client signed in."""
    by_role = {
        Role.ADMIN: "admin@afest.demo",
        Role.MANAGER: "direction@azur-aide.demo",
        Role.TUTOR: "tuteur@azur-aide.demo",
        Role.LEARNER: "apprenant@azur-aide.demo",
        Role.OPCO: "conseil@uniformation.demo",
        Role.CONSULTANT: "consultant@aract-paca.demo",
    }

    def _login(who, password: str = PASSWORD):
        email = by_role.get(who, who)
        return login(app.test_client(), email, password)

    return _login


# --- factories ------------------------------------------------------------------------------


def _fast_hash(app) -> str:
    global FAST_HASH
    if FAST_HASH is None:
        with app.app_context():
            FAST_HASH = accounts.hash_secret(PASSWORD)
    return FAST_HASH


def _cheap_hash(app, secret: str) -> str:
    with app.app_context():
        return accounts.hash_secret(secret)


@pytest.fixture()
def make_structure(session):
    def make(
        name: str = "Structure étrangère", opco: Organisation | None = None, departement: str = "75"
    ) -> Organisation:
        if opco is None:
            opco = Organisation(
                name=f"OPCO {secrets.token_hex(3)}", kind=OrgKind.OPCO, code=secrets.token_hex(4)
            )
            session.add(opco)
            session.flush()
        org = Organisation(
            name=name,
            kind=OrgKind.STRUCTURE,
            siret=str(secrets.randbelow(10**14)).zfill(14),
            departement=departement,
            opco_id=opco.id,
        )
        session.add(org)
        session.flush()
        return org

    return make


@pytest.fixture()
def make_user(app, session):
    def make(
        roles: list[tuple[Role, int | None]],
        email: str | None = None,
        name: str = "Personne Test",
        pin: str | None = None,
    ) -> User:
        return accounts.create_user(
            session,
            actor_id=None,
            email=email or f"u{secrets.token_hex(5)}@example.org",
            full_name=name,
            password="",
            roles=roles,
            password_hash=_fast_hash(app),
            pin_hash=_cheap_hash(app, pin) if pin else None,
        )

    return make


@pytest.fixture()
def make_protocol(session, make_structure, make_user):
    """A protocol in progress in a structure of its own (a foreign tenant for the demo users)."""
    from afest.models import SignerRole
    from afest.protocols import drafting
    from afest.protocols import operations as protocols

    def make(
        structure: Organisation | None = None,
        stage: str = "in_progress",
        start: date | None = None,
        referential_code: str = "RNCP35830",
        cohort_id: int | None = None,
    ):
        structure = structure or make_structure()
        manager = make_user([(Role.MANAGER, structure.id)], name="Direction Test")
        tutor = make_user([(Role.TUTOR, structure.id)], name="Tuteur Test", pin="1357")
        learner = make_user([(Role.LEARNER, structure.id)], name="Apprenant Test")
        ref = session.exec(select(Referential).where(Referential.code == referential_code)).one()
        comp_ids = [c.id for b in ref.blocks for c in b.competences][:4]
        start = start or date.today() - timedelta(days=20)
        protocol = drafting.create_protocol(
            session,
            actor_id=manager.id,
            learner=learner,
            structure=structure,
            referential_id=ref.id,
            title="AFEST test",
            planned_start=start,
            planned_end=start + timedelta(days=60),
            competence_ids=comp_ids,
            tutor_ids=[tutor.id],
            activity_analysis="Analyse",
            cohort_id=cohort_id,
        )
        if stage != "draft":
            protocols.submit_for_signature(session, actor_id=manager.id, protocol=protocol)
        if stage == "in_progress":
            for role, who in (
                (SignerRole.STRUCTURE, manager),
                (SignerRole.TUTOR, tutor),
                (SignerRole.LEARNER, learner),
            ):
                protocols.sign_protocol(
                    session, actor_id=who.id, protocol=protocol, role=role, method="password"
                )
        session.commit()  # releases the savepoint; the outer transaction still rolls back
        return protocol, {"manager": manager, "tutor": tutor, "learner": learner}

    return make
