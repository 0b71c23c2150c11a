"""A roll-out from an empty database, in a real browser, driven by the labels people see.

Only a first admin exists (made with `flask afest create-user`, as the README says). The
admin creates an OPCO, a support body, a structure and a cohort, adds the référentiel, invites
the OPCO's adviser and the structure's manager. Each person follows the link of the e-mail
the SMTP server received (started by the test), chooses a password — a tutor her tablet PIN
too. The manager imports 20 people from an XLSX file and they are invited; she drafts and
signs a protocol for a learner with a tutor; the tutor and the learner sign it; the tutor logs
and signs a sequence on the tablet; the OPCO adviser's dashboard shows it.
"""

from __future__ import annotations

import io
import os
import re
import threading
from datetime import date, timedelta

import pytest
from alembic import command
from openpyxl import Workbook
from stdnum import luhn
from werkzeug.serving import make_server

from afest.referentials import operations as referentials
from tests.browser.conftest import assert_axe_clean, logout
from tests.conftest import alembic_config
from tests.mail.conftest import SmtpServer, free_port

pytestmark = pytest.mark.browser

ADMIN, ADMIN_PASSWORD = "premiere.admin@opco-sud.example", "Premier-admin-2026"
ADVISER = "conseil@opco-sud.example"
MANAGER = "direction@aide-sud.example"
TUTOR = "tutrice.1@aide-sud.example"
LEARNER = "apprenant.4@aide-sud.example"  # the first of the three who start
PASSWORDS = {ADVISER: "Conseil-opco-2026", MANAGER: "Direction-aide-2026"}
PERSON_PASSWORD = "Personne-aide-2026"
PIN = "4826"
REFERENTIAL = "RNCP35830"


def _siret(n: int) -> str:
    siren = f"{n:08d}"
    siren += luhn.calc_check_digit(siren)
    nic = "0001"
    return siren + nic + luhn.calc_check_digit(siren + nic)


SIRET = _siret(52417833)


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory, smtp):
    """afest on a migrated, empty SQLite database with one admin, sending mail to `smtp`."""
    from afest import create_app
    from afest.core.database import database

    path = tmp_path_factory.mktemp("rollout") / "afest.sqlite"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "ENV": "testing",
            "TESTING": False,
            "RATELIMIT_ENABLED": False,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "SMTP_TLS": "none",
            "SMTP_TIMEOUT": 2.0,
        }
    )
    db = database(app)
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "heads")
    created = app.test_cli_runner().invoke(
        args=[
            "afest",
            "create-user",
            "--email",
            ADMIN,
            "--name",
            "Première Admin",
            "--role",
            "admin",
            "--password",
            ADMIN_PASSWORD,
        ]
    )
    assert created.exit_code == 0, created.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.engine.dispose()


@pytest.fixture()
def tab(browser, empty_server):
    context = browser.new_context(
        base_url=empty_server, viewport={"width": 1280, "height": 900}, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    if os.environ.get("AFEST_ROLLOUT_SHOT"):
        page.screenshot(path=os.environ["AFEST_ROLLOUT_SHOT"], full_page=True)
    context.close()
    assert not errors, errors


def sign_in(page, email: str, password: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)


def link_sent_to(smtp, address: str) -> str:
    """The link of the last message the SMTP server received for `address`."""
    for message, recipients in zip(
        reversed(smtp.inbox.received), reversed(smtp.inbox.recipients), strict=True
    ):
        if address in recipients:
            text = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://\S+", text).group(0)
    raise AssertionError(f"no message for {address}: {smtp.inbox.recipients}")


def follow_invitation(page, smtp, address: str, password: str, pin: str | None = None) -> None:
    link = link_sent_to(smtp, address)
    page.goto(link)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Confirmez le mot de passe").fill(password)
    if pin:
        page.get_by_label("Code de tablette").fill(pin)
        page.get_by_label("Confirmez le code").fill(pin)
    assert_axe_clean(page)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url(lambda url: url != link)


def people_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "E-mail", "Rôle"])
    for n in range(1, 21):
        role = "tuteur·rice" if n <= 3 else "apprenant·e"
        kind = "tutrice" if n <= 3 else "apprenant"
        sheet.append([f"Personne {n:02d} Sud", f"{kind}.{n}@aide-sud.example", role])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def referential_file(tmp_path) -> str:
    import json

    path = tmp_path / f"{REFERENTIAL}.json"
    path.write_text(json.dumps(referentials.bundled()[REFERENTIAL]), encoding="utf-8")
    return str(path)


