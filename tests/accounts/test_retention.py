"""`flask afest purge`: retention periods per category, with a dry run."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import func, select

from afest.cli import group
from afest.models import (
    AccountToken,
    AuditEntry,
    Protocol,
    ProtocolStatus,
    Sequence,
    Signature,
    User,
    UserSession,
    utcnow,
)


def _run(app, *args):
    return app.test_cli_runner().invoke(group, ["purge", *args], catch_exceptions=False)


def _age(session, protocol: Protocol, years: int) -> None:
    session.execute(
        sa.update(Protocol)
        .where(Protocol.id == protocol.id)
        .values(status=ProtocolStatus.COMPLETED, ended_at=utcnow() - timedelta(days=365 * years))
    )
    session.commit()


def test_dry_run_reports_and_changes_nothing(app, session, make_protocol):
    protocol, _ = make_protocol()
    _age(session, protocol, years=7)
    result = _run(app, "--dry-run")
    assert result.exit_code == 0
    assert "Would remove" in result.output and "1 protocols" in result.output
    assert session.get(Protocol, protocol.id) is not None


def test_purge_removes_old_proof_and_keeps_the_rest_verifiable(app, session, make_protocol):
    old, old_people = make_protocol()
    recent, _ = make_protocol()
    _age(session, old, years=7)
    _age(session, recent, years=2)
    total_protocols = session.exec(select(func.count()).select_from(Protocol)).one()
    old_id, recent_id = old.id, recent.id

    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "Removed" in result.output and "1 protocols" in result.output
    session.expire_all()
    assert session.get(Protocol, old_id) is None
    assert session.get(Protocol, recent_id) is not None
    assert session.exec(select(func.count()).select_from(Protocol)).one() == total_protocols - 1
    assert not session.exec(select(AuditEntry).where(AuditEntry.protocol_id == old_id)).first()
    assert not session.exec(
        select(Signature).where(
            Signature.subject_kind == "protocol", Signature.subject_id == old_id
        )
    ).first()
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "retention.purge")).first()

    verify = app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)
    assert verify.exit_code == 0, verify.output


def test_purge_checkpoints_the_chains_again_without_the_purged_ones(
    app, session, make_protocol, checkpoint_dir
):
    old, _ = make_protocol()
    _age(session, old, years=7)
    runner = app.test_cli_runner()
    assert runner.invoke(group, ["checkpoint"], catch_exceptions=False).exit_code == 0
    (path,) = checkpoint_dir.iterdir()
    assert f'"{old.id}":' in path.read_text()

    assert _run(app).exit_code == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and f'"{old.id}":' not in lines[-1]
    verify = runner.invoke(group, ["verify"], catch_exceptions=False)
    assert verify.exit_code == 0, verify.output
    assert "Compared with the latest checkpoint" in verify.output


def test_append_only_rows_still_refuse_deletion_outside_a_purge(connection):
    try:
        with connection.begin_nested():
            connection.execute(sa.text("DELETE FROM signature"))
    except sa.exc.DBAPIError as exc:
        assert "append-only" in str(exc)
    else:
        raise AssertionError("signature rows were deleted outside a purge")


def test_old_sessions_deleted_and_inactive_accounts_anonymised(app, session, make_user):
    user = make_user([], email="parti@example.org", name="Ancien Salarié")
    session.add(
        UserSession(
            token_hash="a" * 64,
            user_id=user.id,
            created_at=utcnow() - timedelta(days=90),
            last_seen_at=utcnow() - timedelta(days=90),
        )
    )
    old_link = AccountToken(
        token_hash="b" * 64,
        user_id=user.id,
        purpose="reset",
        created_at=utcnow() - timedelta(days=60),
        expires_at=utcnow() - timedelta(days=60),
    )
    recent = make_user([], email="recent@example.org")
    fresh_link = AccountToken(
        token_hash="c" * 64,
        user_id=recent.id,
        purpose="invitation",
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=7),
    )
    session.add_all([old_link, fresh_link])
    session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(is_active=False, created_at=utcnow() - timedelta(days=3 * 365), last_login_at=None)
    )
    session.commit()
    result = _run(app)
    assert result.exit_code == 0, result.output
    session.expire_all()
    anonymised = session.get(User, user.id)
    assert anonymised.full_name == "Compte anonymisé"
    assert "parti" not in anonymised.email
    assert not session.exec(select(UserSession).where(UserSession.user_id == user.id)).first()
    links_left = session.exec(select(AccountToken.token_hash)).all()
    assert "b" * 64 not in links_left and "c" * 64 in links_left
    # A learner of a record still kept is not anonymised.
    learner = session.exec(select(User).join(Protocol, Protocol.learner_id == User.id)).first()
    assert learner.full_name != "Compte anonymisé"
    assert session.exec(select(func.count()).select_from(Sequence)).one() > 0
