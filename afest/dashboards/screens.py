"""A dashboard page composed for its views: the filters read from the query string, and the
dashboard they choose, its small cells hidden from whoever may not see them."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from afest import policy
from afest.dashboards import queries
from afest.dashboards.board import Dashboard, Scope
from afest.dashboards.forms import FilterForm


def board(
    session: Session,
    actor,
    scope: Scope,
    args: Mapping[str, str],
    *,
    k: int,
    single_structure: bool = False,
) -> tuple[FilterForm, Dashboard | None, int]:
    """(form, dashboard, 200), or (form, None, 422) when a filter is not valid. Across
    structures, a cell of fewer than `k` learners is hidden unless the actor may see that
    structure's learner records; one structure's view hides nothing."""
    form = FilterForm(args)
    form.setup(queries.known_departements(session, scope), queries.referential_choices(session))
    filters = form.filters(session)
    if filters is None:
        return form, None, 422
    protect = None
    if not single_structure:
        entitled = policy.learner_records_of(actor)  # once, not per row through current_user
        protect = lambda sid: sid not in entitled  # noqa: E731
    page = args.get("page", 1, type=int)
    shown = queries.build(session, scope=scope, filters=filters, k=k, protect=protect, page=page)
    return form, shown, 200
