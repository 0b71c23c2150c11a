"""What an uploaded proof file proves: a pack's ZIP or one sealed PDF, checked as an auditor
would, without an account.

A ZIP: its manifest's detached seal, every file against the manifest's size and SHA-256 (and
no file the manifest does not list), each PDF's PAdES seal, the pack PDF's verification code
(proofpack.verify_code: the signatures it covers still hash as stored, and each signed record
still matches its signature), and the manifest's signatures against the database. A PDF: its
seal, and its code when it is a pack. The code of the pack's first page is written in the
seal's reason (seal.seal), which the seal itself protects.

Nothing is read before its size is known: the upload is bounded by the request's limit, and a
ZIP's entries by their declared sizes (at most MAX_ENTRY each, MAX_TOTAL in all, a ratio of
MAX_RATIO to their compressed size) before a byte of them is inflated, and then read no
further than declared.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, select

from afest.models import Protocol, Signature
from afest.proof import bundle, proofpack, seal
from afest.proof.proofpack import _signature_scope

MAX_UPLOAD = 20 * 1024 * 1024
MAX_ENTRIES = 500
MAX_ENTRY = 50 * 1024 * 1024
MAX_TOTAL = 100 * 1024 * 1024
MAX_RATIO = 100  # a pack's PDF deflates to about 1:1, its CSV to 1:5; a bomb to 1:1000


class BadUpload(ValueError):
    """The file is not one this page can check: said beside the field."""


CLAIM_KIND = "afest-funding-claim"  # afest.proof.claims's manifest


@dataclass
class Check:
    ok: bool
    text: str


@dataclass
class Report:
    kind: str  # "zip" | "pdf"
    checks: list[Check] = field(default_factory=list)
    protocol_title: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, ok: bool, text: str) -> None:
        self.checks.append(Check(ok, text))


def kind_of(data: bytes) -> str:
    """ "zip" or "pdf" by the file's first bytes (its name says nothing), else BadUpload."""
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    raise BadUpload(_("Ce fichier n'est ni un ZIP ni un PDF : envoyez le dossier reçu tel quel."))


def check(session: Session, data: bytes, *, secret: str, sealer: seal.Sealer) -> Report:
    """Check an uploaded file; BadUpload when it is no ZIP or PDF that can be read safely."""
    if kind_of(data) == "pdf":
        report = Report("pdf")
        _check_pdf(session, report, _("Le PDF"), data, secret=secret, sealer=sealer)
        return report
    return _check_zip(session, _read_zip(data), secret=secret, sealer=sealer)


