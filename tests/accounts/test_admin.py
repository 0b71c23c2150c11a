"""The admin's Comptes page: accounts searched by name or address a page at a time, each
deactivated or reactivated from its row."""

from __future__ import annotations

import re

from sqlmodel import select

from afest.accounts import queries as account_queries
from afest.models import AuditEntry, Role, User

ADMIN = "admin@afest.demo"


def _fresh(session, user) -> User:
    return session.exec(
        select(User).where(User.id == user.id).execution_options(populate_existing=True)
    ).one()


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row">(.*?)</th>', page)


def test_search_by_name_or_address(session, login_as, make_user):
    make_user([(Role.TUTOR, None)], email="zephyrine@example.org", name="Zéphyrine Dumoulin")
    make_user([(Role.TUTOR, None)], email="other@example.org", name="Quelqu'un Autre")
    session.commit()
    admin = login_as(Role.ADMIN)
    for needle in ("dumoulin", "ZÉPHYRINE Dumoulin", "zephyrine@exa"):
        page = admin.get("/admin/comptes", query_string={"q": needle}).get_data(as_text=True)
        assert "Zéphyrine Dumoulin" in page and "Quelqu&#39;un Autre" not in page, needle
    nothing = admin.get("/admin/comptes?q=personne-de-ce-nom").get_data(as_text=True)
    assert "Aucun compte trouvé." in nothing
    # too long a search is no search: every account
    everyone = admin.get("/admin/comptes", query_string={"q": "x" * 101}).get_data(as_text=True)
    assert _names(everyone) == _names(admin.get("/admin/comptes").get_data(as_text=True))
    assert len(_names(everyone)) == 50


def test_pages_of_accounts_keep_the_search(session, login_as, make_user, monkeypatch):
    for n in range(3):
        make_user([(Role.TUTOR, None)], email=f"pager{n}@example.org", name=f"Paginée {n}")
    session.commit()
    monkeypatch.setattr(account_queries, "PAGE_SIZE", 2)
    admin = login_as(Role.ADMIN)
    first = admin.get("/admin/comptes?q=paginée").get_data(as_text=True)
    assert "Paginée 0" in first and "Paginée 1" in first and "Paginée 2" not in first
    assert "q=pagin%C3%A9e&amp;page=2" in first and "Page précédente" not in first
    second = admin.get("/admin/comptes?q=paginée&page=2").get_data(as_text=True)
    assert "Paginée 2" in second and "Paginée 0" not in second
    assert "page=1" in second and "Page suivante" not in second
    for page in ("0", "²", "abc", "9" * 30):  # no such page: the first, the search kept
        shown = admin.get(f"/admin/comptes?q=paginée&page={page}").get_data(as_text=True)
        assert "Paginée 0" in shown and "Paginée 2" not in shown, page


def test_htmx_gets_the_list_alone(login_as):
    admin = login_as(Role.ADMIN)
    response = admin.get("/admin/comptes?q=admin", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert "<table>" in html and "<h1>" not in html and ADMIN in html


def test_deactivate_then_reactivate(session, login_as, make_user):
    user = make_user([(Role.TUTOR, None)], email="leaving@example.org", name="Partante")
    session.commit()
    admin = login_as(Role.ADMIN)
    url = f"/admin/comptes/{user.public_id}/actif?q=partante"
    response = admin.post(url, data={"active": "0"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/comptes?q=partante"
    assert not _fresh(session, user).is_active
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Compte désactivé : ses sessions sont fermées." in page and "Réactiver" in page

    admin.post(url, data={"active": "1"})
    assert _fresh(session, user).is_active
    assert "Compte réactivé." in admin.get("/admin/comptes").get_data(as_text=True)
    actions = session.exec(
        select(AuditEntry.action).where(
            AuditEntry.subject_kind == "user", AuditEntry.subject_id == user.id
        )
    ).all()
    assert "user.deactivate" in actions and "user.activate" in actions


def test_deactivating_oneself_is_refused(session, login_as):
    admin = login_as(Role.ADMIN)
    me = session.exec(select(User).where(User.email == ADMIN)).one()
    page = admin.get("/admin/comptes?q=admin@afest").get_data(as_text=True)
    assert ADMIN in page and "Désactiver" not in page  # no button on her own row
    assert (
        admin.post(f"/admin/comptes/{me.public_id}/actif", data={"active": "0"}).status_code == 403
    )
    assert _fresh(session, me).is_active


def test_an_unreadable_choice_changes_nothing(session, login_as, make_user):
    user = make_user([(Role.TUTOR, None)], email="stays@example.org", name="Restante")
    session.commit()
    admin = login_as(Role.ADMIN)
    for data in ({}, {"active": ""}, {"active": "yes"}, {"active": "0\x00"}):
        response = admin.post(f"/admin/comptes/{user.public_id}/actif", data=data)
        assert response.status_code == 400, data
        assert _fresh(session, user).is_active, data
