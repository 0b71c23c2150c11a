"""What every import from a spreadsheet shares: the file field, the file kept between the
preview and the confirmation, the preview's counts, and the confirmation that saves the file
whole or nothing.

An import is a `Spec` (its columns and limits) and two functions of its domain, both given
the table read from the file and what else the domain needs (`**context`):

    preview(session, table, **context) -> Preview       every row judged, nothing written
    import_rows(session, *, actor_id, table, filename, sha256, **context) -> Preview
        judges again inside the write (the database may have changed since the preview)
        and saves every row, or raises Rejected(preview) and saves nothing

Both make an `Importer`; a view then needs three calls: `keep` the file a form read, then the
importer's `show` (its preview) and `confirm`.
Each answers what the page shows; a file that cannot be read any longer (it was read when
sent, but a limit may have changed) is a problem of the file as a whole, said on the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms.validators import ValidationError

from afest.core import uploads
from afest.core.database import get_session, writing
from afest.core.errors import ServiceError
from afest.core.forms import Form
from afest.core.tabular import Column, Table, TabularError, megabytes, read_limited, read_table
from afest.models import Upload

ERROR = "error"  # the status of a row with a problem; each import names its other statuses


@dataclass(frozen=True)
class Spec:
    """What an import reads: its columns (see afest.core.tabular) and its limits."""

    columns: tuple[Column, ...]
    max_bytes: int = 1024 * 1024
    max_rows: int = 10_000

    def read(self, content: bytes) -> Table:
        return read_table(content, self.columns, max_rows=self.max_rows)

    def limits(self) -> dict[str, str]:
        """The limits as the pages say them ("1", "10 000")."""
        return {
            "max_size": megabytes(self.max_bytes),
            "max_rows": f"{self.max_rows:,}".replace(",", " "),
        }

    def too_big(self) -> str:
        return str(_l("Le fichier dépasse %(size)s Mo.", size=megabytes(self.max_bytes)))


@dataclass
class Preview:
    """Every row of a file as judged; a row has `line`, `status` and `problems`."""

    rows: list[Any]

    @property
    def counts(self) -> Counter[str]:
        return Counter(row.status for row in self.rows)

    @property
    def valid(self) -> bool:
        return not self.counts[ERROR]

    @property
    def problems(self) -> list[Any]:
        return [row for row in self.rows if row.status == ERROR]


class Rejected(ServiceError):
    """A row has a problem: nothing was saved; `preview` says which rows and why."""

    def __init__(self, preview: Preview):
        super().__init__(_l("Rien n'a été importé : le fichier comporte des erreurs."))
        self.preview = preview


def file_field(label: Any) -> FileField:
    return FileField(
        label,
        validators=[FileRequired(_l("Choisissez un fichier CSV ou Excel (.xlsx)."))],
        render_kw={"accept": ".csv,.txt,.xlsx,text/csv"},
    )


class ImportForm(Form):
    """A spreadsheet sent to import, read once whole when the form validates: too big, not a
    table, a column missing → said beside the field. A subclass names its `spec` and may
    relabel `file` (file = file_field(_l("Fichier des personnes")))."""

    spec: ClassVar[Spec]
    file = file_field(_l("Fichier"))

    def validate_file(self, field) -> None:
        try:
            self.content = read_limited(field.data.stream, self.spec.max_bytes)
            self.table = self.spec.read(self.content)
        except TabularError as exc:
            raise ValidationError(str(exc.message)) from None
        self.filename = (field.data.filename or "import.csv").replace("\\", "/").split("/")[-1]

    def too_big(self) -> ImportForm:
        """This form, answering a request over the app's size limit beside its field."""
        self.file.errors = [self.spec.too_big()]
        return self


def keep(form: ImportForm, *, owner_id: int, purpose: str) -> Upload:
    """Keep the file the form read until its sender confirms it (their previous file for
    the same purpose is dropped)."""
    with writing() as session:
        return uploads.keep(
            session,
            owner_id=owner_id,
            purpose=purpose,
            filename=form.filename,
            content=form.content,
        )


@dataclass
class Outcome:
    """What the preview page shows: the rows judged, or the file's own problem."""

    preview: Preview | None = None
    problem: Any = None
    saved: bool = False
    status: int = 200


@dataclass(frozen=True)
class Importer:
    """An import: what it reads, and its domain's two functions (see the module's docstring)."""

    spec: Spec
    judge: Callable[..., Preview]
    save: Callable[..., Preview]

    def show(self, upload: Upload, **context: Any) -> Outcome:
        """The preview of a file kept: each row judged against the database, nothing written."""
        try:
            table = self.spec.read(upload.content)
        except TabularError as exc:
            return Outcome(problem=exc.message, status=422)
        return Outcome(preview=self.judge(get_session(), table, **context))

    def confirm(self, upload: Upload, *, actor_id: int, **context: Any) -> Outcome:
        """Save a file kept in one write and drop it; or nothing when a row has a problem now."""
        try:
            table = self.spec.read(upload.content)
            with writing() as session:
                judged = self.save(
                    session,
                    actor_id=actor_id,
                    table=table,
                    filename=upload.filename,
                    sha256=upload.sha256,
                    **context,
                )
                uploads.discard(session, upload)
        except TabularError as exc:
            return Outcome(problem=exc.message, status=422)
        except Rejected as exc:
            return Outcome(preview=exc.preview, status=422)
        return Outcome(preview=judged, saved=True)
