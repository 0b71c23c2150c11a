"""The import of a structure's people: every problem listed with its line; nothing saved until
the whole file is valid; accounts created and invited once, through the outbox; the same file
twice changes nothing the second time; an account of another organisation is the admin's;
"Tuteur·rice de" designates the tutor on her learners' drafts; French Excel CSV and XLSX."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from sqlmodel import select

from afest.accounts import links
from afest.models import (
    AccountToken,
    AuditEntry,
    Organisation,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    RoleAssignment,
    Upload,
    User,
)
from afest.models.mail import OutboxMessage
from afest.proof import integrity
from tests.organisations.conftest import xlsx

AZUR = "Azur Aide à Domicile"
ADMIN = "admin@afest.demo"
HEADER = "Nom;E-mail;Rôle"
COUNTED = (User, RoleAssignment, AccountToken, OutboxMessage, ProtocolTutor, AuditEntry)


def azur(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def import_url(structure: Organisation) -> str:
    return f"/structures/{structure.public_id}/personnes/import"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def send(client, structure, content: bytes, name: str = "personnes.csv"):
    return client.post(
        import_url(structure),
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def preview_of(client, structure, content: bytes, name: str = "personnes.csv"):
    """Send a file; answer the preview's URL and the rows it shows."""
    sent = send(client, structure, content, name)
    assert sent.status_code == 303, sent.get_data(as_text=True)[-2000:]
    url = sent.headers["Location"]
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def rows_of(page: str) -> dict[int, str]:
    """Line number → the text of its "Résultat" cell, from the preview table."""
    body = page.split('<table class="preview">')[1]
    found = {}
    for line, cell in re.findall(
        r'<th scope="row">(\d+)</th>.*?<td>\s*(<span class="badge.*?)</td>\s*</tr>', body, re.S
    ):
        text = re.sub(r"<[^>]+>", " ", cell).replace("&#39;", "'").replace("&#34;", '"')
        found[int(line)] = " ".join(text.split())
    return found


def counts(session) -> dict[str, int]:
    return {
        model.__name__: session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        for model in COUNTED
    }


def user(session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def roles_of(session, account: User, structure: Organisation) -> set[Role]:
    return set(
        session.exec(
            select(RoleAssignment.role).where(
                RoleAssignment.user_id == account.id,
                RoleAssignment.organisation_id == structure.id,
            )
        )
    )


def mails_to(session, email: str) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.to_address == email)))


def test_every_problem_is_listed_with_its_line_and_nothing_is_saved(session, login_as):
    manager = login_as(Role.MANAGER)
    structure = azur(session)
    content = csv(
        "Lina Morel;lina.morel@example.org;apprenant·e",  # 2: valid
        ";sans.nom@example.org;tuteur",  # 3
        "Adresse Fausse;pas-une-adresse;apprenant",  # 4
        "Rôle Inconnu;role@example.org;stagiaire",  # 5
        "Première;double@example.org;apprenant",  # 6
        "Seconde;DOUBLE@example.org;tuteur",  # 7
        "Conseil OPCO;conseil@uniformation.demo;tuteur",  # 8: another organisation
        "Sans Rôle;sans.role@example.org;",  # 9
        "Pas Tutrice;pas.tutrice@example.org;apprenant;lina.morel@example.org",  # 10
        "Tutrice;tutrice@example.org;tuteur;inconnue@example.org",  # 11
        header=HEADER + ";Tuteur·rice de",
    )
    before = counts(session)
    url, page = preview_of(manager, structure, content)
    rows = rows_of(page)
    assert rows[2].startswith("Nouveau compte")
    assert "Nom vide." in rows[3]
    assert "Adresse e-mail invalide : pas-une-adresse." in rows[4]
    assert "Rôle inconnu : « stagiaire »" in rows[5]
    assert "E-mail répété ligne 7." in rows[6] and "E-mail déjà à la ligne 6." in rows[7]
    assert "compte d'une autre organisation" in rows[8] and "administrateur" in rows[8]
    assert "Rôle vide" in rows[9]
    assert "n'est pas tuteur·rice" in rows[10]
    assert (
        "inconnue@example.org n'est apprenant·e ni dans le fichier ni dans la structure"
        in (rows[11])
    )
    assert all(rows[n].startswith("Erreur") for n in range(3, 12))
    assert "9 ligne(s) à corriger" in page
    assert f'action="{url}"' not in page  # no confirmation offered
    response = manager.post(url)  # confirming anyway saves nothing
    assert response.status_code == 422
    assert "9 ligne(s) à corriger" in response.get_data(as_text=True)
    assert counts(session) == before


