"""The certificat de réalisation: the ministry's model in the PDF, signed by the structure's
manager with her password, recorded like every signature (its audit entry, `flask afest
verify`), kept as signed, out of date when later signed sequences change its hours, and not
issued at 0 hours."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date
from openpyxl import load_workbook
from sqlmodel import select

from afest.cli import group
from afest.core.audit import canonical_json, sha256_hex
from afest.models import (
    AuditEntry,
    Certificate,
    Organisation,
    Protocol,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
    User,
)
from afest.proof import certificates, signatures
from afest.protocols.queries import protocol_view
from afest.sequences import operations as sequences
from afest.sequences import signing
from tests.conftest import PASSWORD
from tests.proof.test_proofpack import _hm, _pdf_text
from tests.proof.test_tampering import _lift_delete_trigger

MANAGER = "direction@azur-aide.demo"
TZ = ZoneInfo("Europe/Paris")


def _demo_protocol(session) -> Protocol:
    learner = session.exec(select(User).where(User.email == "apprenant@azur-aide.demo")).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _certificates(session, protocol) -> list[Certificate]:
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.protocol_id == protocol.id)
            .execution_options(populate_existing=True)
            .order_by(Certificate.id)
        )
    )


def _signed_minutes(session, protocol) -> int:
    """The hours the certificate must state, counted apart from the application's code."""
    return session.exec(
        sa.text(
            "SELECT COALESCE(SUM(s.duration_minutes), 0) FROM sequence s WHERE s.protocol_id = :p"
            " AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)"
            " AND (SELECT COUNT(DISTINCT g.signer_role) FROM signature g"
            "      WHERE g.subject_kind = 'sequence' AND g.subject_id = s.id"
            "        AND g.signer_role IN ('tutor', 'learner')) = 2"
        ),
        params={"p": protocol.id},
    ).one()[0]


def _sign(client, protocol, *, role="Directrice", place="Nice", password=PASSWORD):
    return client.post(
        f"/protocoles/{protocol.public_id}/certificat",
        data={"role": role, "place": place, "password": password},
    )


def _verify(app):
    return app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)


def _day(value) -> str:
    """A date as the French documents print it (the `date` filter's medium format)."""
    return format_date(value, "medium", locale="fr_FR")


def _flat(text: str) -> str:
    """pdftotext's layout without its line breaks and runs of spaces."""
    return re.sub(r"\s+", " ", text)


def test_the_manager_signs_and_the_pdf_follows_the_model(app, session, login_as, tmp_path):
    protocol = _demo_protocol(session)
    client = login_as(MANAGER)
    page = client.get(f"/protocoles/{protocol.public_id}/certificat")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "représentant légal du dispensateur" in html and 'name="password"' in html
    assert "Je soussigné(e) Sylvie Castel," in html  # she reads what she will sign

    response = _sign(client, protocol)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (certificate,) = _certificates(session, protocol)
    structure = session.get(Organisation, protocol.structure_id)
    manager = session.exec(select(User).where(User.email == MANAGER)).one()
    minutes = _signed_minutes(session, protocol)
    assert minutes > 0
    assert (certificate.minutes, certificate.signatory_id) == (minutes, manager.id)
    assert (certificate.signatory_role, certificate.place) == ("Directrice", "Nice")
    assert certificate.employer_siret == structure.siret and certificate.title == protocol.title

    # recorded like every signature: its hash, recomputed from the row, and its audit entry
    (signature,) = signatures.signatures_of(session, SignedKind.CERTIFICATE, certificate.id)
    assert signature.signer_role == SignerRole.STRUCTURE and signature.method == "password"
    content = {name: getattr(certificate, name) for name in signatures.CERTIFICATE_FIELDS}
    content["id"] = certificate.public_id
    assert signature.content_hash == sha256_hex(canonical_json(content))
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "certificate.sign", AuditEntry.subject_id == certificate.id
        )
    ).one()
    assert entry.protocol_id == protocol.id and entry.after["hash"] == signature.content_hash
    assert _verify(app).exit_code == 0

    text = _pdf_text(client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data, tmp_path)
    page_one = _flat(text.split("\f")[0])
    day = _day(certificate.signed_on)
    # the model's wording, in its order
    expected = [
        f"Je soussigné(e) {manager.full_name}, Directrice,",
        "représentant légal du dispensateur de l'action concourant au développement des "
        f"compétences {structure.name} (SIRET {structure.siret}),",
        "atteste que :",
        certificate.learner_name,
        f"salarié(e) de l'entreprise {structure.name} (SIRET {structure.siret}),",
        f"a suivi l'action {protocol.title}",
        "Nature de l'action concourant au développement des compétences :",
        "☒ action de formation — en situation de travail",
        "☐ bilan de compétences",
        "☐ action de validation des acquis de l'expérience",
        "☐ action de formation par apprentissage",
        f"qui s'est déroulée du {_day(certificate.first_day)} au {_day(certificate.last_day)}",
        f"pour une durée de {_hm(minutes)}.",
        "je m'engage à conserver l'ensemble des pièces justificatives",
        "Fait à Nice",
        f"Le {day}",
        "Cachet et signature du responsable du dispensateur de formation",
        f"Signé électroniquement par {manager.full_name}, Directrice, le {day} à Nice",
        signature.content_hash[:32],
    ]
    position = 0
    for line in expected:
        found = page_one.find(line, position)
        assert found >= 0, (line, page_one[position : position + 600])
        position = found + len(line)
    assert "n'est plus à jour" not in page_one

    book = load_workbook(
        io.BytesIO(client.get(f"/protocoles/{protocol.public_id}/preuve.xlsx").data)
    )
    facts = {row[0]: row[1] for row in book["Protocole"].iter_rows(values_only=True)}
    assert facts["Certificat de réalisation"] == "à jour"
    assert facts["Certificat : signé par"] == manager.full_name
    assert facts["Certificat : empreinte (SHA-256)"] == signature.content_hash


