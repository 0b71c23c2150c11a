"""Open Badges 3.0 credentials a learner keeps when she changes employer.

What earns one:
- a competence block validated: by a VAE jury (a block result "validé"), or by an AFEST whose
  current final evaluation, signed by the tutor, gives an acquired level to every competence
  of the block the protocol targets;
- a completed AFEST: a certificate of participation.

A credential is an `OpenBadgeCredential` (W3C Verifiable Credentials data model 2.0): the
achievement is the block (aligned to its RNCP code when the référentiel is an RNCP fiche) or
the AFEST; the evidence is the signed sequences and evaluations it rests on, named with their
dates, durations and signed hashes, never their free text (tutors' notes, learners' words);
the issuer is the structure (the VAE's structure for a jury result), signing through the
platform's key (afest.credentials.keys) as a JWT (ES256, `typ` vc+jwt). It is issued once,
on the learner's demand, kept as signed, and served the same every time. Revoking it (a fraud
found) is audited; the verification says so from then on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.assessments.evaluations import levels_given
from afest.core import audit, clock
from afest.core.errors import ServiceError
from afest.credentials import keys
from afest.models import (
    BlockOutcome,
    CompetenceBlock,
    Evaluation,
    EvaluationKind,
    IssuedCredential,
    Level,
    Organisation,
    Protocol,
    ProtocolStatus,
    Referential,
    ReferentialKind,
    SequenceKind,
    SignedKind,
    SignerRole,
    User,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    utcnow,
)
from afest.protocols.queries import ProtocolView, protocol_view, with_parents
from afest.sequences.operations import competences_of

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
BLOCK, PARTICIPATION = "block", "participation"
FROM_PROTOCOL, FROM_VAE = "protocol", "vae"
KIND_LABELS = {
    SequenceKind.SITUATION: "Mise en situation",
    SequenceKind.REFLECTION: "Séquence réflexive",
}


@dataclass
class Earned:
    """A credential the learner has earned, issued or not yet."""

    kind: str
    source_kind: str
    source_id: int
    source_public_id: str
    block_code: str
    title: str
    issuer: Organisation
    referential: Referential
    criteria: str
    evidence: list[dict] = field(default_factory=list)
    started: date | None = None
    ended: date | None = None
    issued: IssuedCredential | None = None

    @property
    def key(self) -> str:
        """Names it in a form: what proves it and which block."""
        return f"{self.source_kind}:{self.source_public_id}:{self.kind}:{self.block_code}"


# --- what a learner has earned ------------------------------------------------------------------


def _signed_hash(view: ProtocolView, kind: SignedKind, subject_id: int, role: SignerRole):
    for signature in view.signatures.get((str(kind), subject_id), []):
        if signature.signer_role == role:
            return signature.content_hash
    return None


def _evidence_of_sequences(
    view: ProtocolView, worked: dict[int, list[int]], competence_ids: set[int] | None
) -> list[dict]:
    """The sequences signed by the tutor and countersigned by the learner (those the
    certificat de réalisation counts), which worked on these competences (all when None)."""
    found = []
    for sequence in view.sequences:
        tutor = _signed_hash(view, SignedKind.SEQUENCE, sequence.id, SignerRole.TUTOR)
        learner = _signed_hash(view, SignedKind.SEQUENCE, sequence.id, SignerRole.LEARNER)
        if not (tutor and learner):
            continue
        if competence_ids is not None and not competence_ids & set(worked.get(sequence.id, [])):
            continue
        day = sequence.occurred_at.astimezone(clock.zone()).strftime("%d/%m/%Y")
        hours, minutes = divmod(sequence.duration_minutes, 60)
        found.append(
            {
                "type": ["Evidence"],
                "name": f"{KIND_LABELS[sequence.kind]} du {day} ({hours} h {minutes:02d})",
                "genre": "Séquence AFEST signée",
                "description": (
                    "Signée par le·la tuteur·rice et contresignée par l'apprenant·e ; "
                    f"empreinte SHA-256 du contenu signé : {tutor}"
                ),
            }
        )
    return found


def _final(view: ProtocolView) -> Evaluation | None:
    """The current final evaluation, signed by the tutor."""
    corrected = {e.amends_id for e in view.evaluations if e.amends_id}
    finals = [
        e
        for e in view.evaluations
        if e.kind == EvaluationKind.FINAL
        and e.id not in corrected
        and _signed_hash(view, SignedKind.EVALUATION, e.id, SignerRole.TUTOR)
    ]
    return finals[-1] if finals else None


def _protocol_earned(session: Session, protocol: Protocol) -> list[Earned]:
    view = protocol_view(session, protocol)
    worked = competences_of(session, [s.id for s in view.sequences])
    final = _final(view)
    earned: list[Earned] = []
    common = {
        "source_kind": FROM_PROTOCOL,
        "source_id": protocol.id,
        "source_public_id": protocol.public_id,
        "issuer": protocol.structure,
        "referential": protocol.referential,
        "started": protocol.planned_start,
        "ended": protocol.ended_at.date() if protocol.ended_at else None,
    }
    if final is not None:
        given: dict[int, Level] = dict(levels_given(session, final.id))
        digest = _signed_hash(view, SignedKind.EVALUATION, final.id, SignerRole.TUTOR)
        final_evidence = {
            "type": ["Evidence"],
            "name": f"Évaluation finale du {final.evaluated_on:%d/%m/%Y}",
            "genre": "Évaluation AFEST signée",
            "description": f"Signée par le·la tuteur·rice ; empreinte SHA-256 : {digest}",
        }
        for block in view.blocks:
            ids = {pc.competence_id for pc in block.competences}
            if ids and all(given.get(i) is not None and given[i].acquired for i in ids):
                criteria = (
                    "Chaque compétence du bloc visée par l'AFEST atteint un niveau acquis à "
                    f"l'évaluation finale du {final.evaluated_on:%d/%m/%Y}, signée par le·la "
                    f"tuteur·rice ({len(ids)} compétence(s))."
                )
                earned.append(
                    Earned(
                        BLOCK,
                        block_code=block.code,
                        title=block.title,
                        criteria=criteria,
                        evidence=[*_evidence_of_sequences(view, worked, ids), final_evidence],
                        **common,
                    )
                )
    if protocol.status == ProtocolStatus.COMPLETED:
        hours = view.minutes_done // 60
        earned.append(
            Earned(
                PARTICIPATION,
                block_code="",
                title=f"AFEST : {protocol.title}",
                criteria=(
                    "Action de formation en situation de travail (articles L6313-2 et D6313-3-2 "
                    "du Code du travail) suivie jusqu'à son terme : mises en situation de travail "
                    f"et séquences réflexives, {hours} h réalisées."
                ),
                evidence=_evidence_of_sequences(view, worked, None),
                **common,
            )
        )
    return earned


def _vae_earned(session: Session, learner_id: int) -> list[Earned]:
    jury = aliased(VaeMilestone)
    rows = session.exec(
        select(VaePathway, CompetenceBlock, jury)
        .join(VaeBlockResult, VaeBlockResult.pathway_id == VaePathway.id)
        .join(CompetenceBlock, CompetenceBlock.id == VaeBlockResult.block_id)
        .join(jury, jury.id == VaeBlockResult.milestone_id)
        .where(
            VaePathway.learner_id == learner_id, VaeBlockResult.outcome == BlockOutcome.VALIDATED
        )
        .order_by(VaePathway.id, CompetenceBlock.code)
    ).all()
    earned = []
    for pathway, block, milestone in rows:
        on = milestone.jury_date or milestone.occurred_on
        place = f", {milestone.jury_place}" if milestone.jury_place else ""
        earned.append(
            Earned(
                BLOCK,
                source_kind=FROM_VAE,
                source_id=pathway.id,
                source_public_id=pathway.public_id,
                block_code=block.code,
                title=block.title,
                issuer=session.get(Organisation, pathway.structure_id),
                referential=session.get(Referential, pathway.referential_id),
                criteria=f"Bloc validé par le jury de VAE du {on:%d/%m/%Y}{place}.",
                evidence=[
                    {
                        "type": ["Evidence"],
                        "name": f"Jury de VAE du {on:%d/%m/%Y}{place}",
                        "genre": "Décision du jury de certification",
                    }
                ],
                ended=on,
            )
        )
    return earned


def earned_by(session: Session, learner: User) -> list[Earned]:
    """Everything the learner has earned, each with its issued credential if she has one."""
    protocols = session.exec(
        select(Protocol)
        .where(Protocol.learner_id == learner.id)
        .options(*with_parents())
        .order_by(Protocol.id)
    ).unique().all()
    earned = [e for p in protocols for e in _protocol_earned(session, p)]
    earned += _vae_earned(session, learner.id)
    issued = {
        (c.kind, c.source_kind, c.source_id, c.block_code): c
        for c in session.exec(
            select(IssuedCredential).where(IssuedCredential.learner_id == learner.id)
        )
    }
    for item in earned:
        item.issued = issued.get((item.kind, item.source_kind, item.source_id, item.block_code))
    return earned


def find_earned(session: Session, learner: User, key: str | None) -> Earned | None:
    """What the learner has earned under this key (Earned.key), if anything."""
    return next((e for e in earned_by(session, learner) if e.key == key), None)


# --- the credential -----------------------------------------------------------------------------


def _moment(day: date | None) -> str | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _alignment(item: Earned) -> list[dict]:
    referential = item.referential
    if referential.kind != ReferentialKind.CERTIFICATION or not referential.code.startswith("RNCP"):
        return []
    number = referential.code.removeprefix("RNCP")
    code = item.block_code or referential.code
    return [
        {
            "type": ["Alignment"],
            "targetName": item.title if item.block_code else referential.title,
            "targetUrl": f"https://www.francecompetences.fr/recherche/rncp/{number}/",
            "targetFramework": "RNCP",
            "targetCode": code,
            "targetType": "ext:RNCPBlocCompetences" if item.block_code else "ceterms:Credential",
        }
    ]


def _identity(learner: User, salt: str) -> list[dict]:
    """Who she is: her name as written, and her e-mail address hashed (an employer she gives
    the credential to can check it against the address she gives, nobody can read it)."""
    digest = hashlib.sha256((learner.email.lower() + salt).encode()).hexdigest()
    return [
        {
            "type": "IdentityObject",
            "hashed": False,
            "identityHash": learner.full_name,
            "identityType": "name",
        },
        {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": f"sha256${digest}",
            "identityType": "emailAddress",
            "salt": salt,
        },
    ]


def credential(
    item: Earned, learner: User, *, credential_id: str, issued_at: datetime, base_url: str
) -> dict:
    """The OpenBadgeCredential's JSON (what the JWT carries)."""
    issuer = item.issuer
    referential = item.referential
    achievement_id = (
        f"{base_url}referentiels/{referential.code}/blocs/{item.block_code}"
        if item.block_code
        else f"{base_url}afest/{item.source_public_id}"
    )
    achievement = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Competency" if item.kind == BLOCK else "CertificateOfCompletion",
        "name": item.title,
        "description": (
            f"Bloc de compétences {item.block_code} — {referential.code} {referential.title}"
            if item.block_code
            else f"Certificat de participation à une AFEST ({referential.code} {referential.title})"
        ),
        "criteria": {"narrative": item.criteria},
        "inLanguage": "fr",
    }
    if item.block_code:
        achievement["humanCode"] = item.block_code
    if alignment := _alignment(item):
        achievement["alignment"] = alignment
    subject = {
        "type": ["AchievementSubject"],
        "identifier": _identity(learner, secrets.token_hex(8)),
        "achievement": achievement,
    }
    if item.started:
        subject["activityStartDate"] = _moment(item.started)
    if item.ended:
        subject["activityEndDate"] = _moment(item.ended)
    profile = {
        "id": f"{base_url}emetteurs/{issuer.public_id}",
        "type": ["Profile"],
        "name": issuer.name,
        "description": "Structure émettrice, par la plateforme afest",
    }
    if getattr(issuer, "siret", None):
        profile["otherIdentifier"] = [
            {"type": "IdentifierEntry", "identifier": issuer.siret, "identifierType": "identifier"}
        ]
    body = {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": item.title,
        "issuer": profile,
        "validFrom": issued_at.astimezone(UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{base_url}badges/revocations",
            "type": "1EdTechRevocationList",
        },
    }
    if item.evidence:
        body["evidence"] = item.evidence
    return body


