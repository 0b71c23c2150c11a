"""The pages of the organisation screens, composed for their views: each form with what its
page shows beside it (a structure's SIRET on record that fails its key, a cohort's
structures, the members of an OPCO or a support body), the lists' search and page, and the
pages of the import of structures."""

from __future__ import annotations

from collections import Counter

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from afest.accounts import members
from afest.core.database import get_session
from afest.core.errors import ServiceError
from afest.core.forms import EmptyForm, SearchForm
from afest.core.http import render
from afest.core.importing import Rejected
from afest.core.tabular import TabularError, megabytes, read_table
from afest.models import Cohort, Organisation, OrgKind, Upload
from afest.organisations import checks, imports, queries
from afest.organisations.forms import (
    BodyForm,
    CohortForm,
    ImportForm,
    MemberForm,
    StructureForm,
)

# an OPCO's and a support body's screens by their URL's word
KINDS = {"opco": OrgKind.OPCO, "accompagnement": OrgKind.SUPPORT_BODY}
BODY_TITLES = {
    "opco": (_l("OPCO"), _l("Nouvel OPCO"), _l("Aucun OPCO trouvé.")),
    "accompagnement": (
        _l("Organismes d'accompagnement"),
        _l("Nouvel organisme d'accompagnement"),
        _l("Aucun organisme d'accompagnement trouvé."),
    ),
}

# the members' section of a body's page: its title, and what a member does there
MEMBER_TITLES = {
    "opco": (
        _l("Conseillers et conseillères de l'OPCO"),
        _l("Chacun·e lit le tableau de bord de l'OPCO : les structures qu'il finance."),
    ),
    "accompagnement": (
        _l("Consultant·es de l'organisme"),
        _l("Chacun·e suit les cohortes qui la ou le nomment, choisies sur la page de la cohorte."),
    ),
}


def listing(args: MultiDict) -> tuple[SearchForm, str, int]:
    """The search form, the needle and the page number of a list's query string."""
    form = SearchForm(args)
    page = args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    needle = form.q.data if form.validate() and form.q.data else ""
    return form, needle, page


def structure_page(form: StructureForm, structure: Organisation | None, status: int = 200):
    """A structure's form; a SIRET on record whose key fails (stored before keys were
    checked) is pointed out, as it is kept as it is."""
    return render(
        "organisations/structure_form.html",
        form=form,
        structure=structure,
        siret_unchecked=structure is not None
        and bool(structure.siret)
        and form.siret.data == structure.siret
        and not form.siret.errors
        and not _valid_siret(structure.siret),
        status=status,
    )


def _valid_siret(siret: str) -> bool:
    try:
        checks.siret(siret)
    except ValueError:
        return False
    return True


def body_page(
    kind: str,
    form: BodyForm,
    body: Organisation | None,
    *,
    member_form: MemberForm | None = None,
    status: int = 200,
) -> Response:
    """An OPCO's or a support body's form and, once it exists, its members with the form
    that adds one."""
    return render(
        "organisations/body_form.html",
        form=form,
        kind=kind,
        titles=BODY_TITLES[kind],
        body=body,
        member_titles=MEMBER_TITLES[kind],
        members=members.members_of(get_session(), body) if body else [],
        member_form=member_form or MemberForm(formdata=None),
        action_form=EmptyForm(),
        status=status,
    )


def cohort_page(form: CohortForm, cohort: Cohort | None, status: int = 200) -> Response:
    """A cohort's form and, once it exists, its structures."""
    structures = queries.cohort_members(get_session(), cohort.id)[0] if cohort else []
    return render(
        "organisations/cohort_form.html",
        form=form,
        cohort=cohort,
        members=structures,
        status=status,
    )


# --- the import of structures -------------------------------------------------------------


def _limits() -> dict[str, str]:
    return {
        "max_size": megabytes(imports.MAX_BYTES),
        "max_rows": f"{imports.MAX_ROWS:,}".replace(",", " "),
    }


def import_page(form: ImportForm, status: int = 200) -> Response:
    return render("organisations/import.html", upload_form=form, status=status, **_limits())


def too_big_page() -> Response:
    """A file larger than the app takes, said beside the file field as any bad file is."""
    form = ImportForm(formdata=None)
    form.file.errors = [_("Le fichier dépasse %(size)s Mo.", size=megabytes(imports.MAX_BYTES))]
    return import_page(form, 413)


def preview_page(upload: Upload, *, refused: ServiceError | TabularError | None = None):
    """Every row of the file kept, judged now; or, answering a confirmation refused, the
    rows judged then (Rejected) or why the file cannot be read (422)."""
    preview, problem = None, None
    if isinstance(refused, Rejected):
        preview = refused.preview
    elif refused is not None:
        problem = refused.message
    else:
        try:
            table = read_table(upload.content, imports.COLUMNS, max_rows=imports.MAX_ROWS)
            preview = imports.preview(get_session(), table)
        except TabularError as exc:
            problem = exc.message
    return render(
        "organisations/import_preview.html",
        upload=upload,
        preview=preview,
        problem=problem,
        form=EmptyForm(),
        upload_form=ImportForm(formdata=None),
        status=200 if refused is None and problem is None else 422,
        **_limits(),
    )


def imported_message(counts: Counter[str]) -> str:
    """What the administrator is told once an import is saved."""
    return _(
        "Import enregistré : %(new)s structure(s) créée(s), %(changed)s mise(s) à jour, "
        "%(same)s inchangée(s).",
        new=counts[imports.NEW],
        changed=counts[imports.CHANGED],
        same=counts[imports.SAME],
    )
