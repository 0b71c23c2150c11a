"""Benchmark of the bulk imports of a roll-out, through the real views.

What the person importing waits for, in one process with the Flask test client (routing,
login session, upload kept in the database, reading the file, judging every row against the
database, rendering the preview table, then the confirmation's write):
- the admin imports 2,000 structures from an XLSX file: send + preview, then confirm; then
  the same file again (the second import changes nothing);
- a manager's structure: 5,000 people from an XLSX file (learners, tutors, managers; every new
  account invited by e-mail through the outbox in the same transaction), same three figures.

The database is a scratch one with the demo's organisations (OPCOs, an admin, the demo's
home-help structure), or, with --url, an existing database such as the national dataset of
bench/generate.py (an admin is added when it has none; the rows imported are new to it).

Usage:
    .venv/bin/python bench/bench_import.py                      # SQLite, then PostgreSQL
    .venv/bin/python bench/bench_import.py --engine sqlite
    .venv/bin/python bench/bench_import.py --url sqlite:///bench/out/national.sqlite

Prints `name = value unit` lines with the engine and the data size.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import migrate, scratch_database  # noqa: E402

ADMIN = "admin.import@afest.bench"
PASSWORD = "afest-bench-2026"  # noqa: S105 (benchmark data only)
STRUCTURES = 2000
PEOPLE = 5000
CATEGORIES = ("EHPAD", "SAAD", "ESMS", "hôpital")
DEPARTEMENTS = ("13", "83", "06", "84", "04", "05", "75", "69", "59", "2A", "971")


def _siret(n: int) -> str:
    from stdnum import luhn

    siren = f"8{n:07d}"
    siren += luhn.calc_check_digit(siren)
    nic = f"{n % 10_000:04d}"
    return siren + nic + luhn.calc_check_digit(siren + nic)


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def structures_file(opco_codes: list[str], n: int = STRUCTURES) -> bytes:
    rows = [["SIRET", "Nom", "Département", "Catégorie", "Code OPCO", "Branche"]]
    for k in range(n):
        rows.append(
            [
                _siret(k),
                f"Structure importée {k + 1:04d}",
                DEPARTEMENTS[k % len(DEPARTEMENTS)],
                CATEGORIES[k % len(CATEGORIES)],
                opco_codes[k % len(opco_codes)],
                "Aide, accompagnement, soins et services à domicile",
            ]
        )
    return _xlsx(rows)


def people_file(n: int = PEOPLE) -> bytes:
    rows = [["Nom", "E-mail", "Rôle"]]
    for k in range(n):
        role = "tuteur·rice" if k % 10 == 0 else "responsable" if k % 250 == 1 else "apprenant·e"
        rows.append([f"Personne Importée {k + 1:04d}", f"personne{k + 1:04d}@import.bench", role])
    return _xlsx(rows)


def _app(url: str):
    from afest import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "ENV": "testing",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def prepare(url: str, *, scratch: bool) -> None:
    """Migrate and seed a scratch database; give any database the bench's admin."""
    from sqlmodel import select

    from afest import demo
    from afest.accounts import operations as accounts
    from afest.core.database import database
    from afest.models import Role, User

    if scratch:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            migrate(conn)
        engine.dispose()
    app = _app(url)
    db = database(app)
    with app.app_context(), db.session(write=True) as session:
        if scratch:
            demo.seed(session)
        if session.exec(select(User).where(User.email == ADMIN)).first() is None:
            accounts.create_user(
                session,
                actor_id=None,
                email=ADMIN,
                full_name="Admin du banc d'essai",
                password=PASSWORD,
                roles=[(Role.ADMIN, None)],
            )
        session.commit()
    db.engine.dispose()


def _signed_in(app):
    client = app.test_client()
    response = client.post("/connexion", data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _import(client, path: str, content: bytes, name: str) -> tuple[float, float, str]:
    """Seconds for send + preview, then for the confirmation; and the message shown after."""
    start = time.perf_counter()
    sent = client.post(
        path, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )
    assert sent.status_code == 303, (sent.status_code, sent.get_data(as_text=True)[-2000:])
    preview_url = sent.headers["Location"]
    preview = client.get(preview_url)
    previewed = time.perf_counter() - start
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200, (preview.status_code, body[-2000:])
    start = time.perf_counter()
    confirmed = client.post(preview_url, follow_redirects=True)
    saved = time.perf_counter() - start
    text = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200, (confirmed.status_code, text[-2000:])
    flash = re.search(r"Import enregistré[^<]*", text)
    assert flash, text[-3000:]
    return previewed, saved, " ".join(flash.group(0).split())


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar()
    engine.dispose()
    return value


def run(engine_name: str, url: str) -> None:
    from sqlmodel import select

    from afest.core.database import database
    from afest.models import Organisation, OrgKind

    size = _count(url, "SELECT COUNT(*) FROM organisation WHERE kind = 'structure'")
    users = _count(url, 'SELECT COUNT(*) FROM "user"')
    print(f"# {engine_name}: database holds {size} structures and {users} accounts before")
    app = _app(url)
    with app.app_context(), database(app).session() as session:
        opcos = session.exec(
            select(Organisation.code).where(Organisation.kind == OrgKind.OPCO)
        ).all()
        structure = session.exec(
            select(Organisation).where(Organisation.kind == OrgKind.STRUCTURE).limit(1)
        ).one()
    client = _signed_in(app)
    content = structures_file([c for c in opcos if c])
    for attempt in ("first", "again"):
        previewed, saved, said = _import(
            client, "/admin/structures/import", content, "structures.xlsx"
        )
        tag = f"import.{engine_name}.structures_{STRUCTURES}.{attempt}"
        print(f"{tag}.preview = {previewed:.1f} s  (send + preview, {len(content)} bytes XLSX)")
        print(f"{tag}.confirm = {saved:.1f} s  ({said})")
        print(f"{tag}.total = {previewed + saved:.1f} s  (target < 30 s)")
    content = people_file()
    path = f"/structures/{structure.public_id}/personnes/import"
    for attempt in ("first", "again"):
        previewed, saved, said = _import(client, path, content, "personnes.xlsx")
        tag = f"import.{engine_name}.people_{PEOPLE}.{attempt}"
        print(f"{tag}.preview = {previewed:.1f} s  (send + preview, {len(content)} bytes XLSX)")
        print(f"{tag}.confirm = {saved:.1f} s  ({said})")
        print(f"{tag}.total = {previewed + saved:.1f} s  (target < 30 s)")
    invited = _count(url, "SELECT COUNT(*) FROM outboxmessage WHERE template = 'invitation'")
    print(f"import.{engine_name}.people_{PEOPLE}.invitations_queued = {invited} messages")
    database(app).engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--url", help="an existing database (e.g. the national dataset)")
    args = parser.parse_args(argv)
    if args.url:
        prepare(args.url, scratch=False)
        run(sa.engine.make_url(args.url).get_backend_name(), args.url)
        return
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    for engine_name in engines:
        with tempfile.TemporaryDirectory() as folder:
            url, drop = scratch_database(engine_name, Path(folder), "import")
            try:
                prepare(url, scratch=True)
                run(engine_name, url)
            finally:
                drop()


if __name__ == "__main__":
    main()