def test_an_opco_rolls_afest_out_from_an_empty_database(tab, smtp, tmp_path):
    page = tab
    sign_in(page, ADMIN, ADMIN_PASSWORD)

    # --- the admin: organisations, référentiel, first invitations -------------------------
    page.get_by_role("navigation").get_by_role("link", name="Organisations").click()
    page.get_by_role("link", name="OPCO", exact=True).click()
    page.get_by_role("link", name="Nouvel OPCO").click()
    page.get_by_label("Nom").fill("OPCO Sud Domicile")
    page.get_by_label("Code court").fill("OPCO-SUD")
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("« OPCO Sud Domicile » créé.").wait_for()

    page.get_by_role("link", name="Structures", exact=True).click()
    page.get_by_role("link", name="Nouvelle structure").click()
    page.get_by_label("Nom de la structure").fill("Aide Sud à Domicile")
    page.get_by_label("SIRET").fill(SIRET[:9] + " " + SIRET[9:])
    page.get_by_label("Département").fill("13")
    page.get_by_label("Catégorie").select_option(value="SAAD")
    page.get_by_label("OPCO").select_option(label="OPCO Sud Domicile")
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Structure « Aide Sud à Domicile » créée.").wait_for()

    page.get_by_role("link", name="Cohortes", exact=True).click()
    page.get_by_role("link", name="Nouvelle cohorte").click()
    page.get_by_label("Code", exact=True).fill("SUD-DOMICILE-2027")
    page.get_by_label("Nom", exact=True).fill("Déploiement AFEST domicile Sud")
    page.get_by_label("Financeur").select_option(label="OPCO Sud Domicile")
    page.get_by_label("Structures de la cohorte").fill(SIRET)
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Cohorte « Déploiement AFEST domicile Sud » créée.").wait_for()

    page.get_by_role("navigation").get_by_role("link", name="Référentiels").click()
    page.get_by_role("link", name="Importer", exact=True).click()
    page.get_by_label(re.compile("Fichier")).set_input_files(referential_file(tmp_path))
    page.get_by_role("button", name=re.compile("Importer")).click()
    page.get_by_text("1 référentiel(s) importé(s).").wait_for()

    # the OPCO's adviser, from the OPCO's page
    page.get_by_role("navigation").get_by_role("link", name="Organisations").click()
    page.get_by_role("link", name="OPCO", exact=True).click()
    page.get_by_role("link", name="OPCO Sud Domicile").click()
    page.get_by_label("Nom et prénom").fill("Camille Conseil")
    page.get_by_label("Adresse e-mail").fill(ADVISER)
    page.get_by_role("button", name=re.compile("inviter", re.I)).click()
    page.get_by_text(ADVISER).first.wait_for()

    # the structure's manager, from the structure's people
    page.get_by_role("navigation").get_by_role("link", name="Organisations").click()
    page.get_by_role("row", name=re.compile("Aide Sud à Domicile")).get_by_role(
        "link", name=re.compile("Personnes")
    ).click()
    page.get_by_label("Nom et prénom").fill("Dominique Direction")
    page.get_by_label("Adresse e-mail").fill(MANAGER)
    page.get_by_label("Responsable de structure").check()
    assert_axe_clean(page)
    page.get_by_role("button", name="Ajouter et inviter").click()
    page.get_by_role("link", name="Dominique Direction").wait_for()
    logout(page)

    # --- the manager: her password, 20 people imported and invited, a protocol -------------
    follow_invitation(page, smtp, MANAGER, PASSWORDS[MANAGER])
    page.get_by_role("navigation").get_by_role("link", name="Personnes").click()
    page.get_by_role("link", name=re.compile("Importer")).click()
    upload = tmp_path / "personnes.xlsx"
    upload.write_bytes(people_xlsx())
    page.get_by_label(re.compile("Fichier")).set_input_files(str(upload))
    assert_axe_clean(page)
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Toutes les lignes sont valides").wait_for()
    assert page.locator("tbody tr").count() == 20
    assert_axe_clean(page)
    page.get_by_role("button", name=re.compile("Confirmer l'import de 20")).click()
    page.get_by_text(re.compile("Import enregistré")).wait_for()
    assert link_sent_to(smtp, TUTOR) and link_sent_to(smtp, LEARNER)

    # three learners start (fewer than 3 would be hidden from the OPCO: small cells)
    protocols = {}
    for n in (4, 5, 6):
        draft_protocol(page, learner=f"Personne {n:02d} Sud", tutor="Personne 01 Sud")
        protocols[f"apprenant.{n}@aide-sud.example"] = page.url
        sign_protocol(page, "structure", PASSWORDS[MANAGER])
    logout(page)

    # --- the tutor and the learners accept and sign; the tutor logs a sequence -------------
    follow_invitation(page, smtp, TUTOR, PERSON_PASSWORD, pin=PIN)
    for url in protocols.values():
        page.goto(url)
        sign_protocol(page, "tut", PERSON_PASSWORD)
    logout(page)
    for learner, url in protocols.items():
        follow_invitation(page, smtp, learner, PERSON_PASSWORD)
        page.goto(url)
        sign_protocol(page, "apprenant", PERSON_PASSWORD)
        logout(page)

    sign_in(page, TUTOR, PERSON_PASSWORD)
    log_and_sign_sequence(page)
    logout(page)

    # --- the OPCO adviser sees it -------------------------------------------------------------
    follow_invitation(page, smtp, ADVISER, PASSWORDS[ADVISER])
    page.goto("/tableaux/opco")
    assert_axe_clean(page)
    row = page.locator("#t-structures tbody tr").filter(has_text="Aide Sud à Domicile")
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    learners, protocols_count, sequences = cells[0], cells[1], cells[4]
    assert (learners, protocols_count) == ("3", "3"), cells
    assert sequences.split("/")[0].strip() == "1", cells


