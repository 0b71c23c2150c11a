"""Which structures a dashboard's structure table lists, read from the query string: a
search, an order, a page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from afest.dashboards.board import SORTS, Listing

SEARCH_MAX = 100
SORT_NAMES = dict(
    zip(
        SORTS,
        (
            _l("Nom"),
            _l("Apprenant·es"),
            _l("Protocoles"),
            _l("Complétion"),
            _l("Heures réalisées"),
            _l("Part conforme"),
        ),
        strict=True,
    )
)


class ListingFields:
    """The fields of a dashboard's query-string form (afest.dashboards.forms.FilterForm) that
    search, sort and page its structure table. A page number that is not one shows the first
    page; one past the end, the last."""

    q = StringField(
        _l("Rechercher une structure"),
        render_kw={"type": "search", "placeholder": _l("Nom ou SIRET"), "maxlength": SEARCH_MAX},
    )
    tri = SelectField(
        _l("Trier par"),
        choices=[SelectChoice(value, label) for value, label in SORT_NAMES.items()],
        default="nom",
        validate_choice=False,
    )
    ordre = SelectField(
        _l("Ordre"),
        choices=[SelectChoice("asc", _l("croissant")), SelectChoice("desc", _l("décroissant"))],
        default="asc",
        validate_choice=False,
    )

    def listing(self, page_text: str | None, *, every: bool = False) -> Listing | None:
        """The listing, or None with a message beside each bad field. `every`: all the
        matching structures, for an export."""
        if len(self.q.data or "") > SEARCH_MAX:
            self.q.errors = [_l("%(max)d caractères au plus.", max=SEARCH_MAX)]
        if self.tri.data and self.tri.data not in SORT_NAMES:
            self.tri.errors = [_l("Tri inconnu : choisissez-en un dans la liste.")]
        if self.ordre.data and self.ordre.data not in ("asc", "desc"):
            self.ordre.errors = [_l("Ordre inconnu : croissant ou décroissant.")]
        if self.q.errors or self.tri.errors or self.ordre.errors:
            return None
        try:
            page = max(1, int(page_text or 1))
        except ValueError:
            page = 1
        return Listing(
            sort=self.tri.data or "nom",
            descending=self.ordre.data == "desc",
            search=(self.q.data or "").strip(),
            page=None if every else page,
        )