def test_a_valid_file_is_saved_whole_invited_once_and_the_same_file_again_changes_nothing(
    session, login_as
):
    manager = login_as(Role.MANAGER)
    structure = azur(session)
    content = csv(
        "Lina Morel;Lina.Morel@Example.org;apprenant·e",
        "  Hugo   Vidal ;hugo.vidal@example.org;Tuteur·rice / responsable",
        "Martine Olivier;tuteur@azur-aide.demo;tuteur, responsable",  # gets a role
        "Un autre nom;apprenant2@azur-aide.demo;apprenant",  # there already, as she is
        "Rachid Amrani;tutrice2@azur-aide.demo;apprenant",  # a role added, his own kept
    )
    before = counts(session)
    url, page = preview_of(manager, structure, content)
    rows = rows_of(page)
    assert rows[2] == rows[3] == "Nouveau compte, invité"
    assert rows[4] == "Mise à jour Rôle(s) ajouté(s) : responsable de structure."
    assert rows[5].startswith("Inchangée") and "porte le nom" in rows[5]
    assert "Rôle(s) ajouté(s) : apprenant·e." in rows[6] and "Garde aussi : tuteur·rice" in rows[6]
    confirmed = manager.post(url)
    assert confirmed.status_code == 302
    said = manager.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "Import enregistré : 2 compte(s) créé(s) et invité(s), 0 personne(s)" in said
    assert "2 mise(s) à jour, 1 inchangée(s)" in said
    assert manager.get(url).status_code == 404  # the file is not kept once imported

    lina, hugo = user(session, "lina.morel@example.org"), user(session, "hugo.vidal@example.org")
    assert (lina.full_name, hugo.full_name) == ("Lina Morel", "Hugo Vidal")
    assert not links.has_password(lina) and lina.password_changed_at is None
    assert roles_of(session, lina, structure) == {Role.LEARNER}
    assert roles_of(session, hugo, structure) == {Role.TUTOR, Role.MANAGER}
    martine = user(session, "tuteur@azur-aide.demo")
    assert roles_of(session, martine, structure) == {Role.TUTOR, Role.MANAGER}
    assert roles_of(session, user(session, "tutrice2@azur-aide.demo"), structure) == {
        Role.TUTOR,
        Role.LEARNER,
    }
    assert user(session, "apprenant2@azur-aide.demo").full_name != "Un autre nom"
    # one invitation each, in the outbox; the tutor's asks for her tablet code
    (to_lina,), (to_hugo,) = mails_to(session, lina.email), mails_to(session, hugo.email)
    assert to_lina.template == to_hugo.template == "invitation"
    assert "Sylvie Castel" in to_lina.subject
    assert "tablette" in to_hugo.body_text and "tablette" not in to_lina.body_text
    assert not mails_to(session, martine.email)
    after = counts(session)
    assert after["User"] == before["User"] + 2
    assert after["OutboxMessage"] == before["OutboxMessage"] + 2
    assert after["AccountToken"] == before["AccountToken"] + 2
    entries = session.exec(
        select(AuditEntry.action).where(AuditEntry.id > 0).order_by(AuditEntry.id.desc()).limit(7)
    ).all()
    assert sorted(entries) == sorted(
        ["user.import"] + ["user.invite"] * 2 + ["user.create"] * 2 + ["user.roles"] * 2
    )
    last = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.after["filename"] == "personnes.csv" and len(last.after["sha256"]) == 64
    assert (last.after["created"], last.after["updated"], last.after["unchanged"]) == (2, 2, 1)
    assert list(integrity.check_audit_chains(session)) == []

    # the same file again: every row unchanged, nobody invited again (Lina and Hugo have
    # not chosen a password yet), nothing written but the import's own entry
    url, page = preview_of(manager, structure, content)
    rows = rows_of(page)
    assert all(text.startswith("Inchangée") for text in rows.values()), rows
    assert manager.post(url).status_code == 302
    again = counts(session)
    assert again == {**after, "AuditEntry": after["AuditEntry"] + 1}


