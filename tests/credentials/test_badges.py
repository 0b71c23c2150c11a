"""Open Badges 3.0: what a learner earns, the credential issued once and signed (ES256), its
JSON valid against the published Open Badges 3.0 schema, verified by an independent JOSE
library with the published JWKS, refused after one character changed or after revocation;
revocation audited; nobody else's badge is reachable."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import jsonschema
import jwt as pyjwt
import pytest
from sqlmodel import select

from afest.credentials import badges
from afest.models import (
    AuditEntry,
    IssuedCredential,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    User,
    VaeBlockResult,
    VaePathway,
)

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "ob_v3p0_achievementcredential_schema.json").read_text()
)


def completed_learner(session) -> User:
    protocol = session.exec(
        select(Protocol).where(Protocol.status == ProtocolStatus.COMPLETED).order_by(Protocol.id)
    ).first()
    return session.get(User, protocol.learner_id)


def vae_learner(session) -> User:
    pathway = session.exec(
        select(VaePathway)
        .join(VaeBlockResult, VaeBlockResult.pathway_id == VaePathway.id)
        .where(VaeBlockResult.outcome == "validated")
    ).first()
    return session.get(User, pathway.learner_id)


def manager_of(session, structure_id: int) -> User:
    return session.exec(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.MANAGER, RoleAssignment.organisation_id == structure_id)
    ).first()


def issue_first(login_as, learner, kind: str, *, source: str = "protocol"):
    """The learner asks for her first badge of this kind; returns (her client, the row, JWT)."""
    client = login_as(learner.email)
    page = client.get(f"/parcours/{learner.public_id}/badges")
    assert page.status_code == 200
    keys = [
        k
        for k in page.get_data(as_text=True).split('name="earned" value="')[1:]
        for k in [k.split('"', 1)[0]]
        if k.startswith(source + ":") and f":{kind}:" in k
    ]
    assert keys, f"no {kind} badge earned"
    response = client.post(f"/parcours/{learner.public_id}/badges", data={"earned": keys[0]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    download = client.get(response.headers["Location"])
    assert download.status_code == 200 and download.mimetype == "application/vc+jwt"
    return client, keys[0], download.get_data(as_text=True)


def independent_payload(client, token: str) -> dict:
    """Verified with PyJWT and the published JWKS only (not the library that signed it)."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    header = pyjwt.get_unverified_header(token)
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt"
    return pyjwt.decode(token, pyjwt.PyJWK(key).key, algorithms=["ES256"])


def test_a_completed_afest_gives_a_participation_badge_valid_against_open_badges_3(
    session, login_as
):
    learner = completed_learner(session)
    client, _key, token = issue_first(login_as, learner, "participation")
    body = independent_payload(client, token)
    jsonschema.Draft201909Validator(SCHEMA).validate(body)
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = body["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    names = [i["identityHash"] for i in body["credentialSubject"]["identifier"] if not i["hashed"]]
    assert names == [learner.full_name]
    assert learner.email not in json.dumps(body)  # her address only hashed
    # evidence names signed sequences by their hashes, never their free text
    assert body["evidence"] and all("SHA-256" in e["description"] for e in body["evidence"])
    protocol = session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).first()
    assert protocol.title in body["name"]


def test_a_block_validated_by_a_vae_jury_is_aligned_to_its_rncp_code(session, login_as):
    learner = vae_learner(session)
    client, _key, token = issue_first(login_as, learner, "block", source="vae")
    body = independent_payload(client, token)
    jsonschema.Draft201909Validator(SCHEMA).validate(body)
    achievement = body["credentialSubject"]["achievement"]
    (alignment,) = achievement["alignment"]
    assert alignment["targetFramework"] == "RNCP"
    assert alignment["targetCode"].startswith("RNCP") and "BC" in alignment["targetCode"]
    assert alignment["targetCode"] == achievement["humanCode"]
    assert achievement["achievementType"] == "Competency"


def test_one_character_changed_and_the_badge_fails_everywhere(session, login_as):
    learner = completed_learner(session)
    client, _key, token = issue_first(login_as, learner, "participation")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"] = claims["name"] + "!"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for forged in (
        f"{header}.{forged_payload}.{signature}",
        f"{header}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}",
    ):
        with pytest.raises(pyjwt.InvalidSignatureError):
            independent_payload(client, forged)
        answer = client.post("/verification/badge.json", data=forged)
        assert answer.status_code == 422 and answer.get_json()["valid"] is False
    good = client.post("/verification/badge.json", data=token)
    assert good.status_code == 200 and good.get_json()["valid"] is True


def test_asking_twice_gives_the_same_badge(session, login_as):
    learner = completed_learner(session)
    client, key, token = issue_first(login_as, learner, "participation")
    again = client.post(f"/parcours/{learner.public_id}/badges", data={"earned": key})
    assert again.status_code == 302
    assert client.get(again.headers["Location"]).get_data(as_text=True) == token
    rows = session.exec(select(IssuedCredential).where(IssuedCredential.learner_id == learner.id))
    assert len(rows.all()) == 1