def draft_protocol(page, *, learner: str, tutor: str) -> None:
    """The manager drafts the protocol, plans, positions and sends it for signature."""
    page.goto("/protocoles/nouveau")
    page.get_by_label("Apprenant·e").select_option(label=learner)
    choose(page.get_by_label("Référentiel"), REFERENTIAL)
    page.get_by_label("Intitulé de l'action").fill("AFEST aide à domicile — accompagnement")
    page.get_by_label("Objectif professionnel").fill("Accompagner seule les gestes du quotidien")
    page.get_by_label("Analyse de l'activité et adaptation pédagogique").fill(
        "Activité analysée avec la tutrice : toilette, repas, transferts ; situations adaptées."
    )
    page.get_by_label("Situations de travail retenues").fill("Aide au repas, aide à la toilette")
    page.get_by_role("group", name=re.compile("Tuteur")).get_by_label(tutor).check()
    competences = page.get_by_role("group", name=re.compile("Compétences visées"))
    for n in range(3):
        competences.get_by_role("checkbox").nth(n).check()
    start = date.today()
    page.get_by_label("Début prévu").fill(start.isoformat())
    page.get_by_label("Fin prévue").fill((start + timedelta(days=90)).isoformat())
    page.get_by_label("Heures prévues").fill("40")
    assert_axe_clean(page)
    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url(re.compile(r"/protocoles/[^/]+$"))
    page.get_by_role("link", name="Modifier le brouillon").click()
    positioning = page.locator(
        "form", has=page.get_by_role("button", name="Enregistrer le positionnement")
    )
    for select in positioning.locator("select").all():
        select.select_option(index=1)
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer le positionnement").click()
    page.get_by_text("Positionnement initial enregistré.").wait_for()
    page.get_by_role("button", name="Soumettre pour signature").click()
    page.wait_for_url(re.compile(r"/protocoles/[^/]+$"))


def choose(select, text: str) -> None:
    """Select the option of `select` whose visible text contains `text`."""
    labels = [t.strip() for t in select.locator("option").all_inner_texts()]
    select.select_option(label=next(lb for lb in labels if text.lower() in lb.lower()))


def sign_protocol(page, role: str, password: str) -> None:
    choose(page.get_by_label("Je signe en tant que"), role)
    page.get_by_label("Mot de passe (pour confirmer votre signature)").fill(password)
    page.get_by_role("button", name=re.compile("Signer")).click()
    page.get_by_text("Protocole signé.").wait_for()


def log_and_sign_sequence(page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Mes apprenant·es").click()
    page.locator("a.card").first.click()
    page.get_by_role("link", name="Nouvelle mise en situation").click()
    page.locator("#competence_ids label.toggle").first.click()
    page.get_by_label("Intention pédagogique annoncée").fill("Aide au repas d'un bénéficiaire")
    page.get_by_label("Observations du·de la tuteur·rice").fill("Installation et écoute justes")
    page.get_by_role("button", name="Enregistrer sans signer").click()
    page.get_by_text("Enregistrée sur le serveur.").wait_for()
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).click()
    page.get_by_text("Séquence signée.").wait_for()
