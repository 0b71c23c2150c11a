"""What the bench commands share: a scratch database on either engine, and migrating one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "AFEST_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# The national dataset (bench/generate.py): where the benchmarks that read it find it.
NATIONAL_SQLITE_URL = "sqlite:///bench/out/national.sqlite"
NATIONAL_PG_DATABASE = "afest_bench_full"


TENTH_SQLITE_URL = "sqlite:///bench/out/tenth.sqlite"
TENTH_PG_DATABASE = "afest_bench_tenth"


def tenth_url(engine: str) -> str:
    """Where bench/generate.py's dataset at scale 0.1 is (the same structures, a tenth of the
    learners, protocols and sequences), on `engine`."""
    if engine == "sqlite":
        return "sqlite:///" + str(ROOT / TENTH_SQLITE_URL.removeprefix("sqlite:///"))
    return sa.engine.make_url(PG_URL).set(database=TENTH_PG_DATABASE).render_as_string(False)


def national_url(engine: str) -> str:
    """Where bench/generate.py's national dataset is, on `engine` ("sqlite" or "postgresql")."""
    if engine == "sqlite":
        return "sqlite:///" + str(ROOT / NATIONAL_SQLITE_URL.removeprefix("sqlite:///"))
    return sa.engine.make_url(PG_URL).set(database=NATIONAL_PG_DATABASE).render_as_string(False)


def dataset_exists(url: str) -> bool:
    """Whether a generated dataset is there to read at `url`."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM protocol LIMIT 1"))
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:
        return False


def scratch_database(engine: str, folder: Path, tag: str) -> tuple[str, Callable[[], None]]:
    """An empty database and the function that drops it: a SQLite file in `folder`, or the
    PostgreSQL database afest_bench_<tag>_<random> on AFEST_BENCH_PG_URL."""
    if engine == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: None
    url = sa.engine.make_url(PG_URL)
    name = f"afest_bench_{tag}_{secrets.token_hex(3)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def migrate(conn: sa.Connection) -> None:
    """Bring the database behind `conn` to the head of the Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["connection"] = conn
    command.upgrade(config, "heads")


@dataclass
class SignedProtocol:
    protocol: Any
    learner: Any
    tutor: Any
    competences: list[int]
    levels: list[Any]
    start: date


def signed_protocol(
    session, *, email: str, title: str, password: str, days: int, planned_minutes: int
) -> SignedProtocol:
    """A new learner of the demo's home-help structure, with a protocol on 12 competences of
    the aide-soignant référentiel, positioned, signed by the three parties, started `days`
    days ago; the demo's tutor designated before that."""
    from sqlmodel import select

    from afest.accounts import operations as accounts
    from afest.models import Level, Organisation, Referential, Role, SignerRole, User, utcnow
    from afest.protocols import drafting
    from afest.protocols import operations as protocols

    structure = session.exec(select(Organisation).where(Organisation.name.like("%Azur%"))).first()
    manager = session.exec(select(User).where(User.email == "direction@azur-aide.demo")).one()
    tutor = session.exec(select(User).where(User.email == "tuteur@azur-aide.demo")).one()
    learner = accounts.create_user(
        session,
        actor_id=None,
        email=email,
        full_name="Apprenant·e Banc d'essai",
        password="",
        roles=[(Role.LEARNER, structure.id)],
        password_hash=accounts.hash_secret(password),
    )
    ref = session.exec(select(Referential).where(Referential.code == "RNCP35830")).one()
    comps = [c.id for b in ref.blocks for c in b.competences][:12]
    levels = session.exec(
        select(Level).where(Level.referential_id == ref.id).order_by(Level.rank)
    ).all()
    start = utcnow().date() - timedelta(days=days)
    protocol = drafting.create_protocol(
        session,
        actor_id=manager.id,
        learner=learner,
        structure=structure,
        referential_id=ref.id,
        title=title,
        planned_start=start,
        planned_end=start + timedelta(days=days + 30),
        competence_ids=comps,
        tutor_ids=[tutor.id],
        activity_analysis="Analyse de l'activité de soin, situations choisies et adaptées.",
        planned_minutes=planned_minutes,
        designated_at=utcnow() - timedelta(days=days + 10),
    )
    drafting.set_initial_positioning(
        session, actor_id=manager.id, protocol=protocol, levels=dict.fromkeys(comps, levels[0].id)
    )
    protocols.submit_for_signature(session, actor_id=manager.id, protocol=protocol)
    for role, who in (
        (SignerRole.STRUCTURE, manager),
        (SignerRole.TUTOR, tutor),
        (SignerRole.LEARNER, learner),
    ):
        protocols.sign_protocol(
            session, actor_id=who.id, protocol=protocol, role=role, method="password"
        )
    return SignedProtocol(protocol, learner, tutor, comps, list(levels), start)
