"""Forms of the tutor's tablet and of sequences: situation, reflection, signatures, correction.

Choices that depend on the protocol (competences, situations, level scale) are filled in by
the view. Scope rules are checked by the service so that the message says what is wrong
("not targeted by the protocol") rather than a generic "invalid choice".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from sqlmodel import Session
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from afest.assessments.forms import LevelsMixin, posted_levels
from afest.core.errors import ServiceError
from afest.core.forms import CheckboxesField, Form, LocalDateTimeField, SaneDate, record_id
from afest.core.http import format_size
from afest.models import Autonomy, Sequence, SequenceKind
from afest.sequences import attachments, signing
from afest.sequences import operations as sequences
from afest.sequences.operations import TEXT_LIMIT, SequenceData


def new_client_id() -> str:
    return uuid.uuid4().hex


def _text(label, *, rows: int = 3):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=TEXT_LIMIT, message=_l("Texte trop long."))],
        render_kw={"rows": rows},
    )


class SequenceForm(Form):
    """What both kinds share. The client id is made on GET (and by offline.js if missing)."""

    client_id = HiddenField(
        _l("Identifiant de saisie"),  # never shown; WTForms would otherwise make one up
        validators=[DataRequired(_l("Identifiant de saisie manquant."))],
    )
    occurred_at = LocalDateTimeField(
        _l("Date et heure"),
        # a moment to come is refused by the operation, with its tolerance
        validators=[InputRequired(_l("Indiquez la date et l'heure.")), SaneDate()],
    )
    duration_minutes = IntegerField(
        _l("Durée (minutes)"),
        validators=[InputRequired(_l("Indiquez la durée en minutes."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": 720, "step": 5},
    )
    place = TextAreaField(
        _l("Lieu, contexte"),
        validators=[Optional(), Length(max=200, message=_l("200 caractères au plus."))],
        render_kw={"rows": 1},
    )

    attachments = MultipleFileField(
        _l("Photos et documents"),
        description=_l(
            "Photos (JPEG, PNG, HEIC) ou PDF, %(mb)s Mo au plus chacun, %(n)s par séquence. "
            "La localisation et les autres métadonnées des photos sont retirées.",
            mb=attachments.MAX_BYTES // (1024 * 1024),
            n=attachments.MAX_FILES,
        ),
        render_kw={
            "accept": "image/jpeg,image/png,image/heic,image/heif,application/pdf",
            "data-max-bytes": attachments.MAX_BYTES,
        },
    )

    def validate_attachments(self, field) -> None:
        """Each file checked by its content and cleaned (afest.sequences.attachments), before
        anything is written; the reasons beside the field."""
        self.new_attachments: list[attachments.NewAttachment] = []
        sent_files = [f for f in field.data or [] if f]  # a form sent without any: None
        if len(sent_files) > attachments.MAX_FILES:
            field.errors.append(_l("%(n)s fichiers au plus par séquence.", n=attachments.MAX_FILES))
            return
        for sent in sent_files:
            try:
                data = sent.stream.read(attachments.MAX_BYTES + 1)
                self.new_attachments.append(attachments.prepare(sent.filename or "", data))
            except ServiceError as exc:
                field.errors.append(str(exc.message))

    def prepare(self, tz: ZoneInfo, *, now: datetime, default_minutes: int) -> None:
        """Defaults of a fresh entry: a new client id, now, a usual duration."""
        if not self.is_submitted():
            self.client_id.data = self.client_id.data or new_client_id()
            self.occurred_at.data = self.occurred_at.data or now.astimezone(tz).replace(
                tzinfo=None, second=0, microsecond=0
            )
            if self.duration_minutes.data is None:
                self.duration_minutes.data = default_minutes

    def to_data(self, tz: ZoneInfo) -> SequenceData:
        return SequenceData(
            client_id=self.client_id.data,
            occurred_at=self.occurred_at.data.replace(tzinfo=tz),
            duration_minutes=self.duration_minutes.data,
            place=self.place.data or "",
            attachments=list(getattr(self, "new_attachments", [])),
        )


class SignNowMixin(signing.ConfirmsSecret):
    """Save and sign in one tap: the tutor types her PIN (or password) on the entry form and
    taps "Enregistrer et signer"; "Enregistrer sans signer" saves it for a later signature,
    as before. The secret is checked before the write (afest.sequences.signing)."""

    allow_pin = True

    secret = PasswordField(
        _l("Votre code PIN, pour signer maintenant"),
        validators=[Optional()],
        render_kw={"autocomplete": "off"},
    )
    sign = SubmitField(_l("Enregistrer et signer"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.sign.data and not self.secret.data:
            message = _l("Tapez votre code PIN pour signer, ou enregistrez sans signer.")
            self.secret.errors = [*self.secret.errors, message]
            return False
        return valid

    def signing_now(self) -> bool:
        """Whether the tutor asked to sign (with her secret: `validate` checks it is there)."""
        return bool(self.sign.data)

    def operation(self, session: Session, user_id: int) -> Callable | None:
        """What saves the entry: log_sequence, or, when she signs now, signing.log_signed
        with how she confirmed (PIN or password, checked here, before the write: the check is
        slow on purpose); None for a wrong secret, its reason beside the field."""
        if not self.signing_now():
            return sequences.log_sequence
        method = self.confirmed(session, user_id)
        return partial(signing.log_signed, method=method) if method else None


class SituationForm(SequenceForm):
    autonomy = RadioField(
        _l("Modalité"),
        choices=[
            SelectChoice(Autonomy.ACCOMPANIED.value, _l("Accompagnée")),
            SelectChoice(Autonomy.ALONE.value, _l("En autonomie")),
        ],
        default=Autonomy.ACCOMPANIED.value,
        validators=[InputRequired(_l("Indiquez si la situation est accompagnée ou non."))],
    )
    competence_ids = CheckboxesField(
        _l("Compétences visées"), coerce=record_id, validate_choice=False
    )
    intent = _text(_l("Intention pédagogique annoncée"))
    observations = _text(_l("Observations du·de la tuteur·rice"), rows=4)

    def to_data(self, tz: ZoneInfo) -> SequenceData:
        data = super().to_data(tz)
        data.autonomy = Autonomy(self.autonomy.data)
        data.competence_ids = list(self.competence_ids.data or [])
        data.intent = self.intent.data or ""
        data.observations = self.observations.data or ""
        return data


class ReflectionForm(LevelsMixin, SequenceForm):
    situation_ids = CheckboxesField(
        _l("Situations analysées"), coerce=record_id, validate_choice=False
    )
    expected = _text(_l("Ce qui était attendu"))
    achieved = _text(_l("Ce qui a été fait"))
    learnt = _text(_l("Ce qui a été appris"))
    gaps = _text(_l("Les écarts"))
    learner_words = _text(_l("Les mots de l'apprenant·e"))
    next_step = _text(_l("La prochaine étape"))

    def to_data(self, tz: ZoneInfo) -> SequenceData:
        data = super().to_data(tz)
        data.situation_ids = list(self.situation_ids.data or [])
        data.levels = dict(self.levels)
        for name in ("expected", "achieved", "learnt", "gaps", "learner_words", "next_step"):
            setattr(data, name, getattr(self, name).data or "")
        return data


def reflection_choices(args: Mapping[str, str]) -> tuple[list[int], dict[int, int]]:
    """The situations and the levels a reflection form has chosen so far, as its htmx refresh
    sends them in the query string: garbage names no situation and chooses no level."""
    situation_ids = []
    for value in args.getlist("situation_ids"):
        with suppress(ValueError):
            situation_ids.append(record_id(value))
    try:
        return situation_ids, posted_levels(args)
    except ValueError:
        return situation_ids, {}


class AmendmentMixin:
    kept_attachments = CheckboxesField(
        _l("Fichiers joints à garder"), coerce=record_id, validate_choice=False
    )
    reason = TextAreaField(
        _l("Motif de la correction"),
        validators=[
            DataRequired(_l("Indiquez le motif de la correction.")),
            Length(max=2000, message=_l("2000 caractères au plus.")),
        ],
        render_kw={"rows": 2},
    )

    def amendment(self, tz: ZoneInfo) -> dict:
        """The arguments of sequences.amend_sequence, as entered: the new version, why."""
        data = self.to_data(tz)
        data.kept_attachment_ids = list(self.kept_attachments.data or [])
        return {"data": data, "reason": self.reason.data, "tz": tz}


class TabletSituationForm(SignNowMixin, SituationForm):
    pass


class TabletReflectionForm(SignNowMixin, ReflectionForm):
    pass


class SituationAmendForm(SituationForm, AmendmentMixin):
    pass


class ReflectionAmendForm(ReflectionForm, AmendmentMixin):
    pass


class SecretForm(signing.ConfirmsSecret, Form):
    """A signature confirmed on a shared tablet: the signer types their own secret again."""


class TutorSignForm(SecretForm):
    allow_pin = True

    secret = PasswordField(
        _l("Votre code PIN ou mot de passe"),
        validators=[DataRequired(_l("Tapez votre code PIN ou votre mot de passe."))],
        render_kw={"autocomplete": "off", "inputmode": "text"},
    )


class CountersignForm(SecretForm):
    secret = PasswordField(
        _l("Mot de passe de l'apprenant·e"),
        validators=[DataRequired(_l("Tapez le mot de passe de l'apprenant·e."))],
        render_kw={"autocomplete": "off"},
    )


def amendment_form(session: Session, sequence: Sequence, *, zone: ZoneInfo) -> SequenceForm:
    """The correction form of a sequence, of its kind; shown first filled with the sequence
    as it stands, under a new client id."""
    reflection = sequence.kind == SequenceKind.REFLECTION
    form = (ReflectionAmendForm if reflection else SituationAmendForm)()
    form.kept_attachments.choices = [
        SelectChoice(a.id, f"{a.filename} ({format_size(a.size)})")
        for a in attachments.of_sequences(session, [sequence.id])[sequence.id]
    ]
    if not form.is_submitted():
        data = sequences.data_of(session, sequence, client_id=new_client_id())
        values = {name: getattr(data, name) for name in sequences.TEXT_FIELDS}
        values.update(
            client_id=data.client_id,
            occurred_at=data.occurred_at.astimezone(zone).replace(tzinfo=None),
            duration_minutes=data.duration_minutes,
            autonomy=data.autonomy.value if data.autonomy else None,
            competence_ids=data.competence_ids,
            situation_ids=data.situation_ids,
            kept_attachments=data.kept_attachment_ids,
        )
        form.process(data=values)
        if reflection:
            form.levels = data.levels
    return form
