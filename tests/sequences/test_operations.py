"""Sequences on the tablet: idempotent saves, signatures with re-authentication, amendments,
tamper detection, and the tutor's "Mes apprenant·es" counts."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from afest.assessments.levels import targeted_competence_ids
from afest.core.errors import ServiceError
from afest.models import Autonomy, Level, Sequence, SequenceKind, SignedKind, SignerRole, utcnow
from afest.proof import signatures
from afest.sequences import operations as sequences
from afest.sequences import signing
from afest.sequences import tablet as tablet_view

TZ = ZoneInfo("Europe/Paris")
PASSWORD = "afest-demo-2026"


def situation_data(session, protocol, client_id="c-1", **over):
    comps = sorted(targeted_competence_ids(session, protocol.id))
    values = {
        "client_id": client_id,
        "occurred_at": utcnow() - timedelta(days=2),
        "duration_minutes": 90,
        "autonomy": Autonomy.ACCOMPANIED,
        "intent": "Aide à la toilette",
        "observations": "Bonne communication",
        "competence_ids": comps[:2],
    }
    values.update(over)
    return sequences.SequenceData(**values)


def log(session, protocol, people, kind=SequenceKind.SITUATION, data=None):
    return sequences.log_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        kind=kind,
        data=data or situation_data(session, protocol),
        tz=TZ,
    )


def count(session, protocol) -> int:
    return session.exec(
        select(func.count()).select_from(Sequence).where(Sequence.protocol_id == protocol.id)
    ).one()


def test_same_client_id_saves_one_row(session, make_protocol):
    protocol, people = make_protocol()
    first, created = log(session, protocol, people)
    again, created_again = log(session, protocol, people)
    assert created and not created_again
    assert again.id == first.id
    assert count(session, protocol) == 1


def test_log_sequence_answers_the_row_it_wrote_or_found(session, make_protocol):
    protocol, people = make_protocol()
    kwargs = {
        "actor_id": people["tutor"].id,
        "protocol": protocol,
        "kind": SequenceKind.SITUATION,
        "data": situation_data(session, protocol, client_id="c-ids"),
        "tz": TZ,
    }
    first, first_created = sequences.log_sequence(session, **kwargs)
    again, again_created = sequences.log_sequence(session, **kwargs)
    row = session.exec(select(Sequence).where(Sequence.client_id == "c-ids")).one()
    assert (first.id, first.public_id, first_created) == (row.id, row.public_id, True)
    assert (again.id, again.public_id, again_created) == (row.id, row.public_id, False)


def test_same_entry_sent_again_after_it_became_invalid_gets_the_saved_one(session, make_protocol):
    """A resend answers with what was saved, even if the same entry would now be refused."""
    protocol, people = make_protocol()
    first, _ = log(session, protocol, people)
    late = situation_data(session, protocol, occurred_at=utcnow() + timedelta(days=3))
    with pytest.raises(ServiceError):  # the data alone is refused...
        log(
            session,
            protocol,
            people,
            data=situation_data(session, protocol, client_id="c-new", occurred_at=late.occurred_at),
        )
    again, created = log(session, protocol, people, data=late)  # ...but this entry was saved
    assert not created and again.id == first.id
    assert count(session, protocol) == 1


def test_client_id_of_another_protocol_or_tutor_is_refused(session, make_protocol):
    protocol, people = make_protocol()
    other, other_people = make_protocol()
    log(session, protocol, people)
    for target, who in ((other, other_people), (protocol, {"tutor": people["manager"]})):
        with pytest.raises(ServiceError, match="déjà utilisé"):
            sequences.log_sequence(
                session,
                actor_id=who["tutor"].id,
                protocol=target,
                kind=SequenceKind.SITUATION,
                data=situation_data(session, target),
                tz=TZ,
            )
    assert count(session, protocol) == 1 and count(session, other) == 0


def test_tutor_signs_with_pin_and_learner_countersigns_with_password(session, make_protocol):
    protocol, people = make_protocol()
    sequence, _ = log(session, protocol, people)
    with pytest.raises(ServiceError) as bad:
        signing.sign_as_tutor(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            sequence=sequence,
            secret="0000",
        )
    assert bad.value.field == "secret"
    signing.sign_as_tutor(
        session, actor_id=people["tutor"].id, protocol=protocol, sequence=sequence, secret="1357"
    )
    with pytest.raises(ServiceError):  # the learner's PIN is never enough: password only
        signing.countersign(
            session,
            actor_id=people["tutor"].id,
            learner=people["learner"],
            protocol=protocol,
            sequence=sequence,
            password="1357",
        )
    signing.countersign(
        session,
        actor_id=people["tutor"].id,
        learner=people["learner"],
        protocol=protocol,
        sequence=sequence,
        password=PASSWORD,
    )
    sigs = signatures.signatures_of(session, SignedKind.SEQUENCE, sequence.id)
    assert [(s.signer_role, s.method) for s in sigs] == [
        (SignerRole.TUTOR, "pin"),
        (SignerRole.LEARNER, "password-tablet"),
    ]
    assert all(v.intact for v in signatures.verify(session, SignedKind.SEQUENCE, sequence))


def test_the_learners_password_is_checked_against_the_learner_of_that_sequence(
    session, make_protocol
):
    """The countersignature asks the learner's own password: the tutor's PIN does not pass."""
    protocol, _people = make_protocol()
    learner = protocol.learner
    assert signing.confirm_secret(learner, PASSWORD, allow_pin=False) == signing.METHOD_PASSWORD
    with pytest.raises(ServiceError) as wrong:
        signing.confirm_secret(learner, "1357", allow_pin=False)  # the tutor's PIN
    assert wrong.value.field == "secret"


def test_signed_sequence_cannot_be_edited_and_a_correction_keeps_the_original(
    session, make_protocol
):
    protocol, people = make_protocol()
    original, _ = log(session, protocol, people)
    signing.sign_as_tutor(
        session, actor_id=people["tutor"].id, protocol=protocol, sequence=original, secret="1357"
    )
    before = signatures.content_hash(session, SignedKind.SEQUENCE, original)

    # Resubmitting the same entry with other content does not overwrite the signed row.
    altered = situation_data(session, protocol, observations="Réécrit après signature")
    same, created = log(session, protocol, people, data=altered)
    assert not created and same.id == original.id
    session.refresh(original)
    assert original.observations == "Bonne communication"

    with pytest.raises(ServiceError) as no_reason:
        sequences.amend_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            original=original,
            data=situation_data(session, protocol, client_id="c-2"),
            reason="  ",
            tz=TZ,
        )
    assert no_reason.value.field == "reason"
    amendment = sequences.amend_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        original=original,
        data=situation_data(session, protocol, client_id="c-2", observations="Corrigé"),
        reason="Erreur de saisie",
        tz=TZ,
    )
    assert amendment.amends_id == original.id
    assert amendment.amendment_reason == "Erreur de saisie"
    assert amendment.created_by_id == people["tutor"].id
    session.refresh(original)
    assert original.observations == "Bonne communication"
    assert signatures.content_hash(session, SignedKind.SEQUENCE, original) == before
    assert all(v.intact for v in signatures.verify(session, SignedKind.SEQUENCE, original))
    # The superseded version can be neither signed again nor corrected twice.
    with pytest.raises(ServiceError):
        signing.countersign(
            session,
            actor_id=people["learner"].id,
            learner=people["learner"],
            protocol=protocol,
            sequence=original,
            password=PASSWORD,
        )
    with pytest.raises(ServiceError):
        sequences.amend_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            original=original,
            data=situation_data(session, protocol, client_id="c-3"),
            reason="Encore",
            tz=TZ,
        )


def test_tampering_with_a_signed_row_is_detected(session, make_protocol):
    protocol, people = make_protocol()
    sequence, _ = log(session, protocol, people)
    signing.sign_as_tutor(
        session, actor_id=people["tutor"].id, protocol=protocol, sequence=sequence, secret="1357"
    )
    assert all(v.intact for v in signatures.verify(session, SignedKind.SEQUENCE, sequence))
    session.execute(
        text("UPDATE sequence SET duration_minutes = 600 WHERE id = :id"), {"id": sequence.id}
    )
    session.expire_all()
    sequence = session.get(Sequence, sequence.id)
    checks = signatures.verify(session, SignedKind.SEQUENCE, sequence)
    assert checks and not any(v.intact for v in checks)


def test_learners_overview_counts_what_is_owed(session, make_protocol):
    protocol, people = make_protocol()
    situation, _ = log(session, protocol, people)
    lines = tablet_view.tutor_learners(session, people["tutor"].id, today=utcnow().date())
    assert [line.protocol.id for line in lines] == [protocol.id]
    line = lines[0]
    assert (line.owed.unanalysed, line.owed.unsigned, line.owed.awaiting_learner) == (1, 1, 0)
    assert line.last_sequence.id == situation.id
    assert line.next_planned is None  # the factory's protocol has no plan

    signing.sign_as_tutor(
        session, actor_id=people["tutor"].id, protocol=protocol, sequence=situation, secret="1357"
    )
    level = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).first()
    comp = situation_data(session, protocol).competence_ids[0]
    log(
        session,
        protocol,
        people,
        kind=SequenceKind.REFLECTION,
        data=sequences.SequenceData(
            client_id="r-1",
            occurred_at=utcnow() - timedelta(days=1),
            duration_minutes=45,
            situation_ids=[situation.id],
            levels={comp: level.id},
        ),
    )
    line = tablet_view.tutor_learners(session, people["tutor"].id, today=utcnow().date())[0]
    assert (line.owed.unanalysed, line.owed.unsigned, line.owed.awaiting_learner) == (0, 1, 1)
    assert tablet_view.current_levels(session, protocol.id)[comp].id == level.id


def reflection_on(session, protocol, situation, *, client_id: str, **text):
    """A reflection analysing `situation`: one competence worked on, another given a level."""
    level = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id)
    ).first()
    comps = situation_data(session, protocol).competence_ids
    data = sequences.SequenceData(
        client_id=client_id,
        occurred_at=utcnow() - timedelta(hours=1),
        duration_minutes=30,
        situation_ids=[situation.id],
        competence_ids=comps[:1],
        levels={comps[-1]: level.id},
        **text,
    )
    return data, comps, level


def test_audit_content_of_a_new_sequence_is_its_signed_content(session, make_protocol):
    protocol, people = make_protocol()
    situation, _ = log(session, protocol, people)
    data, _comps, _level = reflection_on(session, protocol, situation, client_id="r-audit")
    reflection, _ = log(session, protocol, people, kind=SequenceKind.REFLECTION, data=data)
    from afest.core import audit
    from afest.models import AuditEntry

    for sequence in (situation, reflection):
        entry = session.exec(
            select(AuditEntry).where(
                AuditEntry.subject_kind == "sequence", AuditEntry.subject_id == sequence.id
            )
        ).one()
        assert entry.after == audit.plain(signatures.sequence_content(session, sequence))


def test_a_save_writes_its_rows_and_one_chained_entry_and_a_resend_writes_nothing(
    session, make_protocol
):
    """What a save writes with the sequence (in one statement on PostgreSQL): competences,
    analysed situations, levels, the rollup mark and an audit entry whose hash the
    application recomputes; the same entry sent again writes none of it."""
    from afest.core import audit
    from afest.models import (
        AuditEntry,
        CompetenceAssessment,
        ReflectionSituation,
        SequenceCompetence,
    )
    from afest.models.rollup import rollup_pending
    from afest.proof import integrity

    protocol, people = make_protocol()
    situation, _ = log(session, protocol, people)
    data, comps, level = reflection_on(
        session,
        protocol,
        situation,
        client_id="r-rows",
        expected="Prévenir la personne, « pudeur » — ½ geste",
    )

    def written():
        return [
            session.exec(select(func.count()).select_from(table)).one()
            for table in (SequenceCompetence, ReflectionSituation, CompetenceAssessment, AuditEntry)
        ] + [
            session.connection()
            .execute(
                select(rollup_pending.c.marks).where(rollup_pending.c.protocol_id == protocol.id)
            )
            .scalar()
        ]

    before = written()
    reflection, created = log(session, protocol, people, kind=SequenceKind.REFLECTION, data=data)
    assert created
    after = written()
    assert [a - b for a, b in zip(after, before, strict=True)] == [
        len(set(comps[:1]) | {comps[-1]}),
        1,
        1,
        1,
        1,
    ]
    assert session.exec(
        select(CompetenceAssessment.competence_id, CompetenceAssessment.level_id).where(
            CompetenceAssessment.sequence_id == reflection.id
        )
    ).all() == [(comps[-1], level.id)]
    assert set(
        session.exec(
            select(ReflectionSituation.situation_id).where(
                ReflectionSituation.reflection_id == reflection.id
            )
        )
    ) == {situation.id}
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.protocol_id == protocol.id)
        .order_by(AuditEntry.id.desc())
        .limit(2)
    ).all()
    assert entries[0].subject_id == reflection.id and entries[1].subject_id == situation.id
    assert entries[0].after == audit.plain(signatures.sequence_content(session, reflection))
    assert entries[0].prev_hash == entries[1].hash
    assert all(audit.entry_hash(e) == e.hash for e in entries)
    assert list(integrity.check_audit_chains(session)) == []

    again, created_again = log(session, protocol, people, kind=SequenceKind.REFLECTION, data=data)
    assert not created_again and again.id == reflection.id
    assert written() == after


def test_next_planned_follows_the_plan_in_order(session):
    from afest.models import PlannedSequence, Protocol, User

    tutor = session.exec(select(User).where(User.email == "tuteur@azur-aide.demo")).one()
    learner = session.exec(select(User).where(User.email == "apprenant3@azur-aide.demo")).one()
    protocol = session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()
    plan = session.exec(
        select(PlannedSequence)
        .where(PlannedSequence.protocol_id == protocol.id)
        .order_by(PlannedSequence.position, PlannedSequence.planned_on)
    ).all()
    done = count(session, protocol)
    line = next(
        line
        for line in tablet_view.tutor_learners(session, tutor.id, today=utcnow().date())
        if line.protocol.id == protocol.id
    )
    assert 0 < done < len(plan)
    assert line.next_planned.id == plan[done].id
    assert line.overdue == (plan[done].planned_on < utcnow().date())


def test_two_copies_of_one_entry_sent_at_once_make_one_row(fresh_database_url):
    """The tablet resends an entry whose answer it did not get while the first copy is still
    being written: the second waits for the first, then answers with its row, no error."""
    import threading
    import time

    from alembic import command
    from sqlmodel import Session

    from afest import demo
    from afest.core.database import Database, make_engine
    from afest.models import Protocol, ProtocolStatus, ProtocolTutor
    from tests.conftest import alembic_config

    engine = make_engine(fresh_database_url())
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with Session(engine) as s:
        demo.seed(s)
        s.commit()
        protocol = s.exec(
            select(Protocol).where(Protocol.status == ProtocolStatus.IN_PROGRESS)
        ).first()
        tutor_id = s.exec(
            select(ProtocolTutor.tutor_id).where(ProtocolTutor.protocol_id == protocol.id)
        ).first()
    db = Database(engine)
    written, results, errors = threading.Event(), [], []

    def save(hold: float) -> None:
        try:
            with db.session(write=True) as s:
                p = s.get(Protocol, protocol.id)
                data = situation_data(s, p, client_id="twice")
                results.append(
                    sequences.log_sequence(
                        s,
                        actor_id=tutor_id,
                        protocol=p,
                        kind=SequenceKind.SITUATION,
                        data=data,
                        tz=TZ,
                    )
                )
                written.set()
                time.sleep(hold)  # the second copy arrives meanwhile
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            written.set()

    first = threading.Thread(target=save, args=(0.5,))
    first.start()
    written.wait(10)
    save(0)
    first.join(10)
    assert not errors
    (a, created_a), (b, created_b) = results
    assert a.id == b.id and [created_a, created_b] == [True, False]
    with Session(engine) as s:
        assert (
            s.exec(
                select(func.count()).select_from(Sequence).where(Sequence.client_id == "twice")
            ).one()
            == 1
        )
    engine.dispose()


def test_a_reflection_corrected_after_its_situation_was_corrected_analyses_the_correction(
    session, make_protocol
):
    protocol, people = make_protocol()
    situation, _ = log(session, protocol, people)
    data, _comps, _level = reflection_on(session, protocol, situation, client_id="r-1")
    reflection, _ = log(session, protocol, people, kind=SequenceKind.REFLECTION, data=data)
    fixed_situation = sequences.amend_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        original=situation,
        data=sequences.data_of(session, situation, client_id="c-fix"),
        reason="Durée corrigée",
        tz=TZ,
    )
    again = sequences.data_of(session, reflection, client_id="r-fix")
    assert again.situation_ids == [fixed_situation.id]
    fixed_reflection = sequences.amend_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        original=reflection,
        data=again,
        reason="Analyse complétée",
        tz=TZ,
    )
    content = signatures.sequence_content(session, fixed_reflection)
    assert list(content["situations"]) == [fixed_situation.id]