def issue(
    session: Session, item: Earned, learner: User, *, actor_id: int, app, base_url: str
) -> IssuedCredential:
    """Issue the credential (once: a second demand gives the first), signed, kept, audited."""
    if item.issued is not None:
        return item.issued
    issued_at = utcnow()
    credential_uuid = str(uuid.uuid4())
    body = credential(
        item,
        learner,
        credential_id=f"urn:uuid:{credential_uuid}",
        issued_at=issued_at,
        base_url=base_url,
    )
    key = keys.signing_key(app)
    header = {"alg": keys.ALGORITHM, "kid": key.kid, "typ": "vc+jwt", "cty": "vc"}
    token = jwt.encode(header, body, key, algorithms=[keys.ALGORITHM])
    row = IssuedCredential(
        uuid=credential_uuid,
        learner_id=learner.id,
        issuer_id=item.issuer.id,
        kind=item.kind,
        source_kind=item.source_kind,
        source_id=item.source_id,
        block_code=item.block_code,
        title=item.title[:300],
        issued_at=issued_at,
        issued_by_id=actor_id,
        jwt=token,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="credential.issue",
        subject_kind="credential",
        subject_id=row.id,
        protocol_id=item.source_id if item.source_kind == FROM_PROTOCOL else None,
        structure_id=item.issuer.id,
        after={
            "credential": row.uuid,
            "kind": row.kind,
            "block": row.block_code,
            "sha256": hashlib.sha256(token.encode()).hexdigest(),
        },
    )
    item.issued = row
    return row