def test_the_dates_are_those_of_the_certified_sequences(session):
    protocol = _demo_protocol(session)
    view = protocol_view(session, protocol)
    facts = certificates.state(session, protocol, view, zone=TZ).now
    days = [s.occurred_at.astimezone(TZ).date() for s in certificates.certified(view)]
    assert (facts.first_day, facts.last_day) == (min(days), max(days))
    assert facts.minutes == _signed_minutes(session, protocol)


def test_a_wrong_password_is_answered_beside_the_field_and_nothing_is_saved(session, login_as):
    protocol = _demo_protocol(session)
    client = login_as(MANAGER)
    before = session.exec(select(sa.func.count()).select_from(Signature)).one()
    response = _sign(client, protocol, password="pas le bon")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="password-error">Mot de passe incorrect\.</p>', html)
    assert 'value="Directrice"' in html and 'value="Nice"' in html  # what was typed stays
    response = _sign(client, protocol, role="", place="", password="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("role", "place", "password"):
        assert f'id="{field}-error"' in html
    response = _sign(client, protocol, role="x" * 121)
    assert response.status_code == 422 and "120 caractères au plus." in response.get_data(
        as_text=True
    )
    assert _certificates(session, protocol) == []
    assert session.exec(select(sa.func.count()).select_from(Signature)).one() == before


def test_no_certificate_is_issued_at_zero_hours(session, make_protocol, login_as):
    protocol, people = make_protocol()
    client = login_as(people["manager"].email)
    page = client.get(f"/protocoles/{protocol.public_id}/certificat")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Pas de certificat de réalisation" in html and 'name="password"' not in html
    response = _sign(client, protocol)
    assert response.status_code == 422
    assert _certificates(session, protocol) == []
    show = client.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert "Pas de certificat de réalisation" in show
    assert f"/protocoles/{protocol.public_id}/certificat" not in show


def _signed_sequence(session, protocol, people, day, minutes, n):
    competence = protocol.competences[0].competence_id
    data = sequences.SequenceData(
        client_id=f"certificate-{protocol.public_id}-{n}",
        occurred_at=datetime.combine(day, time(9), tzinfo=TZ).astimezone(UTC),
        duration_minutes=minutes,
        autonomy="accompanied",
        competence_ids=[competence],
    )
    seq, _ = sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=TZ,
        data=data,
    )
    for who, role in (("tutor", SignerRole.TUTOR), ("learner", SignerRole.LEARNER)):
        signing.sign_sequence(
            session,
            actor_id=people[who].id,
            protocol=protocol,
            sequence=seq,
            role=role,
            method="password",
        )
    session.commit()
    return seq


