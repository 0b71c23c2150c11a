"""A dashboard page composed for its views: the filters read from the query string, and the
dashboard they choose, its small cells hidden from whoever may not see them."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from afest import policy
from afest.dashboards import queries
from afest.dashboards.board import Dashboard, Listing, Scope
from afest.dashboards.forms import FilterForm


def board(
    session: Session,
    actor,
    scope: Scope,
    args: Mapping[str, str],
    *,
    k: int,
    export: bool = False,
) -> tuple[FilterForm, Dashboard | None, int]:
    """(form, dashboard, 200); (form, None, 422) when a filter is not valid; (form,
    dashboard, 422) when the structure table's search or sort is not (their message beside
    them, the table in its default order). A cell of
    fewer than `k` learners is hidden unless the actor may see the learner records of the
    structures behind it (policy.learner_records_of, decided once here); `export`: every
    structure, not a page."""
    form = FilterForm(args)
    form.setup(queries.known_departements(session, scope), queries.referential_choices(session))
    filters = form.filters(session)
    listing = form.listing(args.get("page"), every=export)
    if filters is None or (listing is None and export):
        return form, None, 422
    status = 200 if listing is not None else 422  # a bad sort: the page, its message beside it
    entitled = policy.learner_records_of(actor)
    protect = lambda sid: sid not in entitled  # noqa: E731
    if scope.structure_id is not None and scope.structure_id in entitled:
        protect = None  # its own manager: every figure of her structure
    shown = queries.build(
        session, scope=scope, filters=filters, k=k, protect=protect, listing=listing or Listing()
    )
    return form, shown, status