def _read_zip(data: bytes) -> dict[str, bytes]:
    """The files of a ZIP, their sizes checked before they are inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, NotImplementedError):
        raise BadUpload(_("Ce ZIP est illisible (abîmé ou incomplet).")) from None
    too_big = _("Ce ZIP se décompresse en plus de %(mb)d Mo : ce n'est pas un dossier de preuve.")
    if len(entries) > MAX_ENTRIES:
        raise BadUpload(_("Ce ZIP contient plus de %(n)d fichiers.", n=MAX_ENTRIES))
    total = sum(i.file_size for i in entries)
    if total > MAX_TOTAL or any(i.file_size > MAX_ENTRY for i in entries):
        raise BadUpload(too_big % {"mb": MAX_TOTAL // (1024 * 1024)})
    if any(i.file_size > MAX_RATIO * max(i.compress_size, 1) + 4096 for i in entries):
        raise BadUpload(
            _(
                "Ce ZIP se décompresse à plus de %(n)d fois sa taille : ce n'est pas un "
                "dossier de preuve.",
                n=MAX_RATIO,
            )
        )
    files: dict[str, bytes] = {}
    try:
        for info in entries:
            with archive.open(info) as member:
                body = member.read(info.file_size + 1)  # never beyond what it declared
            if len(body) != info.file_size:
                raise BadUpload(_("Ce ZIP est illisible (abîmé ou incomplet)."))
            files[info.filename] = body
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError) as error:
        if isinstance(error, BadUpload):
            raise
        raise BadUpload(_("Ce ZIP est illisible (abîmé ou incomplet).")) from None
    return files


def _check_zip(session: Session, files: dict[str, bytes], *, secret: str, sealer) -> Report:
    report = Report("zip")
    raw = files.get(bundle.MANIFEST)
    if raw is None:
        raise BadUpload(
            _("Ce ZIP ne contient pas de manifest.json : ce n'est pas un dossier afest.")
        )
    try:
        manifest = json.loads(raw)
        entries = {str(e["name"]): e for e in manifest["files"]}
    except (ValueError, KeyError, TypeError):
        raise BadUpload(_("Le manifest.json de ce ZIP est illisible.")) from None
    signature = files.get(bundle.MANIFEST_SEAL, b"")
    if seal.check_detached(raw, signature, using=sealer):
        report.add(
            True, _("Le manifeste est scellé par cette plateforme et n'a pas changé depuis.")
        )
    else:
        report.add(
            False,
            _(
                "Le sceau du manifeste ne correspond pas : le manifeste a été modifié, ou il "
                "n'a pas été produit par cette plateforme."
            ),
        )
    for name, entry in entries.items():
        body = files.get(name)
        if body is None:
            report.add(False, _("« %(name)s » manque dans le ZIP.", name=name))
        elif len(body) != entry.get("size") or seal.sha256(body) != entry.get("sha256"):
            report.add(False, _("« %(name)s » a été modifié depuis l'export.", name=name))
        else:
            report.add(True, _("« %(name)s » est celui que décrit le manifeste.", name=name))
    for name in sorted(set(files) - set(entries) - {bundle.MANIFEST, bundle.MANIFEST_SEAL}):
        report.add(False, _("« %(name)s » a été ajouté au ZIP après l'export.", name=name))
    for name in sorted(n for n in files if n.lower().endswith(".pdf") and n in entries):
        _check_pdf(session, report, f"« {name} »", files[name], secret=secret, sealer=sealer)
    if manifest.get("kind") == CLAIM_KIND:
        _check_packs(session, report, files, entries, secret=secret, sealer=sealer)
    else:
        _check_signatures(session, report, manifest)
    return report


def _check_packs(session, report: Report, files, entries, *, secret: str, sealer) -> None:
    """A funding claim (afest.proof.claims) holds a pack's ZIP per protocol: each is checked
    as an uploaded pack would be, one at a time."""
    for name in sorted(n for n in entries if n.lower().endswith(".zip") and n in files):
        try:
            inner = _check_zip(session, _read_zip(files[name]), secret=secret, sealer=sealer)
        except BadUpload as problem:
            report.add(False, f"« {name} » : {problem}")
            continue
        for c in inner.checks:
            report.add(c.ok, f"« {name} » : {c.text}")


def _check_pdf(session, report: Report, label: str, pdf: bytes, *, secret: str, sealer) -> None:
    found = seal.check_pdf(pdf, using=sealer)
    if not found.sealed:
        report.add(False, _("%(label)s ne porte pas le sceau de la plateforme.", label=label))
        return
    if not found.valid:
        report.add(
            False,
            _(
                "%(label)s : le sceau ne correspond pas au contenu (document modifié après son "
                "scellement) ou n'est pas celui de cette plateforme.",
                label=label,
            ),
        )
        return
    report.add(
        True,
        _(
            "%(label)s est scellé par cette plateforme et n'a pas changé d'un octet depuis.",
            label=label,
        ),
    )
    match = proofpack.CODE.search(seal.reason(pdf))
    if match is None:
        return  # a document without verification codes (a statement of expenses)
    result = proofpack.verify_code(session, match.group(0), secret=secret)
    if not result.valid:
        report.add(
            False,
            _(
                "%(label)s : ses codes de vérification ne correspondent plus aux signatures "
                "enregistrées (une signature a été retirée ou modifiée).",
                label=label,
            ),
        )
    elif result.altered:
        report.add(
            False,
            _(
                "%(label)s : des documents signés ont changé depuis leur signature : %(list)s.",
                label=label,
                list=", ".join(result.altered),
            ),
        )
    else:
        report.protocol_title = result.protocol.title
        report.add(
            True,
            _(
                "%(label)s : ses codes de vérification sont authentiques et les %(n)d "
                "signature(s) qu'il couvre correspondent aux documents enregistrés.",
                label=label,
                n=result.signatures,
            ),
        )


def _check_signatures(session: Session, report: Report, manifest: dict) -> None:
    """The manifest's signatures are the ones the database holds for that pack."""
    try:
        public_id = str(manifest["protocol"]["id"])
        last = int(manifest["last_signature"])
        listed = {(str(s["id"]), str(s["content_sha256"])) for s in manifest["signatures"]}
    except (KeyError, TypeError, ValueError):
        report.add(False, _("Le manifeste ne liste pas les signatures du dossier."))
        return
    protocol = session.exec(select(Protocol).where(Protocol.public_id == public_id)).first()
    if protocol is None:
        report.add(False, _("Le protocole de ce dossier n'existe pas sur cette plateforme."))
        return
    stored = set(
        session.exec(
            select(Signature.public_id, Signature.content_hash).where(
                _signature_scope(protocol.id), Signature.id <= last
            )
        ).all()
    )
    if stored == listed:
        report.add(
            True,
            _(
                "Les %(n)d signature(s) du manifeste sont celles que la plateforme a enregistrées.",
                n=len(listed),
            ),
        )
    else:
        report.add(
            False,
            _(
                "Les signatures du manifeste diffèrent de celles enregistrées : %(missing)d "
                "absente(s) de la base, %(extra)d absente(s) du manifeste.",
                missing=len(listed - stored),
                extra=len(stored - listed),
            ),
        )
