"""`flask afest ...` commands: seed-demo, create-user, set-active, import-referential.

Every command reports bad arguments with one clear sentence (click's usage errors), never a
traceback, and writes in a single transaction: all or nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlmodel import select

from afest.accounts import operations as accounts
from afest.core.database import database
from afest.core.errors import ServiceError
from afest.models import Organisation, Role, User
from afest.referentials import operations as referentials

group = AppGroup("afest", help="afest administration commands.")


def _session():
    return database(current_app).session(write=True)


@group.command("seed-demo")
def seed_demo() -> None:
    """Create the demo programmes and accounts (idempotent)."""
    from afest import demo

    with _session() as session:
        created = demo.seed(session)
        session.commit()
    if created:
        click.echo("Demo data created: " + ", ".join(f"{v} {k}" for k, v in created.items()))
    else:
        click.echo("Demo data already present: nothing to do.")
    click.echo(f"Demo accounts (password: {demo.DEMO_PASSWORD}, tablet PIN: {demo.DEMO_PIN}):")
    for label, email in demo.DEMO_LOGINS:
        click.echo(f"  {label:<28} {email}")


@group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option(
    "--org",
    "org_code",
    default=None,
    help="SIRET or code of the organisation the roles apply to (not for admin).",
)
@click.password_option(help="At least 10 characters.")
def create_user(
    email: str, full_name: str, roles: tuple[str, ...], org_code: str | None, password: str
) -> None:
    """Create an account with one or more roles in one organisation."""
    with _session() as session:
        org_id = None
        if any(r != Role.ADMIN for r in roles):
            if not org_code:
                raise click.BadParameter("required for every role but admin", param_hint="--org")
            org = session.exec(
                select(Organisation).where(
                    (Organisation.siret == org_code) | (Organisation.code == org_code)
                )
            ).first()
            if org is None:
                raise click.BadParameter(
                    f"no organisation with SIRET or code {org_code!r}", param_hint="--org"
                )
            org_id = org.id
        try:
            user = accounts.create_user(
                session,
                actor_id=None,
                email=email,
                full_name=full_name,
                password=password,
                roles=[(Role(r), None if r == Role.ADMIN else org_id) for r in roles],
            )
        except ServiceError as exc:
            raise click.UsageError(str(exc.message)) from None
        session.commit()
        click.echo(f"Created {user.email} ({', '.join(roles)}).")


@group.command("set-active")
@click.argument("email")
@click.argument("state", type=click.Choice(["on", "off"]))
def set_active(email: str, state: str) -> None:
    """Reactivate (on) or deactivate (off) an account; deactivation ends its sessions."""
    with _session() as session:
        user = session.exec(
            select(User).where(User.email == accounts.normalise_email(email))
        ).first()
        if user is None:
            raise click.BadParameter(f"no account {email!r}", param_hint="EMAIL")
        # the operator at the console is nobody in the database: the audit entry names no actor
        accounts.set_active(session, actor_id=None, user=user, active=state == "on")
        session.commit()
        click.echo(f"{user.email}: {'active' if user.is_active else 'deactivated'}.")


@group.command("import-referential")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_referential(path: Path) -> None:
    """Import a référentiel JSON file; any problem is listed and nothing is imported."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.UsageError(f"{path}: not valid JSON ({exc})") from None
    with _session() as session:
        try:
            ref = referentials.import_json(session, actor_id=None, data=data)
        except referentials.ImportRejected as exc:
            for problem in exc.problems:
                click.echo(f"{path}: {problem}", err=True)
            raise click.UsageError(f"{len(exc.problems)} problem(s): nothing imported") from None
        session.commit()
        click.echo(f"Imported {ref.code} — {ref.title}.")


@group.command("verify")
def verify() -> None:
    """Check the audit hash chains, every signature, the chains against their latest
    checkpoint, and the attached files; report rows and files changed or removed outside
    afest."""
    from afest.core.storage import Store as Files
    from afest.proof import checkpoints
    from afest.proof.integrity import verify_all

    store = checkpoints.Store.of(current_app)
    with database(current_app).session() as session:
        findings = verify_all(session, store, Files.of(current_app))
    for finding in findings:
        click.echo(str(finding))
    if findings:
        raise click.ClickException(f"{len(findings)} problem(s) found")
    if store.path.exists():
        click.echo(f"Compared with the latest checkpoint in {store.path}.")
    else:
        click.echo(
            f"No checkpoint in {store.path} yet: the last entries of a chain removed "
            "cannot be told (flask afest checkpoint)."
        )
    click.echo("Audit chains and signatures: all intact.")


