"""Signing sequences: the designated tutor signs, then the learner countersigns, each typing
their own secret again on a shared tablet (a PIN or a password for the tutor, the password for
the learner). Only the current version of a sequence is signed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.accounts.operations import verify_secret
from afest.core.errors import ServiceError, form_error
from afest.models import Protocol, Sequence, SignedKind, SignerRole, User
from afest.proof import signatures
from afest.sequences.operations import log_sequence

METHOD_PIN = "pin"
METHOD_PASSWORD = "password"  # noqa: S105 (a method name, not a secret)
METHOD_TABLET = "password-tablet"  # the learner typed their password on the tutor's tablet


def confirm_secret(user: User, secret: str, *, allow_pin: bool) -> str:
    """Check `user`'s PIN (when allowed) or password; return the method used.

    A shared tablet stays signed in as the tutor, so each signature asks again who is there.
    """
    secret = secret or ""
    looks_like_pin = secret.isdigit() and len(secret) <= 12
    if allow_pin and looks_like_pin and user.pin_hash and verify_secret(user.pin_hash, secret):
        return METHOD_PIN
    if secret and verify_secret(user.password_hash, secret):
        return METHOD_PASSWORD
    raise ServiceError(
        _l("Code PIN ou mot de passe incorrect.") if allow_pin else _l("Mot de passe incorrect."),
        field="secret",
    )


class ConfirmsSecret:
    """Of a form with a `secret` field (a sequence's or an evaluation's signature, the
    tablet's "Enregistrer et signer"): the signer typed their own secret again; a PIN counts
    when `allow_pin` says so."""

    allow_pin = False

    def confirmed(self, session: Session, user_id: int) -> str | None:
        """How the user confirmed (METHOD_PIN or METHOD_PASSWORD), or None with the reason
        beside the secret. Views ask before their write: the check is slow on purpose
        (argon2), and on SQLite the write holds the database-wide lock."""
        user = session.get(User, user_id)
        try:
            return confirm_secret(user, self.secret.data, allow_pin=self.allow_pin)
        except ServiceError as exc:
            form_error(self, exc, default="secret")
            return None


def sign_as_tutor(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    sequence: Sequence,
    secret: str | None = None,
    method: str | None = None,
) -> None:
    """The designated tutor (the actor) signs a current (not amended) sequence after typing
    their PIN or password.

    `method` is given instead of `secret` when the caller has already run confirm_secret —
    the views do, before their write transaction opens, because the check is slow on purpose.
    """
    _require_current(session, sequence)
    method = method or confirm_secret(session.get(User, actor_id), secret or "", allow_pin=True)
    sign_sequence(
        session,
        actor_id=actor_id,
        protocol=protocol,
        sequence=sequence,
        role=SignerRole.TUTOR,
        method=method,
    )


def log_signed(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    method: str,
    **entry,
) -> tuple[Sequence, bool]:
    """Save an entry and sign it as its tutor in one transaction (the tablet's "Enregistrer
    et signer", `method` from confirm_secret): `entry` is log_sequence's. A resend of an entry
    saved before signs it if she has not signed it yet, and changes nothing otherwise."""
    sequence, created = log_sequence(session, actor_id=actor_id, protocol=protocol, **entry)
    if created or not _signed_by(session, sequence, actor_id, SignerRole.TUTOR):
        sign_as_tutor(
            session, actor_id=actor_id, protocol=protocol, sequence=sequence, method=method
        )
    return sequence, created


def _signed_by(session: Session, sequence: Sequence, user_id: int, role: SignerRole) -> bool:
    return any(
        s.signer_id == user_id and s.signer_role == role
        for s in signatures.signatures_of(session, SignedKind.SEQUENCE, sequence.id)
    )


def countersign(
    session: Session,
    *,
    actor_id: int,
    learner: User,
    protocol: Protocol,
    sequence: Sequence,
    password: str | None = None,
    confirmed: bool = False,
) -> None:
    """The learner countersigns: from their own account, or on the tutor's tablet right away.

    Either way the learner's own password is asked, so nobody countersigns for them.
    `confirmed` is given instead of `password` when the caller has already checked it with
    confirm_secret (outside the write transaction, the check being slow on purpose).
    """
    _require_current(session, sequence)
    if not confirmed:
        confirm_secret(learner, password or "", allow_pin=False)
    sign_sequence(
        session,
        actor_id=learner.id,
        protocol=protocol,
        sequence=sequence,
        role=SignerRole.LEARNER,
        method=METHOD_PASSWORD if actor_id == learner.id else METHOD_TABLET,
    )


def _require_current(session: Session, sequence: Sequence) -> None:
    if session.exec(select(Sequence.id).where(Sequence.amends_id == sequence.id)).first():
        raise ServiceError(_l("Cette version a été corrigée : signez la dernière version."))


def is_signed(session: Session, sequence: Sequence) -> bool:
    return bool(signatures.signatures_of(session, SignedKind.SEQUENCE, sequence.id))


def sign_sequence(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    sequence: Sequence,
    role: SignerRole,
    method: str,
) -> None:
    """The designated tutor signs, then the learner countersigns."""
    if role == SignerRole.TUTOR:
        allowed = any(t.tutor_id == actor_id and t.ended_at is None for t in protocol.tutors)
    elif role == SignerRole.LEARNER:
        allowed = actor_id == protocol.learner_id
        tutor_signed = any(
            s.signer_role == SignerRole.TUTOR
            for s in signatures.signatures_of(session, SignedKind.SEQUENCE, sequence.id)
        )
        if allowed and not tutor_signed:
            raise ServiceError(_l("Le·la tuteur·rice signe en premier."))
    else:
        allowed = False
    if not allowed:
        raise ServiceError(_l("Vous ne pouvez pas signer cette séquence à ce titre."))
    signatures.sign(
        session,
        actor_id=actor_id,
        kind=SignedKind.SEQUENCE,
        subject=sequence,
        role=role,
        method=method,
        protocol=protocol,
    )
