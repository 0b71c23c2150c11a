"""The tutor's tablet through HTTP: entry, validation beside the field, idempotence, scope,
signatures, corrections, verification, htmx fragments and query counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, text
from sqlmodel import select

from afest.assessments.levels import targeted_competence_ids
from afest.models import (
    Level,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Sequence,
    SequenceKind,
    User,
    utcnow,
)

TZ = ZoneInfo("Europe/Paris")
TUTOR = "tuteur@azur-aide.demo"
LEARNER = "apprenant3@azur-aide.demo"
PASSWORD = "afest-demo-2026"


def demo_protocol(session) -> Protocol:
    learner = session.exec(select(User).where(User.email == LEARNER)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def local(dt: datetime) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def situation_form(session, protocol, client_id="tab-1", **over):
    comps = sorted(targeted_competence_ids(session, protocol.id))
    form = {
        "client_id": client_id,
        "occurred_at": local(utcnow() - timedelta(hours=2)),
        "duration_minutes": "60",
        "autonomy": "accompanied",
        "competence_ids": [str(c) for c in comps[:2]],
        "place": "Chambre 12",
        "intent": "Réaliser une aide au lever",
        "observations": "Gestes sûrs, à revoir : la communication",
    }
    form.update(over)
    return form


def n_sequences(session, protocol) -> int:
    return session.exec(
        select(func.count()).select_from(Sequence).where(Sequence.protocol_id == protocol.id)
    ).one()


def designate(session, protocol, *, tutor_id: int, by_id: int) -> None:
    session.add(
        ProtocolTutor(
            protocol_id=protocol.id,
            tutor_id=tutor_id,
            designated_at=utcnow(),
            designated_by_id=by_id,
        )
    )


def post_situation(client, protocol, form):
    return client.post(f"/tablette/protocoles/{protocol.public_id}/situation", data=form)


def test_learners_page_lists_designated_learners_with_what_is_owed(session, login_as):
    page = login_as(TUTOR).get("/tablette/").get_data(as_text=True)
    assert "Mes apprenant·es" in page
    assert demo_protocol(session).public_id in page
    assert "à analyser" in page or "à signer" in page or "contresignature" in page


def test_learners_fragment_for_htmx(login_as):
    response = login_as(TUTOR).get("/tablette/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_home_tutor_section_links_to_the_tablet(login_as):
    page = login_as(TUTOR).get("/").get_data(as_text=True)
    assert 'href="/tablette/"' in page


def test_learners_page_query_count_does_not_grow_with_learners(
    app, session, connection, login_as, make_protocol
):
    client = login_as(TUTOR)
    statements: list[str] = []

    def count(*args, **kwargs):
        statements.append(args[2])

    def measure() -> int:
        statements.clear()
        event.listen(connection, "before_cursor_execute", count)
        try:
            assert client.get("/tablette/").status_code == 200
        finally:
            event.remove(connection, "before_cursor_execute", count)
        return len(statements)

    baseline = measure()
    tutor = session.exec(select(User).where(User.email == TUTOR)).one()
    for _ in range(3):
        protocol, _people = make_protocol()
        designate(session, protocol, tutor_id=tutor.id, by_id=tutor.id)
    session.commit()
    assert measure() == baseline
    assert baseline <= 15


def test_situation_form_has_defaults_and_a_client_id(session, login_as):
    protocol = demo_protocol(session)
    page = (
        login_as(TUTOR)
        .get(f"/tablette/protocoles/{protocol.public_id}/situation")
        .get_data(as_text=True)
    )
    client_id = re.search(r'name="client_id" type="hidden" value="([0-9a-f]{32})"', page)
    assert client_id
    assert re.search(r'<input checked [^>]*value="accompanied"', page)
    # the day and the time as French people write them, whatever the browser's locale
    assert re.search(r'name="occurred_at-date" value="\d\d/\d\d/20\d\d"', page)
    assert re.search(r'name="occurred_at-time" value="[0-2]\d:[0-5]\d"', page)
    assert 'type="datetime-local"' not in page
    assert "<script>" not in page and " style=" not in page and " onclick=" not in page


def test_double_submit_with_the_same_client_id_creates_one_sequence(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    before = n_sequences(session, protocol)
    first = post_situation(client, protocol, situation_form(session, protocol))
    second = post_situation(client, protocol, situation_form(session, protocol))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert n_sequences(session, protocol) == before + 1


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"duration_minutes": "0"}, "duration_minutes", "entre 1 minute et 12 heures"),
        ({"duration_minutes": "1800"}, "duration_minutes", "entre 1 minute et 12 heures"),
        ({"occurred_at": "2001-01-01T10:00"}, "occurred_at", "précède le début du protocole"),
        ({"competence_ids": ["999999"]}, "competence_ids", "pas visée par le protocole"),
        ({"competence_ids": []}, "competence_ids", "au moins une compétence"),
    ],
)
def test_bad_situation_gets_a_message_beside_the_field_and_saves_nothing(
    session, login_as, override, field, message
):
    protocol = demo_protocol(session)
    before = n_sequences(session, protocol)
    form = situation_form(session, protocol, **override)
    response = post_situation(login_as(TUTOR), protocol, form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1), page[:200]
    assert f'aria-describedby="{field}-error"' in page
    assert n_sequences(session, protocol) == before


@pytest.mark.parametrize("bad_id", ["99999999999999999999", "2147483648", "²", "0", "-3"])
def test_ids_no_row_can_have_are_refused_not_looked_up(session, login_as, bad_id):
    """An id beyond what the database stores (or not a number at all) is refused by the form
    with a message; it never reaches a query, where the database would fail on it."""
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    before = n_sequences(session, protocol)
    response = post_situation(
        tutor,
        protocol,
        situation_form(session, protocol, client_id="huge", competence_ids=[bad_id]),
    )
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="competence_ids-error">[^<]+</p>', response.text)
    base = f"/tablette/protocoles/{protocol.public_id}/reflexion"
    for data in (
        {"situation_ids": [bad_id], "achieved": "<script>alert(1)</script>"},
        {**situation_form(session, protocol, client_id="huge-r"), "situation_ids": [bad_id]},
        {**situation_form(session, protocol, client_id="huge-l"), f"level-{bad_id}": "1"},
    ):
        assert tutor.post(base, data=data).status_code == 422
    assert tutor.get(f"{base}/niveaux?situation_ids={bad_id}").status_code == 200
    assert tutor.get(f"{base}/niveaux?level-{bad_id}=1").status_code == 200
    assert n_sequences(session, protocol) == before


def test_reflection_without_situation_is_refused_beside_the_field(session, login_as):
    protocol = demo_protocol(session)
    before = n_sequences(session, protocol)
    response = login_as(TUTOR).post(
        f"/tablette/protocoles/{protocol.public_id}/reflexion",
        data={
            "client_id": "refl-none",
            "occurred_at": local(utcnow() - timedelta(hours=1)),
            "duration_minutes": "45",
            "learnt": "Beaucoup",
        },
    )
    assert response.status_code == 422
    assert 'id="situation_ids-error"' in response.get_data(as_text=True)
    assert "au moins une mise en situation" in response.get_data(as_text=True)
    assert n_sequences(session, protocol) == before


def test_reflection_preselects_unanalysed_situations_and_sets_levels(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    saved = post_situation(client, protocol, situation_form(session, protocol, client_id="s-9"))
    situation = session.exec(select(Sequence).where(Sequence.client_id == "s-9")).one()
    assert saved.status_code == 302
    page = client.get(f"/tablette/protocoles/{protocol.public_id}/reflexion").get_data(as_text=True)
    assert f'value="{situation.id}" checked' in page
    comp = sorted(targeted_competence_ids(session, protocol.id))[0]
    top = session.exec(
        select(Level)
        .where(Level.referential_id == protocol.referential_id)
        .order_by(Level.rank.desc())
    ).first()
    response = client.post(
        f"/tablette/protocoles/{protocol.public_id}/reflexion",
        data={
            "client_id": "r-9",
            "occurred_at": local(utcnow() - timedelta(minutes=30)),
            "duration_minutes": "45",
            "situation_ids": [str(situation.id)],
            "expected": "Lever en sécurité",
            "learnt": "Prévenir avant chaque geste",
            f"level-{comp}": str(top.id),
        },
    )
    assert response.status_code == 302
    learner_page = client.get(f"/tablette/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert top.label in learner_page


def test_tutor_not_designated_gets_404(session, login_as):
    protocol = demo_protocol(session)  # designated: tuteur@, not tutrice2@
    other = login_as("tutrice2@azur-aide.demo")
    assert other.get(f"/tablette/protocoles/{protocol.public_id}/situation").status_code == 404
    response = post_situation(other, protocol, situation_form(session, protocol, client_id="x"))
    assert response.status_code == 404
    assert session.exec(select(Sequence).where(Sequence.client_id == "x")).first() is None
    seq = session.exec(select(Sequence).where(Sequence.protocol_id == protocol.id)).first()
    assert other.get(f"/sequences/{seq.public_id}").status_code == 404


@pytest.mark.parametrize(
    "email",
    [
        "direction@azur-aide.demo",  # sees the protocol (its structure), is not its tutor
        LEARNER,  # sees their own protocol
        "conseil@uniformation.demo",
        "consultant@aract-paca.demo",
        "tutrice2@azur-aide.demo",  # a tutor of the structure, not designated
        "admin@afest.demo",
    ],
)
@pytest.mark.parametrize("kind", ["situation", "reflexion"])
def test_a_save_by_anyone_but_a_designated_tutor_is_answered_as_the_form_is(
    session, login_as, email, kind
):
    """The save reads the protocol without the visibility clause, then hands anyone who is
    not a designated tutor to the scoped loader: 403 for who may see the protocol, 404 for
    anyone else, as the form page answers; nothing saved."""
    protocol = demo_protocol(session)
    client = login_as(email)
    url = f"/tablette/protocoles/{protocol.public_id}/{kind}"
    page = client.get(url).status_code
    assert page in (403, 404)
    response = client.post(url, data=situation_form(session, protocol, client_id="intrus"))
    assert response.status_code == page
    assert session.exec(select(Sequence).where(Sequence.client_id == "intrus")).first() is None


def test_a_designated_tutor_cannot_save_once_the_protocol_is_not_in_progress(session, login_as):
    protocol = demo_protocol(session)
    protocol.status = ProtocolStatus.COMPLETED
    session.add(protocol)
    session.flush()
    response = post_situation(
        login_as(TUTOR), protocol, situation_form(session, protocol, client_id="fini")
    )
    assert response.status_code == 403
    assert session.exec(select(Sequence).where(Sequence.client_id == "fini")).first() is None


def test_every_current_co_tutor_saves_and_an_ended_designation_does_not(session, login_as):
    """A save reads the protocol and all its designations in one statement: the tutor on the
    last row counts as much as the first, an ended designation not at all."""
    protocol = demo_protocol(session)
    first = session.exec(
        select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)
    ).one()
    co_tutor = session.exec(select(User).where(User.email == "tutrice2@azur-aide.demo")).one()
    designate(session, protocol, tutor_id=co_tutor.id, by_id=first.designated_by_id)
    session.flush()
    response = post_situation(
        login_as("tutrice2@azur-aide.demo"),
        protocol,
        situation_form(session, protocol, client_id="co-1"),
    )
    assert response.status_code == 302
    first.ended_at = utcnow()
    session.add(first)
    session.flush()
    response = post_situation(
        login_as(TUTOR), protocol, situation_form(session, protocol, client_id="ended-1")
    )
    assert response.status_code == 404
    saved = session.exec(
        select(Sequence.client_id).where(Sequence.client_id.in_(["co-1", "ended-1"]))
    ).all()
    assert saved == ["co-1"]


def test_sign_countersign_amend_and_verify_through_the_pages(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    location = post_situation(tutor, protocol, situation_form(session, protocol)).headers[
        "Location"
    ]
    public_id = location.split("/sequences/")[1].split("?")[0]
    page = tutor.get(f"/sequences/{public_id}").get_data(as_text=True)
    assert "Signer" in page and "Contresigner" not in page

    wrong = tutor.post(f"/sequences/{public_id}/signer", data={"sign-secret": "0000"})
    assert wrong.status_code == 422
    assert 'id="sign-secret-error"' in wrong.get_data(as_text=True)
    assert (
        tutor.post(f"/sequences/{public_id}/signer", data={"sign-secret": "2468"}).status_code
        == 302
    )

    # On the same tablet, the learner countersigns with their own password.
    bad = tutor.post(f"/sequences/{public_id}/contresigner", data={"cs-secret": "nope-nope"})
    assert bad.status_code == 422
    ok = tutor.post(f"/sequences/{public_id}/contresigner", data={"cs-secret": PASSWORD})
    assert ok.status_code == 302
    verify = tutor.get(f"/sequences/{public_id}/verification").get_data(as_text=True)
    assert verify.count('data-verdict="intact"') == 2

    # Correction: a new version; the original and its signatures stay as they were.
    original = session.exec(select(Sequence).where(Sequence.public_id == public_id)).one()
    form = situation_form(session, protocol, client_id="amend-1", observations="Corrigé")
    refused = tutor.post(f"/sequences/{public_id}/corriger", data=form)
    assert refused.status_code == 422
    assert 'id="reason-error"' in refused.get_data(as_text=True)
    form["reason"] = "Durée mal saisie"
    amended = tutor.post(f"/sequences/{public_id}/corriger", data=form)
    assert amended.status_code == 302
    new = session.exec(select(Sequence).where(Sequence.client_id == "amend-1")).one()
    assert new.amends_id == original.id
    session.refresh(original)
    assert original.observations == "Gestes sûrs, à revoir : la communication"
    assert "Cette version a été corrigée" in tutor.get(f"/sequences/{public_id}").get_data(
        as_text=True
    )

    # Someone edits the signed row behind the application's back: the verification says so.
    session.execute(
        text("UPDATE sequence SET observations = 'falsifié' WHERE id = :id"), {"id": original.id}
    )
    session.commit()
    verify = tutor.get(f"/sequences/{public_id}/verification").get_data(as_text=True)
    assert verify.count('data-verdict="tampered"') == 2


def test_learner_countersigns_later_from_their_own_account(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    location = post_situation(tutor, protocol, situation_form(session, protocol)).headers[
        "Location"
    ]
    public_id = location.split("/sequences/")[1].split("?")[0]
    tutor.post(f"/sequences/{public_id}/signer", data={"sign-secret": PASSWORD})
    learner = login_as(LEARNER)
    page = learner.get(f"/sequences/{public_id}/contresigner").get_data(as_text=True)
    assert "Contresigner" in page and "Corriger" not in page
    assert (
        learner.post(f"/sequences/{public_id}/signer", data={"sign-secret": PASSWORD}).status_code
        == 403
    )
    done = learner.post(f"/sequences/{public_id}/contresigner", data={"cs-secret": PASSWORD})
    assert done.status_code == 302
    assert "Contresigner" not in learner.get(f"/sequences/{public_id}").get_data(as_text=True)


def test_kind_is_fixed_by_the_route(session, login_as):
    protocol = demo_protocol(session)
    post_situation(login_as(TUTOR), protocol, situation_form(session, protocol, client_id="k-1"))
    seq = session.exec(select(Sequence).where(Sequence.client_id == "k-1")).one()
    assert seq.kind == SequenceKind.SITUATION


def test_levels_fragment_puts_the_situations_competences_first(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    comps = sorted(targeted_competence_ids(session, protocol.id))
    post_situation(
        client,
        protocol,
        situation_form(session, protocol, client_id="lv-1", competence_ids=[str(comps[-1])]),
    )
    situation = session.exec(select(Sequence).where(Sequence.client_id == "lv-1")).one()
    response = client.get(
        f"/tablette/protocoles/{protocol.public_id}/reflexion/niveaux",
        query_string={"situation_ids": str(situation.id)},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    worked = page.split("data-worked", 1)[1].split("<details", 1)[0]
    assert f'name="level-{comps[-1]}"' in worked
    assert f'name="level-{comps[0]}"' not in worked


def test_signature_secrets_are_checked_before_the_write_transaction(
    session, login_as, monkeypatch, engine_name, make_protocol
):
    """The argon2 check is slow on purpose; on SQLite the write transaction holds the
    database-wide lock, so no signature may check its secret inside it."""
    import flask

    from afest.accounts import operations as accounts
    from afest.core.database import WRITING
    from afest.sequences import signing

    real = accounts.verify_secret
    inside: list[bool] = []

    def spy(stored_hash, secret):
        inside.append("db_session" in flask.g and bool(flask.g.db_session.info.get(WRITING)))
        return real(stored_hash, secret)

    monkeypatch.setattr(accounts, "verify_secret", spy)
    monkeypatch.setattr(signing, "verify_secret", spy)
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    location = post_situation(tutor, protocol, situation_form(session, protocol)).headers[
        "Location"
    ]
    public_id = location.split("/sequences/")[1].split("?")[0]
    inside.clear()
    assert (
        tutor.post(f"/sequences/{public_id}/signer", data={"sign-secret": "2468"}).status_code
        == 302
    )
    wrong = tutor.post(f"/sequences/{public_id}/contresigner", data={"cs-secret": "nope-nope"})
    assert wrong.status_code == 422
    assert "Mot de passe incorrect" in wrong.get_data(as_text=True)
    ok = tutor.post(f"/sequences/{public_id}/contresigner", data={"cs-secret": PASSWORD})
    assert ok.status_code == 302
    awaiting, people = make_protocol(stage="awaiting")
    manager = login_as(people["manager"].email)
    inside.clear()
    signed = manager.post(
        f"/protocoles/{awaiting.public_id}/signer",
        data={"role": "structure", "password": PASSWORD},
    )
    assert signed.status_code == 302
    assert len(inside) == 1
    assert not any(inside)
