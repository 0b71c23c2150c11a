"""A revised fiche's versions on a dashboard: each filtered apart, each named apart."""

from __future__ import annotations

from sqlmodel import select

from afest.dashboards import queries
from afest.models import Referential


def test_each_version_of_a_revised_fiche_is_its_own_filter_and_row_label(session):
    first = session.exec(
        select(Referential).where(Referential.code.startswith("RNCP")).order_by(Referential.id)
    ).first()
    second = Referential(
        code=first.code,
        title=first.title,
        short=first.short,
        kind=first.kind,
        version=first.version + 1,
        previous_id=first.id,
    )
    session.add(second)
    session.flush()
    session.info.pop("dashboards.referentials", None)  # read again, with the new version

    choices = dict(queries.referential_choices(session))
    older = f"{first.code}@v{first.version}"
    assert set(choices) >= {first.code, older}
    assert f"v{second.version}" in choices[first.code] and "v1" in choices[older]
    assert queries.referential_id(session, first.code) == second.id  # the newest
    assert queries.referential_id(session, older) == first.id
    assert queries.referential_id(session, f"{first.code}@v9") is None
    labels = queries._referential_labels(session)
    assert labels[first.id] != labels[second.id] and "v2" in labels[second.id]
