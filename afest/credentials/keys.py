"""The key credentials are signed with: the platform's seal key (afest.proof.seal), a P-256
key, used as ES256 (JOSE, by joserfc). Its public part is published as a JWKS, with the seal's
certificate chain (x5c), so that a verifier can check a credential with the JWKS alone, or
tie it to the certificate whose fingerprint the verification page shows."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from afest.proof import seal

ALGORITHM = "ES256"


class UnsuitableKey(RuntimeError):
    """The configured seal key cannot sign credentials (ES256 needs a P-256 key)."""


def signing_key(app) -> ECKey:
    sealer = seal.sealer(app)
    key = sealer.key
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise UnsuitableKey(
            "Credentials are signed in ES256: SEAL_KEY must be a P-256 (prime256v1) key."
        )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private = ECKey.import_key(pem)
    return ECKey.import_key(pem, parameters={"kid": private.thumbprint()})


def jwks(app) -> dict:
    """The public key set: the signing key, with its use, its algorithm and its certificates."""
    sealer = seal.sealer(app)
    key = signing_key(app)
    public = key.as_dict(private=False)
    chain = [sealer.certificate, *sealer.chain]
    public.update(
        use="sig",
        alg=ALGORITHM,
        x5c=[base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in chain],
    )
    return {"keys": [public]}