def test_later_signed_hours_put_the_certificate_out_of_date_and_a_new_one_is_signed(
    app, session, make_protocol, login_as, tmp_path
):
    protocol, people = make_protocol()
    start = protocol.planned_start
    _signed_sequence(session, protocol, people, start + timedelta(days=1), 120, 1)
    client = login_as(people["manager"].email)
    assert _sign(client, protocol, role="Directeur", place="Marseille").status_code == 302
    again = _sign(client, protocol)  # up to date: nothing new to sign
    assert again.status_code == 422 and "rien de nouveau à signer" in again.get_data(as_text=True)
    assert len(_certificates(session, protocol)) == 1
    show = client.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert "Signé électroniquement par Direction Test, Directeur" in show
    assert "Signer un nouveau certificat" not in show

    _signed_sequence(session, protocol, people, start + timedelta(days=3), 45, 2)
    show = client.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert "n'est plus à jour" in show and "Signer un nouveau certificat" in show
    text = _flat(
        _pdf_text(client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data, tmp_path)
    )
    assert "n'est plus à jour" in text and "totalisent maintenant 2 h 45" in text
    assert "pour une durée de 2 h." in text  # the signed certificate, printed as signed
    book = client.get(f"/protocoles/{protocol.public_id}/preuve.xlsx").data
    facts = {
        r[0]: r[1] for r in load_workbook(io.BytesIO(book))["Protocole"].iter_rows(values_only=True)
    }
    assert facts["Certificat de réalisation"] == "plus à jour"
    assert facts["Certificat : minutes certifiées"] == 120

    form = client.get(f"/protocoles/{protocol.public_id}/certificat").get_data(as_text=True)
    assert 'value="Directeur"' in form and 'value="Marseille"' in form  # prefilled
    assert "pour une durée de 2 h 45." in form
    assert _sign(client, protocol, role="Directeur", place="Marseille").status_code == 302
    first, second = _certificates(session, protocol)
    assert (first.minutes, second.minutes) == (120, 165)  # the former one is kept
    assert len(signatures.signatures_of(session, SignedKind.CERTIFICATE, first.id)) == 1
    text = _flat(
        _pdf_text(client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data, tmp_path)
    )
    assert "pour une durée de 2 h 45." in text and "n'est plus à jour" not in text
    assert "Certificats signés auparavant pour cette action" in text
    assert _verify(app).exit_code == 0


def test_a_certificate_changed_in_the_database_is_reported(app, session, connection, login_as):
    protocol = _demo_protocol(session)
    assert _sign(login_as(MANAGER), protocol).status_code == 302
    (certificate,) = _certificates(session, protocol)
    connection.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(minutes=certificate.minutes + 600)
    )
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"certificate {certificate.public_id} changed after it was signed" in result.output


def test_a_deleted_certificate_signature_is_reported(
    app, session, connection, engine_name, login_as
):
    protocol = _demo_protocol(session)
    assert _sign(login_as(MANAGER), protocol).status_code == 302
    (certificate,) = _certificates(session, protocol)
    _lift_delete_trigger(connection, engine_name, "signature")
    connection.execute(
        sa.delete(Signature).where(
            Signature.subject_kind == "certificate", Signature.subject_id == certificate.id
        )
    )
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"announces a signature of certificate #{certificate.id}" in result.output


def test_a_certificate_removed_from_the_database_is_reported(app, session, connection, login_as):
    protocol = _demo_protocol(session)
    assert _sign(login_as(MANAGER), protocol).status_code == 302
    (certificate,) = _certificates(session, protocol)
    connection.execute(sa.delete(Certificate).where(Certificate.id == certificate.id))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert "signed certificate is missing" in result.output


def test_the_page_codes_cover_the_certificate_signature(session, login_as, app):
    """A pack's verification code names the certificate's signature with the others, and
    the verification page finds the certificate changed."""
    from afest.proof import proofpack

    protocol = _demo_protocol(session)
    assert _sign(login_as(MANAGER), protocol).status_code == 302
    (certificate,) = _certificates(session, protocol)
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        pack = proofpack.collect(session, protocol)
    (code,) = proofpack.page_codes(session, pack, secret=secret, pages=1)
    assert proofpack.verify_code(session, code, secret=secret).intact
    session.exec(
        sa.update(Certificate).where(Certificate.id == certificate.id).values(place="Ailleurs")
    )
    session.flush()
    check = proofpack.verify_code(session, code, secret=secret)
    assert check.valid and check.altered == [f"certificate {certificate.public_id}"]


