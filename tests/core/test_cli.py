"""`flask afest ...` commands: bad arguments get one clear sentence and change nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from afest.cli import group
from afest.models import Referential, User


@pytest.fixture()
def run(app, connection):
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(group, list(args), input=input, catch_exceptions=False)

    return invoke


def test_create_user_and_bad_arguments(run, session):
    ok = run(
        "create-user",
        "--email",
        "Nouvelle@Example.org",
        "--name",
        "Nouvelle Tutrice",
        "--role",
        "tutor",
        "--org",
        "77568412300018",
        "--password",
        "un-secret-solide",
    )
    assert ok.exit_code == 0, ok.output
    assert session.exec(select(User).where(User.email == "nouvelle@example.org")).one()

    short = run(
        "create-user",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "tutor",
        "--org",
        "77568412300018",
        "--password",
        "court",
    )
    assert short.exit_code == 2 and "au moins 10 caractères" in short.output

    no_org = run(
        "create-user",
        "--email",
        "y@example.org",
        "--name",
        "Y",
        "--role",
        "tutor",
        "--org",
        "00000000000000",
        "--password",
        "un-secret-solide",
    )
    assert no_org.exit_code == 2 and "no organisation" in no_org.output

    bad_role = run(
        "create-user",
        "--email",
        "z@example.org",
        "--name",
        "Z",
        "--role",
        "boss",
        "--password",
        "un-secret-solide",
    )
    assert bad_role.exit_code == 2 and "boss" in bad_role.output

    duplicate = run(
        "create-user",
        "--email",
        "admin@afest.demo",
        "--name",
        "A",
        "--role",
        "admin",
        "--password",
        "un-secret-solide",
    )
    assert duplicate.exit_code == 2 and "existe déjà" in duplicate.output


def test_set_active_ends_sessions_and_is_audited(run, session):
    from afest.accounts import operations as accounts
    from afest.models import AuditEntry, UserSession

    user = session.exec(select(User).where(User.email == "tuteur@azur-aide.demo")).one()
    accounts.start_session(session, user=user)
    session.flush()

    off = run("set-active", "Tuteur@azur-aide.demo", "off")
    assert off.exit_code == 0, off.output
    session.expire_all()
    assert session.get(User, user.id).is_active is False
    live = select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    assert session.exec(live).all() == []
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "user.deactivate", AuditEntry.subject_id == user.id
        )
    ).one()
    assert entry.actor_id is None

    on = run("set-active", "tuteur@azur-aide.demo", "on")
    assert on.exit_code == 0 and "active" in on.output
    session.expire_all()
    assert session.get(User, user.id).is_active is True


def test_set_active_unknown_account(run):
    result = run("set-active", "nobody@example.org", "off")
    assert result.exit_code == 2 and "no account" in result.output


def test_import_referential_reports_each_problem_and_imports_nothing(run, session, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "code": "TEST-REF",
                "title": "Référentiel de test",
                "blocks": [
                    {"code": "B1", "title": "Bloc 1", "competences": [{"code": "C1", "title": ""}]},
                    {"code": "B1", "title": "Bloc en double", "competences": []},
                    {"title": "Sans code"},
                ],
            }
        )
    )
    before = session.exec(select(func.count()).select_from(Referential)).one()
    result = run("import-referential", str(bad))
    assert result.exit_code == 2
    assert "blocks[0].competences[0].title" in result.output
    assert "blocks[1].code: code en double" in result.output
    assert "blocks[2].code" in result.output
    assert "nothing imported" in result.output
    assert session.exec(select(func.count()).select_from(Referential)).one() == before

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run("import-referential", str(broken))
    assert result.exit_code == 2 and "not valid JSON" in result.output


def test_import_referential_good_file(run, session, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "code": "TEST-OK",
                "title": "Référentiel correct",
                "blocks": [
                    {
                        "code": "B1",
                        "title": "Bloc 1",
                        "competences": [{"code": "C1", "title": "Faire"}],
                    }
                ],
            }
        )
    )
    result = run("import-referential", str(good))
    assert result.exit_code == 0, result.output
    ref = session.exec(select(Referential).where(Referential.code == "TEST-OK")).one()
    assert [level.code for level in ref.levels] == ["non_acquis", "en_cours", "acquis", "maitrise"]


def test_rebuild_rollups_recomputes_them_then_their_statistics(run, session, monkeypatch):
    from afest.dashboards import rollups

    refreshed = []
    monkeypatch.setattr(rollups, "refresh_statistics", lambda engine: refreshed.append(engine))
    done = run("rebuild-rollups")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Rollups rebuilt: ") and " rollupprotocol" in done.output
    assert len(refreshed) == 1


def test_rollup_statistics_are_refreshed_on_either_engine(app):
    """ANALYZE (and on PostgreSQL, VACUUM: outside any transaction) of the rollup tables, on
    an engine of its own, as the command runs it after its commit."""
    from afest.core.database import make_engine
    from afest.dashboards import rollups

    engine = make_engine(app.config["DATABASE_URL"])
    try:
        rollups.refresh_statistics(engine)
    finally:
        engine.dispose()