@group.command("checkpoint")
@click.option(
    "--force",
    is_flag=True,
    help="Write even though chains fall short of the latest checkpoint (once looked into).",
)
def checkpoint_command(force: bool) -> None:
    """Append the heads of every audit chain to the checkpoint file (AUDIT_CHECKPOINT_DIR)."""
    from afest.proof import checkpoints

    store = checkpoints.Store.of(current_app)
    with database(current_app).session() as session:
        try:
            written = checkpoints.write(session, store, force=force)
        except checkpoints.CheckpointRefused as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise click.ClickException(
                "checkpoint refused: the chains fall short of the latest one "
                "(see flask afest verify; --force once looked into)"
            ) from None
    click.echo(f"Checkpoint of {len(written.chains)} chains written to {store.path}.")


@group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write a consistent backup of the database to TARGET (the app may keep running)."""
    from afest.core.backup import BackupError, backup

    try:
        backup(current_app.config["DATABASE_URL"], target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {target}.")


@group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current data is replaced.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the whole database by the backup SOURCE (stop the app first)."""
    from afest.core.backup import BackupError, restore

    if not yes:
        raise click.UsageError("restoring replaces every record: add --yes to confirm")
    database(current_app).engine.dispose()
    try:
        restore(current_app.config["DATABASE_URL"], source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Database restored from {source}.")


@group.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def purge_command(dry_run: bool) -> None:
    """Delete or anonymise what is past its retention period (see config RETENTION_*)."""
    from afest.accounts import retention
    from afest.models import utcnow

    with _session() as session:
        if dry_run:
            todo = retention.plan(session, settings=current_app.config, now=utcnow())
        else:
            todo = retention.purge(session, settings=current_app.config, now=utcnow())
            session.commit()
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb}: " + ", ".join(f"{v} {k}" for k, v in todo.summary().items()) + ".")


@group.command("rebuild-rollups")
def rebuild_rollups() -> None:
    """Recompute the dashboard rollups from the source tables (one transaction), then their
    statistics."""
    from afest.dashboards import rollups

    with _session() as session:
        counts = rollups.rebuild(session)
        session.commit()
    rollups.refresh_statistics(database(current_app).engine)
    click.echo("Rollups rebuilt: " + ", ".join(f"{n} {table}" for table, n in counts.items()))


@group.command("send-reminders")
@click.option(
    "--at",
    "at",
    default=None,
    help="As if it were this moment (ISO 8601, in TIMEZONE unless it says its offset), "
    "e.g. a missed Monday: 2026-12-07T07:00. Default: now.",
)
def send_reminders(at: str | None) -> None:
    """Send the reminder digests due today (the morning job does it at 07:00)."""
    from datetime import datetime

    from afest.core import clock
    from afest.models import utcnow
    from afest.todo import digests

    now = utcnow()
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(
                f"not an ISO 8601 date or time: {at!r}", param_hint="--at"
            ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=clock.zone())
    sent = digests.run(database(current_app), now=now)
    periods = ", ".join(sorted(sent.periods)) or "none"
    click.echo(
        f"Reminders: {sent.digests} digests ({sent.items} items) sent to "
        f"{sent.people_due} people due; periods: {periods}."
    )


@group.command("worker")
@click.option("--workers", default=1, show_default=True, help="Jobs run at once.")
def worker_command(workers: int) -> None:
    """Run the background jobs (settling the dashboards, nightly checks) until stopped."""
    from afest.worker import huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # An idle consumer of the SQLite queue looks for work ten times a second (huey's default
    # backs off to once in 10 s): a dashboard that asked for a settle is waiting for it. Each
    # look is one read of a small file. Redis wakes the consumer at once.
    huey.create_consumer(workers=workers, periodic=True, initial_delay=0.05, max_delay=0.1).run()


def register_cli(app: Flask) -> None:
    app.cli.add_command(group)


def _create_app_for_cli() -> Flask:
    from afest import create_app

    return create_app()  # a ConfigError is a ClickException: one line, no traceback


cli = FlaskGroup(create_app=_create_app_for_cli, help="afest command line.")


def main() -> None:
    """The `afest` console script: Flask's CLI with afest's app, config errors in one line."""
    cli.main()