def test_only_the_structure_manager_signs(session, make_protocol, login_as):
    protocol, people = make_protocol()
    _signed_sequence(session, protocol, people, protocol.planned_start, 60, 1)
    for who in (people["tutor"].email, people["learner"].email):
        client = login_as(who)
        assert client.get(f"/protocoles/{protocol.public_id}/certificat").status_code == 403
        assert _sign(client, protocol).status_code == 403
    assert _sign(login_as(MANAGER), protocol).status_code == 404  # another structure's
    assert _certificates(session, protocol) == []


def test_the_demo_certificates_are_signed_the_morning_after_the_protocol_ends(session):
    """The demo tells its story: a completed protocol's certificate is signed by its manager
    the day after its final bilan, up to date, and some wait for her signature still."""
    rows = session.exec(
        select(Certificate, Signature, Protocol)
        .join(
            Signature,
            (Signature.subject_kind == SignedKind.CERTIFICATE)
            & (Signature.subject_id == Certificate.id),
        )
        .join(Protocol, Protocol.id == Certificate.protocol_id)
    ).all()
    assert len(rows) >= 10
    for certificate, signature, protocol in rows:
        (completed,) = [
            entry.at
            for entry in session.exec(
                select(AuditEntry).where(
                    AuditEntry.protocol_id == protocol.id, AuditEntry.action == "protocol.status"
                )
            )
            if entry.after["status"] == "completed"
        ]
        signed = signature.signed_at.astimezone(TZ)
        assert signed.date() == certificate.signed_on
        assert signed.date() == completed.astimezone(TZ).date() + timedelta(days=1)
        state = certificates.state(session, protocol, zone=TZ)
        assert not state.out_of_date and state.latest.id == certificate.id
        assert certificate.minutes == _signed_minutes(session, protocol)
        assert certificate.signatory_id != protocol.learner_id
    unsigned = session.exec(
        select(Protocol).where(
            Protocol.status == "completed",
            Protocol.id.not_in(select(Certificate.protocol_id)),
        )
    ).all()
    assert unsigned  # the home help association's first one, among others


def test_the_operation_refuses_anyone_but_a_manager_of_the_structure(session, make_protocol):
    """Behind the views' policy, the operation itself: a tutor of the structure, or the
    manager of another, signs no certificate."""
    from afest.core.errors import ServiceError

    protocol, people = make_protocol()
    _signed_sequence(session, protocol, people, protocol.planned_start, 60, 1)
    stranger = session.exec(select(User).where(User.email == MANAGER)).one()
    for actor in (people["tutor"], stranger):
        try:
            certificates.sign_certificate(
                session, actor_id=actor.id, protocol=protocol, role="x", place="y", zone=TZ
            )
        except ServiceError as exc:
            assert "responsable de la structure" in str(exc.message)
        else:
            raise AssertionError(f"{actor.full_name} signed another structure's certificate")
    assert _certificates(session, protocol) == []


def test_the_learner_finds_her_certificate_in_her_data(session, login_as):
    """Everything held about her (right of access): the certificate as signed, its hash."""
    import json

    protocol = _demo_protocol(session)
    assert _sign(login_as(MANAGER), protocol).status_code == 302
    (certificate,) = _certificates(session, protocol)
    (signature,) = signatures.signatures_of(session, SignedKind.CERTIFICATE, certificate.id)
    learner = session.get(User, protocol.learner_id)
    client = login_as(learner.email)
    data = json.loads(client.get(f"/parcours/{learner.public_id}/donnees.json").data)
    (exported,) = [p for p in data["protocols"] if p["id"] == protocol.public_id]
    (held,) = exported["certificates"]
    assert (held["id"], held["minutes"], held["place"]) == (
        certificate.public_id,
        certificate.minutes,
        "Nice",
    )
    assert held["signatures"][0]["content_hash"] == signature.content_hash
    page = client.get(f"/parcours/{learner.public_id}/donnees").get_data(as_text=True)
    assert "Certificats de réalisation" in page and "Qualité du signataire" in page
