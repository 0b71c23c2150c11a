"""Alembic environment: SQLModel.metadata of afest.models, batch mode on SQLite.

The connection comes from `config.attributes["connection"]` when a caller (the test suite,
`flask afest` commands) passes one, else from the afest settings (AFEST_DATABASE_URL).
"""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import afest.models  # noqa: F401  (registers every table)
from afest.core.database import make_engine
from afest.core.settings import load_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        user_module_prefix="sqlmodel.sql.sqltypes.",
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or load_settings()["DATABASE_URL"]
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings()["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A change SQLite's ALTER TABLE cannot make is made by rebuilding the table (batch
            # mode: a copy, the old table dropped, the copy renamed): with its foreign keys
            # enforced, the drop of a table other rows point to is refused. They are off for
            # the migrations (a pragma that only takes effect outside a transaction), then
            # every foreign key is checked once.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            conn.rollback()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migrations: {broken[:10]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
