"""The manager pauses a protocol and resumes it on a tablet, in a real browser: the form opens
from its summary, the page then says the protocol is paused (the compliance panel too), the
list of protocols shows it, and axe finds no violation on these pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from afest.models import Protocol, User
from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

MANAGER = "direction@azur-aide.demo"
LEARNER = "apprenant-incomplet@azur-aide.demo"  # a protocol in progress with a late situation


@pytest.fixture(scope="module")
def protocol_id(live_server, tmp_path_factory) -> str:
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        found = session.exec(
            select(Protocol.public_id)
            .join(User, User.id == Protocol.learner_id)
            .where(User.email == LEARNER)
        ).one()
    engine.dispose()
    return found


def test_the_manager_pauses_and_resumes_a_protocol(page, protocol_id):
    login(page, MANAGER)
    page.goto(f"/protocoles/{protocol_id}")
    assert_axe_clean(page)
    page.get_by_text("Mettre en pause", exact=True).tap()
    page.get_by_label("Motif de la pause").fill("Arrêt maladie")
    assert_axe_clean(page)
    page.get_by_role("button", name="Confirmer la pause").tap()
    page.wait_for_url(re.compile(r"#pauses$"))
    assert page.get_by_text("Protocole mis en pause.").is_visible()
    panel = page.locator("#conformite")
    assert "Protocole en pause depuis le" in panel.inner_text()
    assert "Arrêt maladie" in panel.inner_text()
    assert_axe_clean(page)

    page.goto("/protocoles/")
    card = page.locator("a.card", has=page.get_by_text("En pause", exact=True))
    assert card.count() == 1
    assert_axe_clean(page)

    page.goto(f"/protocoles/{protocol_id}")
    page.get_by_role("button", name="Reprendre", exact=True).tap()
    page.wait_for_url(re.compile(r"#pauses$"))
    assert page.get_by_text("Protocole repris.").is_visible()
    assert page.get_by_text("Mettre en pause", exact=True).is_visible()
    assert "reprise par" in page.locator("#pauses").inner_text()
    assert_axe_clean(page)
