"""The demo's costs: every signed hour of its completed protocols has a cost, so that each
demo proof pack shows a statement of expenses; the manager reaches it from the protocol."""

from __future__ import annotations

from sqlmodel import select

from afest.core import clock
from afest.costs import queries
from afest.models import Protocol, ProtocolStatus
from afest.proof.expenses import Reason
from tests.costs.test_forms import MANAGER, _demo_protocol


def test_every_completed_demo_protocol_is_priced(app, session):
    completed = list(
        session.exec(select(Protocol).where(Protocol.status == ProtocolStatus.COMPLETED))
    )
    assert len(completed) >= 10
    with app.app_context():
        statements = queries.statements(session, completed, zone=clock.zone())
    for costed in statements:
        st = costed.statement
        assert st.learner_cents > 0 and st.tutor_cents > 0, costed.protocol.public_id
        assert not [left for left in st.left if left.reason == Reason.NO_RATE]
        assert not [left for left in st.left if left.reason == Reason.NO_DURATION]


def test_the_manager_reaches_the_statement_from_the_protocol(session, login_as):
    protocol = _demo_protocol(session)
    client = login_as(MANAGER)
    show = client.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert f'href="/protocoles/{protocol.public_id}/depenses"' in show
    page = client.get(f"/protocoles/{protocol.public_id}/depenses").get_data(as_text=True)
    assert "aucun coût horaire valable ce jour-là" not in page
    assert "Formation de tuteur·rice AFEST" in page
    assert 'href="/structures/couts"' in page  # the navigation's "Coûts"


def test_the_statements_of_many_protocols_take_a_fixed_number_of_queries(app, session, connection):
    from sqlalchemy import event

    protocols = list(session.exec(select(Protocol).where(Protocol.status != ProtocolStatus.DRAFT)))
    assert len(protocols) > 50
    counts = []
    for chosen in (protocols[:1], protocols):
        counted = []
        listener = lambda *_a, _c=counted, **_k: _c.append(1)  # noqa: E731
        event.listen(connection, "before_cursor_execute", listener)
        try:
            with app.app_context():
                queries.statements(session, chosen, zone=clock.zone())
        finally:
            event.remove(connection, "before_cursor_execute", listener)
        counts.append(len(counted))
    # signatures, sequences, evaluations, other costs, hourly costs, names
    assert counts[0] == counts[1] <= 6
