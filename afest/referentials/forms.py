"""WTForms of the référentiel screens: imports and the editor of a structure's own."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from afest.core.forms import CheckboxesField, Form, clean_text, strip
from afest.models import CompetenceBlock
from afest.referentials import register

MAX_UPLOAD = 5 * 1024 * 1024


class ImportForm(Form):
    kind = SelectField(
        _l("Format du fichier"),
        choices=[
            SelectChoice("json", _l("Référentiel afest (JSON)")),
            SelectChoice("csv", _l("Table des blocs de France compétences (CSV)")),
        ],
    )
    file = FileField(_l("Fichier"), validators=[FileRequired(_l("Choisissez un fichier."))])

    def validate_file(self, field) -> None:
        """The file's text, read once: 5 MB at most, UTF-8."""
        raw = field.data.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise ValidationError(_l("Le fichier dépasse 5 Mo."))
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(_l("Le fichier doit être encodé en UTF-8.")) from None

    def upload(self) -> dict:
        """The arguments of referentials.import_file: the format chosen, the file's text."""
        return {"kind": self.kind.data, "text": self.text}


class ReferentialForm(Form):
    structure = SelectField(_l("Structure"), coerce=int)
    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=300)],
    )

    def new_referential(self) -> dict:
        """The arguments of editor.create_structure_referential, as entered."""
        return {
            "structure_id": self.structure.data,
            "code": self.code.data,
            "title": self.title.data,
        }


class BlockForm(Form):
    code = StringField(
        _l("Code du bloc"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé du bloc"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=2000)],
    )

    def new_block(self) -> dict:
        """The arguments of editor.add_block, as entered."""
        return {"code": self.code.data, "title": self.title.data}


class CompetenceForm(Form):
    """A new competence, in one of the blocks the form offers (see `of_blocks`)."""

    block = SelectField(_l("Bloc"), coerce=int)
    code = StringField(
        _l("Code de la compétence ou mission"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=2000)],
    )

    @classmethod
    def of_blocks(cls, blocks: Iterable[CompetenceBlock], **kwargs) -> CompetenceForm:
        """The form offering a référentiel's blocks."""
        form = cls(**kwargs)
        form.blocks = {b.id: b for b in blocks}
        form.block.choices = [(b.id, f"{b.code} — {b.title}") for b in form.blocks.values()]
        return form

    def new_competence(self) -> dict:
        """The arguments of editor.add_competence, as entered."""
        return {
            "block": self.blocks[self.block.data],
            "code": self.code.data,
            "title": self.title.data,
        }


class LevelsForm(Form):
    levels = TextAreaField(
        _l("Échelle de niveaux"),
        filters=[clean_text],
        validators=[DataRequired(_l("Indiquez les niveaux.")), Length(max=2000)],
    )


# --- France compétences' register -------------------------------------------------------------

REGISTER_MAX_UPLOAD = 100 * 1024 * 1024  # the CSV export's zip, or the XML export (zipped)


class RegisterFileForm(Form):
    """France compétences' CSV export (zip) or XML export, read when the form validates: a
    file that is neither is answered beside the field."""

    file = FileField(
        _l("Export de France compétences"),
        validators=[FileRequired(_l("Choisissez le fichier de l'export."))],
        render_kw={"accept": ".zip,.xml,application/zip,application/xml,text/xml"},
    )

    def validate_file(self, field) -> None:
        raw = field.data.read(REGISTER_MAX_UPLOAD + 1)
        if len(raw) > REGISTER_MAX_UPLOAD:
            raise ValidationError(_l("Le fichier dépasse 100 Mo."))
        try:
            self.listed = register.listing(raw)
        except register.RegisterError as exc:
            raise ValidationError(str(exc.message)) from None
        self.content = raw
        self.filename = (field.data.filename or "export.zip").replace("\\", "/").split("/")[-1]

    def upload(self) -> dict:
        """What afest.core.uploads.keep keeps of the file read."""
        return {"filename": self.filename, "content": self.content}

    def too_big(self) -> RegisterFileForm:
        """This form, answering a request over the size limit beside its field."""
        self.file.errors = [_l("Le fichier dépasse 100 Mo.")]
        return self


class FichesForm(Form):
    """The fiches chosen in an export (sent with the query string to the preview, then with
    the confirmation)."""

    fiches = CheckboxesField(
        _l("Fiches à importer"),
        validators=[DataRequired(_l("Choisissez au moins une fiche."))],
    )

    @classmethod
    def of(cls, listed: Iterable[register.Listed], **kwargs) -> FichesForm:
        form = cls(**kwargs)
        form.fiches.choices = [SelectChoice(f.number, f"{f.number} — {f.title}") for f in listed]
        return form
