"""The pages of the import from France compétences' register, composed for their views: the
file form, the fiches of a file kept (searched by number or title), the preview of the fiches
chosen (new, revision with its differences block by block, or the same), its confirmation."""

from __future__ import annotations

import json

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import delete
from sqlmodel import Session, select

from afest.core import uploads
from afest.core.database import get_session, writing
from afest.core.forms import EmptyForm, SearchForm
from afest.core.http import render
from afest.models import Upload
from afest.referentials import register, revisions
from afest.referentials.forms import FichesForm, RegisterFileForm
from afest.referentials.operations import ImportRejected

PURPOSE = "rncp"
INDEX = "rncp-index"  # the fiches of the file kept, listed once when it was sent
SHOWN = 50  # fiches listed at once; the search narrows the register's thirty thousand


def upload_page(form: RegisterFileForm, status: int = 200) -> Response:
    return render("referentials/register_upload.html", form=form, status=status)


def keep(session: Session, *, owner_id: int, form: RegisterFileForm) -> Upload:
    """Keep the export sent, and the list of its fiches beside it: the whole register's XML
    takes seconds to read, the search of its fiches must not read it again."""
    kept = uploads.keep(session, owner_id=owner_id, purpose=PURPOSE, **form.upload())
    listed = [[f.number, f.title, f.level, f.active] for f in form.listed]
    uploads.keep(
        session,
        owner_id=owner_id,
        purpose=INDEX,
        filename=kept.public_id,
        content=json.dumps(listed, ensure_ascii=False).encode(),
    )
    return kept


def _index(upload: Upload) -> Upload | None:
    return (
        get_session()
        .exec(
            select(Upload).where(
                Upload.owner_id == upload.owner_id,
                Upload.purpose == INDEX,
                Upload.filename == upload.public_id,
                uploads.still_kept(),
            )
        )
        .first()
    )


def _listed(upload: Upload) -> list[register.Listed] | str:
    """The fiches of the file kept: from its index, else (an index lost) read again."""
    index = _index(upload)
    if index is not None:
        return [register.Listed(*item) for item in json.loads(index.content)]
    try:
        return register.listing(upload.content)
    except register.RegisterError as exc:
        return str(exc.message)


def choose_page(upload: Upload, args) -> Response:
    """The fiches of the file, those matching the search first SHOWN."""
    listed = _listed(upload)
    if isinstance(listed, str):
        return render(
            "referentials/register_choose.html", upload=upload, problem=listed, status=422
        )
    search = SearchForm(args)
    needle = search.q.data if search.validate() and search.q.data else ""
    found = register.search(listed, needle)
    form = FichesForm.of(found[:SHOWN], formdata=None, meta={"csrf": False})
    return render(
        "referentials/register_choose.html",
        upload=upload,
        search=search,
        form=form,
        total=len(listed),
        found=len(found),
        shown=SHOWN,
        problem=None,
    )


def _chosen(upload: Upload, formdata) -> tuple[FichesForm | None, str | None]:
    listed = _listed(upload)
    if isinstance(listed, str):
        return None, listed
    form = FichesForm.of(listed, formdata=formdata, meta={"csrf": False})
    return form, None


def preview_page(upload: Upload, formdata, *, problems=None, status: int = 200) -> Response:
    """What importing the fiches chosen does; nothing written."""
    form, problem = _chosen(upload, formdata)
    if problem is None and not form.validate():
        problem = " ".join(str(e) for e in form.fiches.errors)
    if problem is None:
        numbers = form.fiches.data
        try:
            fiches = register.fiches(upload.content, numbers)
        except register.RegisterError as exc:
            problem = str(exc.message)
    if problem is not None:
        return _unreadable(upload, problem)
    planned = revisions.plan(get_session(), fiches, numbers)
    return render(
        "referentials/register_preview.html",
        upload=upload,
        problem=None,
        planned=planned,
        numbers=numbers,
        confirm=EmptyForm(formdata=None),
        problems=problems or [p for item in planned for p in item.problems],
        status=status,
    )


def confirm(upload: Upload, actor_id: int, formdata) -> tuple[list | None, Response | None]:
    """Import the fiches chosen in one write and drop the file; or the preview again with
    every problem (nothing written)."""
    form, problem = _chosen(upload, formdata)
    if problem or not form.validate():
        return None, preview_page(upload, formdata, status=422)
    try:
        with writing() as session:
            imported = revisions.import_fiches(
                session, actor_id=actor_id, content=upload.content, numbers=form.fiches.data
            )
            uploads.discard(session, upload)
            session.execute(
                delete(Upload).where(Upload.owner_id == upload.owner_id, Upload.purpose == INDEX)
            )
    except ImportRejected as exc:
        return None, preview_page(upload, formdata, problems=exc.problems, status=422)
    except register.RegisterError as exc:
        return None, _unreadable(upload, str(exc.message))
    return imported, None


def _unreadable(upload: Upload, problem: str) -> Response:
    """The preview page with the problem of the choice or of the file, nothing else."""
    return render(
        "referentials/register_preview.html",
        upload=upload,
        problem=problem,
        planned=[],
        status=422,
    )


def imported_message(imported: list) -> str:
    if not imported:
        return _("Rien à importer : les fiches choisies sont déjà à jour.")
    return _(
        "%(n)s référentiel(s) importé(s) : %(list)s.",
        n=len(imported),
        list=", ".join(f"{r.code} v{r.version}" for r in imported),
    )