def test_revoked_by_the_structure_the_badge_no_longer_verifies_and_it_is_audited(session, login_as):
    learner = completed_learner(session)
    client, _key, token = issue_first(login_as, learner, "participation")
    row = session.exec(select(IssuedCredential).where(IssuedCredential.jwt == token)).one()
    manager = login_as(manager_of(session, row.issuer_id).email)
    protocol = session.get(Protocol, row.source_id)
    listed = manager.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert f"/badges/{row.public_id}" in listed  # the protocol's page lists it for its manager
    assert manager.get(f"/badges/{row.public_id}").status_code == 200
    refused = manager.post(f"/badges/{row.public_id}/revoquer", data={"reason": ""})
    assert refused.status_code == 422 and "Indiquez le motif" in refused.get_data(as_text=True)
    done = manager.post(f"/badges/{row.public_id}/revoquer", data={"reason": "Fraude avérée"})
    assert done.status_code == 302
    answer = client.post("/verification/badge.json", data=token).get_json()
    assert answer["valid"] is False and answer["revoked"] is True
    sent = {"fichier": (io.BytesIO(token.encode()), "badge.jwt")}
    page = client.post("/verification/badge", data=sent, content_type="multipart/form-data")
    assert page.status_code == 422 and "Fraude avérée" in page.get_data(as_text=True)
    listed = client.get("/badges/revocations").get_json()["revokedCredentials"]
    assert {"id": f"urn:uuid:{row.uuid}", "revocationReason": "Fraude avérée"} in listed
    assert session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "credential.revoke", AuditEntry.subject_id == row.id
        )
    ).one()
    # her own page says so, and offers no download of a revoked badge
    mine = client.get(f"/parcours/{learner.public_id}/badges").get_data(as_text=True)
    assert "Révoqué le" in mine


def test_a_badge_is_reached_by_its_learner_and_its_issuer_only(session, login_as, client):
    learner = completed_learner(session)
    _client, _key, token = issue_first(login_as, learner, "participation")
    row = session.exec(select(IssuedCredential).where(IssuedCredential.jwt == token)).one()
    other_learner = (
        session.exec(
            select(User).where(User.email == "apprenant@azur-aide.demo", User.id != learner.id)
        ).first()
        or session.exec(select(User).where(User.email == "apprenant3@azur-aide.demo")).one()
    )
    for who in (other_learner.email, "conseil@opco-sante.demo", "tuteur@azur-aide.demo"):
        if who == learner.email:
            continue
        for url in (f"/badges/{row.public_id}", f"/badges/{row.public_id}.jwt"):
            assert login_as(who).get(url).status_code == 404, (who, url)
    assert login_as(Role.ADMIN).get(f"/badges/{row.public_id}").status_code == 200
    # someone else's record of badges
    assert (
        login_as(other_learner.email).get(f"/parcours/{learner.public_id}/badges").status_code
        == 404
    )
    # without an account: the verification page, the keys and the revocations only
    assert client.get(f"/badges/{row.public_id}").status_code == 302
    assert client.post("/verification/badge", data={"token": token}).status_code == 200
    sent = {"fichier": (io.BytesIO(token.encode()), "badge.jwt")}
    as_file = client.post("/verification/badge", data=sent, content_type="multipart/form-data")
    assert as_file.status_code == 200 and "Badge valide." in as_file.get_data(as_text=True)
    assert client.get("/.well-known/jwks.json").status_code == 200


def test_garbage_is_answered_with_a_message_not_an_error(client):
    for text in ("", "eyJ", "a.b.c", '{"jwt": 3}', "x" * 70_000):
        page = client.post("/verification/badge", data={"token": text})
        assert page.status_code == 422, text[:10]
        answer = client.post("/verification/badge.json", data=text)
        assert answer.status_code == 422 and answer.get_json()["valid"] is False


def test_earned_follows_the_final_evaluation_block_by_block(app, session):
    """A block is earned when every competence of it the protocol targets has an acquired
    level at the current final evaluation signed by the tutor: computed here from the rows."""
    from afest.models import (
        CompetenceAssessment,
        Evaluation,
        Level,
        ProtocolCompetence,
        Signature,
    )

    expected, found = set(), set()
    protocols = session.exec(
        select(Protocol).where(Protocol.status == ProtocolStatus.COMPLETED).order_by(Protocol.id)
    ).all()[:6]
    for protocol in protocols:
        finals = session.exec(
            select(Evaluation)
            .join(Signature, (Signature.subject_id == Evaluation.id))
            .where(
                Evaluation.protocol_id == protocol.id,
                Evaluation.kind == "final",
                Signature.subject_kind == "evaluation",
                Signature.signer_role == "tutor",
            )
            .order_by(Evaluation.evaluated_on, Evaluation.id)
        ).all()
        corrected = {e.amends_id for e in finals}
        final = [e for e in finals if e.id not in corrected][-1]
        acquired = {
            c
            for c, ok in session.exec(
                select(CompetenceAssessment.competence_id, Level.acquired)
                .join(Level, Level.id == CompetenceAssessment.level_id)
                .where(CompetenceAssessment.evaluation_id == final.id)
            )
            if ok
        }
        by_block: dict[str, set[int]] = {}
        for pc in session.exec(
            select(ProtocolCompetence).where(ProtocolCompetence.protocol_id == protocol.id)
        ):
            by_block.setdefault(pc.block_code, set()).add(pc.competence_id)
        expected |= {(protocol.id, b) for b, ids in by_block.items() if ids <= acquired}
        with app.app_context():
            earned = badges.earned_by(session, session.get(User, protocol.learner_id))
        found |= {
            (e.source_id, e.block_code)
            for e in earned
            if e.kind == "block" and e.source_kind == "protocol" and e.source_id == protocol.id
        }
    assert expected and found == expected


def test_a_seal_key_that_cannot_sign_badges_is_said_not_a_500(client, monkeypatch):
    from afest.credentials import keys

    def unsuitable(_app):
        raise keys.UnsuitableKey("Credentials are signed in ES256: SEAL_KEY must be P-256.")

    monkeypatch.setattr(keys, "signing_key", unsuitable)
    for response in (
        client.get("/.well-known/jwks.json"),
        client.post("/verification/badge", data={"token": "a.b.c"}),
    ):
        assert response.status_code == 503
        assert "clé P-256" in response.get_data(as_text=True)