def revoke(session: Session, row: IssuedCredential, *, actor_id: int, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_l("Indiquez le motif de la révocation."), field="reason")
    if row.revoked_at is not None:
        raise ServiceError(_l("Ce badge est déjà révoqué."))
    row.revoked_at, row.revoked_by_id, row.revocation_reason = utcnow(), actor_id, reason[:2000]
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="credential.revoke",
        subject_kind="credential",
        subject_id=row.id,
        protocol_id=row.source_id if row.source_kind == FROM_PROTOCOL else None,
        structure_id=row.issuer_id,
        after={"credential": row.uuid, "reason": row.revocation_reason},
    )


# --- verification --------------------------------------------------------------------------------


@dataclass
class Verdict:
    valid: bool
    problems: list[str] = field(default_factory=list)
    row: IssuedCredential | None = None
    body: dict | None = None
    issuer: Organisation | None = None
    learner_name: str = ""

    def as_json(self) -> dict:
        return {
            "valid": self.valid,
            "problems": [str(p) for p in self.problems],
            "credential": self.body.get("id") if self.body else None,
            "name": self.body.get("name") if self.body else None,
            "issuer": self.issuer.name if self.issuer else None,
            "issued_at": self.row.issued_at.isoformat() if self.row else None,
            "revoked": bool(self.row and self.row.revoked_at),
        }