def test_tutor_of_designates_the_tutor_on_her_learners_drafts(session, login_as):
    manager = login_as(Role.MANAGER)
    structure = azur(session)
    learner = user(session, "apprenant6@azur-aide.demo")
    draft = session.exec(
        select(Protocol).where(
            Protocol.learner_id == learner.id, Protocol.status == ProtocolStatus.DRAFT
        )
    ).one()
    content = csv(
        "Martine Olivier;tuteur@azur-aide.demo;tuteur;apprenant6@azur-aide.demo, "
        "nina.roux@example.org",
        "Nina Roux;nina.roux@example.org;apprenante;",
        header=HEADER + ";Tuteur·rice de",
    )
    url, page = preview_of(manager, structure, content)
    rows = rows_of(page)
    assert rows[2].startswith("Mise à jour")
    assert f"Désigné·e tuteur·rice du protocole en brouillon « {draft.title} »" in rows[2]
    assert "Pas de protocole en brouillon pour nina.roux@example.org" in rows[2]
    assert rows[3] == "Nouveau compte, invité"
    assert manager.post(url).status_code == 302
    martine = user(session, "tuteur@azur-aide.demo")
    designated = session.exec(
        select(ProtocolTutor.tutor_id).where(ProtocolTutor.protocol_id == draft.id)
    ).all()
    assert martine.id in designated and len(designated) == 2  # the first tutor stays
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.protocol_id == draft.id, AuditEntry.action == "protocol.tutor_designate"
        )
    ).one()
    assert entry.after["tutor"] == martine.id
    # the draft's form has her checked
    form = manager.get(f"/protocoles/{draft.public_id}/modifier").get_data(as_text=True)
    assert re.search(rf'value="{martine.id}"\s+checked', form)
    # again: designated already, nothing to do
    url, page = preview_of(manager, structure, content)
    assert rows_of(page)[2].startswith("Inchangée")


def test_french_excel_csv_in_windows_1252(session, login_as):
    manager = login_as(Role.MANAGER)
    content = (
        "Prénom;Nom;Adresse électronique;Rôle(s)\r\n"
        "Élodie;Lefèvre-Gaël;elodie.lefevre@example.org;Tutrice\r\n"
    ).encode("cp1252")
    url, page = preview_of(manager, azur(session), content)
    assert "Élodie Lefèvre-Gaël" in page
    assert manager.post(url).status_code == 302
    assert user(session, "elodie.lefevre@example.org").full_name == "Élodie Lefèvre-Gaël"


def test_utf8_with_bom_and_commas(session, login_as):
    manager = login_as(Role.MANAGER)
    content = (
        b"\xef\xbb\xbf"
        + (
            "Nom complet,Email,Rôles\n"
            '"Béatrice N\'Diaye",beatrice@example.org,"apprenant, tuteur"\n'
        ).encode()
    )
    url, _page = preview_of(manager, azur(session), content)
    assert manager.post(url).status_code == 302
    beatrice = user(session, "beatrice@example.org")
    assert beatrice.full_name == "Béatrice N'Diaye"
    assert roles_of(session, beatrice, azur(session)) == {Role.LEARNER, Role.TUTOR}


