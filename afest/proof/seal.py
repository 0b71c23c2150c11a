"""The platform's seal: a PAdES signature on every PDF afest hands out, and a detached CMS
signature on a pack's manifest, both by the platform's certificate.

In production the certificate and its key are configured (SEAL_CERT, SEAL_KEY: PEM files;
the key's passphrase in AFEST_SEAL_KEY_PASSWORD). Elsewhere (`make run`, tests), when they are
not set, a self-signed certificate is made on first use under the instance folder
(`instance/seal/platform-seal.pem`, key and certificate in one file written at once, so that
two processes starting together keep the same one).

The signatures are PAdES B-B (no time-stamp: no time-stamping authority is reachable from
every installation), so they prove who sealed the document and that not a byte changed since;
the signing time they state is the platform's own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

FILE_NAME = "platform-seal.pem"
FIELD = "AfestSeal"


class SealNotConfigured(RuntimeError):
    """Production without SEAL_CERT and SEAL_KEY: no document may go out unsealed."""


@dataclass(frozen=True)
class Sealer:
    """The platform's key and certificate (with the chain that configured it, if any)."""

    key: object
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def asn1_certificate(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))


def _self_signed(name: str) -> bytes:
    """A new P-256 key and a self-signed certificate of ten years, as one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "afest (certificat de développement)"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem_key + certificate.public_bytes(serialization.Encoding.PEM)


def _made_once(folder: Path) -> Path:
    """The self-signed seal under `folder`, made if missing; a process that loses the race to
    make it reads the winner's (os.link does not replace an existing file)."""
    path = folder / FILE_NAME
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".seal-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_self_signed("afest — plateforme (développement)"))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path


@lru_cache(maxsize=4)
def _load(cert_path: str, key_path: str, password: str) -> Sealer:
    key_pem = Path(key_path).read_bytes()
    key = serialization.load_pem_private_key(key_pem, password.encode() or None)
    certificates = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
    return Sealer(key, certificates[0], tuple(certificates[1:]))


def sealer(app) -> Sealer:
    """The platform's sealer of `app`, loaded once per process."""
    config = app.config
    cert, key = config.get("SEAL_CERT") or "", config.get("SEAL_KEY") or ""
    if not (cert and key):
        if config.get("ENV") == "production":
            raise SealNotConfigured(
                "SEAL_CERT and SEAL_KEY must name the platform's certificate and key in "
                "production (PEM files; the key's passphrase in AFEST_SEAL_KEY_PASSWORD)."
            )
        folder = config.get("SEAL_DIR") or os.path.join(app.instance_path, "seal")
        cert = key = str(_made_once(Path(folder)))
    return _load(cert, key, config.get("SEAL_KEY_PASSWORD") or "")


# --- PDF: PAdES ---------------------------------------------------------------------------


def warm_up() -> float:
    """Import pyHanko (about 0.3 s), once per web worker as it starts (config/gunicorn.conf.py),
    rather than in the first proof pack it serves; return the seconds."""
    import time

    start = time.perf_counter()
    from pyhanko.pdf_utils import incremental_writer, reader  # noqa: F401
    from pyhanko.sign import signers, validation  # noqa: F401

    return time.perf_counter() - start


def _pyhanko_signer(s: Sealer):
    from asn1crypto import keys
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der = s.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in s.chain
    ]
    return signers.SimpleSigner(
        signing_cert=s.asn1_certificate(),
        signing_key=keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


_SIGNERS: dict[str, object] = {}


def _outside_a_loop(call, *args, **kwargs):
    """pyHanko's synchronous calls run an event loop of their own (asyncio.run), which Python
    refuses in a thread where a loop already runs (an async server, a browser test's
    driver): there, the call runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


def seal(pdf: bytes, *, using: Sealer, reason: str = "Dossier de preuve afest") -> bytes:
    """The PDF with a PAdES B-B signature of the platform over all of it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = _SIGNERS.get(using.fingerprint)
    if signer is None:
        signer = _SIGNERS[using.fingerprint] = _pyhanko_signer(using)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        name="afest",
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    return _outside_a_loop(signers.sign_pdf, writer, meta, signer=signer).getvalue()


@dataclass
class PdfCheck:
    """What the PAdES check of one PDF found."""

    sealed: bool  # it holds a signature at all
    intact: bool = False  # the signed bytes hash as signed, the signature is the key's
    trusted: bool = False  # ... by the platform's certificate
    whole: bool = False  # the signature covers the whole file (nothing added after it)
    signed_at: datetime | None = None
    problem: str = ""

    @property
    def valid(self) -> bool:
        return self.sealed and self.intact and self.trusted and self.whole


def check_pdf(pdf: bytes, *, using: Sealer) -> PdfCheck:
    """Validate the PDF's signature(s) with pyHanko, the platform's certificate the only root."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as error:  # noqa: BLE001 (any malformed file is a failed check)
        return PdfCheck(False, problem=f"unreadable: {type(error).__name__}")
    if not embedded:
        return PdfCheck(False, problem="unsigned")
    context = ValidationContext(trust_roots=[using.asn1_certificate()])
    sig = embedded[-1]
    try:
        status = _outside_a_loop(validate_pdf_signature, sig, context)
    except Exception as error:  # noqa: BLE001 (a broken signature is a failed check)
        return PdfCheck(True, problem=f"invalid: {type(error).__name__}")
    return PdfCheck(
        True,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        whole=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signed_at=status.signer_reported_dt,
    )


def reason(pdf: bytes) -> str:
    """The reason the PDF's last signature states ("" when none can be read)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        embedded = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
        return str(embedded[-1].sig_object.get("/Reason", "")) if embedded else ""
    except Exception:  # noqa: BLE001 (an unreadable file states no reason)
        return ""


# --- the manifest: a detached CMS signature -------------------------------------------------


def sign_detached(data: bytes, *, using: Sealer) -> bytes:
    """A detached CMS (PKCS #7) signature of `data`, DER: what
    `openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json
    -CAfile platform-certificate.pem` checks."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(using.certificate, using.key, hashes.SHA256())
    for extra in using.chain:
        builder = builder.add_certificate(extra)
    return builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )


def check_detached(data: bytes, signature: bytes, *, using: Sealer) -> bool:
    """Whether `signature` is the platform's detached CMS signature of exactly `data`."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    try:
        content = cms.ContentInfo.load(signature)
        signed_data = content["content"]
        if content["content_type"].native != "signed_data":
            return False
        context = ValidationContext(trust_roots=[using.asn1_certificate()])
        status = _outside_a_loop(
            asyncio.run,
            async_validate_detached_cms(data, signed_data, signer_validation_context=context),
        )
    except Exception:  # noqa: BLE001 (anything malformed is no valid seal)
        return False
    return bool(status.intact and status.valid and status.trusted)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
