"""The filters and the period of a dashboard, read from the query string."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField

from afest.core.forms import LongSelect, NoControlCharacters, date_problem
from afest.dashboards.board import Filters
from afest.dashboards.listing import ListingFields
from afest.dashboards.queries import parse_month, referential_id


def _first_day(month: int) -> date:
    """202603 → 1 March 2026."""
    return date(month // 100, month % 100, 1)


class FilterForm(ListingFields, NoControlCharacters, Form):
    """The filters and the period of a dashboard, read from the query string (no CSRF token:
    a plain WTForms form, its text kept from control characters all the same); and the
    search, order and page of its structure table (ListingFields)."""

    dept = SelectField(_l("Département"), validate_choice=False, widget=LongSelect())
    ref = SelectField(_l("Référentiel"), validate_choice=False, widget=LongSelect())
    # "Du" and "Au" under the legend "Mois de début des protocoles" (the page's fieldset)
    du = StringField(_l("Du"), render_kw={"type": "month", "placeholder": _l("AAAA-MM")})
    au = StringField(_l("Au"), render_kw={"type": "month", "placeholder": _l("AAAA-MM")})

    def setup(self, departements: list[str], referentials: list[tuple[str, str]]) -> None:
        self.dept.choices = [("", _l("Tous"))] + [(d, d) for d in departements]
        self.ref.choices = [("", _l("Tous"))] + referentials

    def filters(self, session) -> Filters | None:
        """The filters, or None with a message beside each bad field."""
        if self.dept.data and self.dept.data not in {c[0] for c in self.dept.choices}:
            self.dept.errors = [_l("Département inconnu : choisissez-en un dans la liste.")]
        ref_id = referential_id(session, self.ref.data) if self.ref.data else None
        if self.ref.data and ref_id is None:
            self.ref.errors = [_l("Référentiel inconnu : choisissez-en un dans la liste.")]
        months = {}
        for f in (self.du, self.au):
            months[f.name] = parse_month(f.data) if f.data else None
            if f.data and months[f.name] is None:
                f.errors = [_l("Mois invalide : indiquez-le sous la forme AAAA-MM.")]
            elif months[f.name] and (problem := date_problem(_first_day(months[f.name]))):
                f.errors = [problem]  # a year typed wrong (0001, 2206) filters nothing
        if months["du"] and months["au"] and months["du"] > months["au"]:
            self.au.errors = [_l("La fin de la période précède son début.")]
        if any(f.errors for f in (self.dept, self.ref, self.du, self.au)):
            return None
        return Filters(self.dept.data or None, ref_id, months["du"], months["au"])