def test_an_xlsx_made_with_openpyxl(session, login_as):
    manager = login_as(Role.MANAGER)
    content = xlsx(
        [
            ["Nom", "E-mail", "Rôle", "Tuteur·rice de"],
            ["Paul Girard", "paul.girard@example.org", "tuteur·rice", "jeanne@example.org"],
            ["Jeanne Roy", "jeanne@example.org", "learner", None],
            [None, None, None, None],
            ["Line Blanche", "line@example.org", "responsable", None],
        ]
    )
    url, page = preview_of(manager, azur(session), content, "personnes.xlsx")
    rows = rows_of(page)
    assert sorted(rows) == [2, 3, 5]  # a blank row keeps its number
    assert all(text.startswith("Nouveau compte") for text in rows.values())
    assert manager.post(url).status_code == 302
    assert roles_of(session, user(session, "line@example.org"), azur(session)) == {Role.MANAGER}


def test_an_account_of_another_organisation_is_the_admins_to_import(
    session, login_as, make_structure, make_user
):
    other = make_user(
        [(Role.TUTOR, make_structure().id)], email="ailleurs@example.org", name="Personne Ailleurs"
    )
    session.commit()
    content = csv("Personne Ailleurs;ailleurs@example.org;tuteur")
    structure = azur(session)
    _url, page = preview_of(login_as(Role.MANAGER), structure, content)
    assert "compte d'une autre organisation" in rows_of(page)[2]
    admin = login_as(ADMIN)
    url, page = preview_of(admin, structure, content)
    assert rows_of(page)[2] == "Rejoint la structure A déjà un mot de passe : pas d'invitation."
    assert admin.post(url).status_code == 302
    assert roles_of(session, other, structure) == {Role.TUTOR}
    assert not mails_to(session, other.email)


def test_a_deactivated_account_is_not_given_a_role(session, login_as, make_user):
    structure = azur(session)
    gone = make_user([(Role.LEARNER, structure.id)], email="partie@example.org")
    gone.is_active = False
    session.add(gone)
    session.commit()
    _url, page = preview_of(
        login_as(Role.MANAGER), structure, csv("Partie;partie@example.org;apprenant, tuteur")
    )
    assert "Ce compte est désactivé" in rows_of(page)[2]
    _url, page = preview_of(
        login_as(Role.MANAGER), structure, csv("Partie;partie@example.org;apprenant")
    )
    assert rows_of(page)[2].startswith("Inchangée")


def test_the_rows_are_judged_again_on_confirmation(session, login_as, make_structure, make_user):
    manager = login_as(Role.MANAGER)
    structure = azur(session)
    url, page = preview_of(manager, structure, csv("Tard Venue;tard@example.org;apprenant"))
    assert rows_of(page)[2].startswith("Nouveau compte")
    make_user([(Role.LEARNER, make_structure().id)], email="tard@example.org")  # meanwhile
    session.commit()
    before = counts(session)
    response = manager.post(url)
    assert response.status_code == 422
    assert "compte d'une autre organisation" in response.get_data(as_text=True)
    assert counts(session) == before


def test_a_bad_file_is_answered_beside_the_file_field(session, login_as):
    manager = login_as(Role.MANAGER)
    structure = azur(session)
    before = session.execute(sa.select(sa.func.count()).select_from(Upload)).scalar_one()
    for content, words in (
        (b"", "Le fichier est vide."),
        (b"Nom;E-mail\nA;a@example.org\n", "Colonne(s) manquante(s) : « Rôle »"),
        (b"%PDF-1.7\n\x00", "pas un tableau lisible"),
        (b"x" * (1024 * 1024 + 1), "dépasse 1 Mo"),
    ):
        response = send(manager, structure, content)
        assert response.status_code == 422
        error = re.search(r'<p class="error" id="file-error">(.*?)</p>', response.get_data(True))
        assert error and words in error.group(1).replace("&#39;", "'"), words
    response = manager.post(import_url(structure), data={})
    assert response.status_code == 422 and "Choisissez un fichier" in response.get_data(True)
    response = send(manager, structure, b"x" * (3 * 1024 * 1024))  # over the app's limit
    assert response.status_code == 413 and 'id="file-error"' in response.get_data(True)
    assert "dépasse 1 Mo" in response.get_data(True)
    assert session.execute(sa.select(sa.func.count()).select_from(Upload)).scalar_one() == before