def verify(session: Session, token: str, app) -> Verdict:
    """Check a credential as given: its signature with the platform's published keys, that
    the platform issued exactly this one, and that it is not revoked."""
    token = "".join((token or "").split())
    if token.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            token = json.loads(token).get("jwt", "") or token
    key_set = KeySet.import_key_set(keys.jwks(app))
    try:
        decoded = jwt.decode(token, key_set, algorithms=[keys.ALGORITHM])
    except (JoseError, ValueError, KeyError, TypeError):
        return Verdict(
            False,
            [
                _l(
                    "Signature invalide : ce badge n'a pas été signé par cette plateforme, "
                    "ou il a été modifié."
                )
            ],
        )
    body = decoded.claims
    credential_id = str(body.get("id", ""))
    row = session.exec(
        select(IssuedCredential).where(
            IssuedCredential.uuid == credential_id.removeprefix("urn:uuid:")
        )
    ).first()
    if row is None or row.jwt != token:
        return Verdict(False, [_l("Ce badge n'a pas été émis par cette plateforme.")], body=body)
    verdict = Verdict(True, [], row, body, session.get(Organisation, row.issuer_id))
    if row.revoked_at is not None:
        verdict.valid = False
        verdict.problems.append(
            _l(
                "Badge révoqué le %(d)s : %(r)s",
                d=row.revoked_at.strftime("%d/%m/%Y"),
                r=row.revocation_reason,
            )
        )
    return verdict


def revocation_list(session: Session, base_url: str) -> dict:
    """The 1EdTech revocation list the credentials' status points to."""
    rows = session.exec(
        select(IssuedCredential.uuid, IssuedCredential.revocation_reason)
        .where(IssuedCredential.revoked_at.is_not(None))
        .order_by(IssuedCredential.id)
    ).all()
    return {
        "id": f"{base_url}badges/revocations",
        "revokedCredentials": [
            {"id": f"urn:uuid:{u}", "revocationReason": reason} for u, reason in rows
        ],
    }