def test_a_manager_of_another_structure_gets_404_and_a_file_stays_in_its_structure(
    session, login_as, make_structure, make_user
):
    structure = azur(session)
    elsewhere = make_structure()
    make_user([(Role.MANAGER, elsewhere.id)], email="direction@ailleurs.example.org")
    session.commit()
    url, _page = preview_of(login_as(ADMIN), structure, csv("A B;ab@example.org;apprenant"))
    stranger = login_as("direction@ailleurs.example.org")
    assert stranger.get(import_url(structure)).status_code == 404
    assert send(stranger, structure, csv("A B;ab@example.org;apprenant")).status_code == 404
    assert stranger.get(url).status_code == 404 and stranger.post(url).status_code == 404
    # the admin's file for Azur cannot be confirmed into another structure
    admin = login_as(ADMIN)
    moved = url.replace(structure.public_id, elsewhere.public_id)
    assert admin.get(moved).status_code == 404 and admin.post(moved).status_code == 404
    assert user(session, "ab@example.org") is None
    # the people page links to the import
    page = login_as(Role.MANAGER).get(f"/structures/{structure.public_id}/personnes")
    assert import_url(structure) in page.get_data(as_text=True)


def test_the_preview_reads_the_database_in_a_few_statements_whatever_the_rows(
    app, session, login_as
):
    from afest.accounts import imports
    from afest.core.tabular import read_table

    structure = azur(session)
    manager = user(session, "direction@azur-aide.demo")
    engine = session.get_bind().engine

    def statements(n: int) -> int:
        content = csv(
            *(f"Personne {k};personne{k}@example.org;apprenant" for k in range(n)),
            *(f"Demo {k};apprenant{k}@azur-aide.demo;apprenant" for k in range(2, 6)),
        )
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            imports.preview(
                session,
                read_table(content, imports.COLUMNS),
                structure_id=structure.id,
                actor_id=manager.id,
            )
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    with app.test_request_context():
        assert statements(5) == statements(400) <= 6


def test_role_cells_as_people_write_them():
    from afest.accounts.import_checks import read_roles

    assert read_roles("Apprenant·e") == ((Role.LEARNER,), [])
    assert read_roles("tutrice / Responsable") == ((Role.TUTOR, Role.MANAGER), [])
    assert read_roles("TUTEUR, apprenante") == ((Role.LEARNER, Role.TUTOR), [])
    assert read_roles("manager et tutor") == ((Role.TUTOR, Role.MANAGER), [])
    assert read_roles("apprenant, directeur") == ((Role.LEARNER,), ["directeur"])
    assert read_roles("  ") == ((), [])


def test_the_outbox_writes_an_event_once_for_an_address_in_bulk_too(app, session):
    from afest.mail import outbox

    lina = User(email="lina.bulk@example.org", full_name="Lina Bulk", password_hash="!")
    session.add(lina)
    session.flush()
    context = {"user": lina, "url": "https://afest.example/x", "inviter": None, "days": 7}
    message = ("invitation", lina, {**context, "minutes": 30, "wants_pin": False}, "link:bulk")
    with app.test_request_context():
        outbox.enqueue_many(session, [message])
        outbox.enqueue_many(session, [message])
    assert len(mails_to(session, lina.email)) == 1
