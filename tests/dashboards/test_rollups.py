"""Rollups kept current on write equal a full rebuild, after any sequence of writes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlmodel import select

from afest.assessments import evaluations
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    Autonomy,
    Evaluation,
    EvaluationKind,
    Level,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    Referential,
    Sequence,
    SequenceKind,
    SignedKind,
    SignerRole,
    VaeState,
)
from afest.models.rollup import ROLLUP_TABLES, rollup_cell, rollup_pending, rollup_protocol
from afest.proof import signatures
from afest.protocols import compliance, drafting, pausing
from afest.protocols import operations as protocols
from afest.sequences import operations as sequences
from afest.sequences.operations import SequenceData, not_amended
from afest.vae import operations as vae
from afest.vae import states as vae_states

PARIS = ZoneInfo("Europe/Paris")
OPS = (
    "situation",
    "reflection",
    "amend",
    "evaluation",
    "sign_evaluation",
    "pause",
    "resume",
    "stop",
    "new_protocol",
    "vae",
)
# The writes on the protocol itself: refused once it is stopped, and only then.
PROTOCOL_WRITES = frozenset(
    {"situation", "reflection", "amend", "evaluation", "pause", "resume", "stop"}
)
EXAMPLES = 20
WRITES = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 9)), min_size=1, max_size=10)


def snapshot(session) -> dict[str, list[tuple]]:
    conn = session.connection()
    return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in ROLLUP_TABLES}


def drain_all(session) -> None:
    rollups.drain_all(session, limit=3)
    assert not rollups.is_pending(session)


def assert_equals_rebuild(session) -> None:
    drain_all(session)
    before = snapshot(session)
    rollups.rebuild(session)
    after = snapshot(session)
    for name in before:
        assert before[name] == after[name], name


class World:
    """A protocol in progress and its people, on which random writes are played."""

    def __init__(self, session, protocol, people):
        self.session, self.protocol, self.people = session, protocol, people
        self.pathway = None
        self.n = 0
        ref = session.get(Referential, protocol.referential_id)
        self.levels = list(
            session.exec(
                select(Level.id).where(Level.referential_id == ref.id).order_by(Level.rank)
            )
        )
        self.comps = sorted(
            session.exec(
                select(ProtocolCompetence.competence_id).where(
                    ProtocolCompetence.protocol_id == protocol.id
                )
            )
        )

    def _id(self) -> str:
        self.n += 1
        return f"prop-{id(self)}-{self.n}"

    def _current(self, kind: SequenceKind) -> list[Sequence]:
        return list(
            self.session.exec(
                select(Sequence)
                .where(
                    Sequence.protocol_id == self.protocol.id, Sequence.kind == kind, not_amended()
                )
                .order_by(Sequence.id)
            )
        )

    def play(self, op: str, x: int) -> bool:
        """Play one write; False when there was nothing for it to act on (no write made)."""
        s, p, tutor = self.session, self.protocol, self.people["tutor"]
        when = datetime.now(UTC) - timedelta(days=15 - x)
        if op == "situation":
            sequences.log_sequence(
                s,
                actor_id=tutor.id,
                protocol=p,
                kind=SequenceKind.SITUATION,
                tz=PARIS,
                data=SequenceData(
                    client_id=self._id(),
                    occurred_at=when,
                    duration_minutes=60 + 10 * x,
                    autonomy=Autonomy.ALONE,
                    competence_ids=[self.comps[x % len(self.comps)]],
                ),
            )
        elif op == "reflection":
            situations = self._current(SequenceKind.SITUATION)
            if not situations:
                return False
            situation = situations[x % len(situations)]
            comp = self.comps[x % len(self.comps)]
            sequences.log_sequence(
                s,
                actor_id=tutor.id,
                protocol=p,
                kind=SequenceKind.REFLECTION,
                tz=PARIS,
                data=SequenceData(
                    client_id=self._id(),
                    occurred_at=max(situation.occurred_at + timedelta(hours=2), when),
                    duration_minutes=45,
                    situation_ids=[situation.id],
                    levels={comp: self.levels[x % len(self.levels)]},
                ),
            )
        elif op == "amend":
            current = self._current(SequenceKind.SITUATION) + self._current(SequenceKind.REFLECTION)
            if not current:
                return False
            original = current[x % len(current)]
            data = sequences.data_of(s, original, client_id=self._id())
            data.duration_minutes = 30 + x
            sequences.amend_sequence(
                s,
                actor_id=tutor.id,
                protocol=p,
                original=original,
                data=data,
                reason="Correction",
                tz=PARIS,
            )
        elif op == "evaluation":
            evaluations.create_evaluation(
                s,
                actor_id=tutor.id,
                protocol=p,
                client_id=self._id(),
                kind=EvaluationKind.INTERMEDIATE,
                evaluated_on=date.today(),
                summary="Point d'étape",
                levels={
                    c: self.levels[(x + i) % len(self.levels)] for i, c in enumerate(self.comps)
                },
            )
        elif op == "sign_evaluation":
            unsigned = [
                e
                for e in s.exec(
                    select(Evaluation).where(Evaluation.protocol_id == p.id).order_by(Evaluation.id)
                )
                if not any(
                    g.signer_role == SignerRole.TUTOR
                    for g in signatures.signatures_of(s, SignedKind.EVALUATION, e.id)
                )
            ]
            if not unsigned:
                return False
            evaluations.sign_evaluation(
                s,
                actor_id=tutor.id,
                protocol=p,
                evaluation=unsigned[x % len(unsigned)],
                role=SignerRole.TUTOR,
                method="password",
            )
        elif op == "pause":
            if pausing.open_pause(s, p.id) is not None:
                return False
            pausing.pause(
                s,
                actor_id=self.people["manager"].id,
                protocol=p,
                paused_from=datetime.now(PARIS).date(),
                planned_until=None,
                reason=f"Absence {x}",
                zone=PARIS,
            )
        elif op == "resume":
            if pausing.open_pause(s, p.id) is None:
                return False
            pausing.resume(
                s,
                actor_id=self.people["manager"].id,
                protocol=p,
                resumed_on=datetime.now(PARIS).date(),
                zone=PARIS,
            )
        elif op == "stop":
            protocols.stop_protocol(s, actor_id=self.people["manager"].id, protocol=p, reason="Fin")
        elif op == "new_protocol":
            other = drafting.create_protocol(
                s,
                actor_id=self.people["manager"].id,
                learner=self.people["learner"],
                structure=p.structure if "structure" in p.__dict__ else _structure(s, p),
                referential_id=p.referential_id,
                title="Deuxième AFEST",
                planned_start=date.today(),
                planned_end=date.today() + timedelta(days=30),
                competence_ids=self.comps[:2],
                tutor_ids=[tutor.id],
                activity_analysis="" if x % 2 else "Analyse",
            )
            drafting.set_initial_positioning(
                s,
                actor_id=self.people["manager"].id,
                protocol=other,
                levels={c: self.levels[x % len(self.levels)] for c in self.comps[:2]},
            )
        elif op == "vae":
            if self.pathway is None:
                self.pathway = vae.start_pathway(
                    s,
                    actor_id=tutor.id,
                    learner_id=self.people["learner"].id,
                    structure_id=p.structure_id,
                    referential_id=p.referential_id,
                    cohort_id=None,
                    consultant_id=None,
                    started_on=date.today() - timedelta(days=40),
                )
            else:
                nxt = vae_states.NEXT[self.pathway.state]
                state = next((n for n in nxt if n != VaeState.ABANDON), None)
                if state is None or state in (VaeState.JURY_PLANIFIE, VaeState.JURY_RESULTAT):
                    return False
                vae.record_milestone(
                    s,
                    actor_id=tutor.id,
                    pathway=self.pathway,
                    state=state,
                    occurred_on=date.today() - timedelta(days=20),
                    reason="Motif",
                )
        return True


def _structure(session, protocol):
    from afest.models import Organisation

    return session.get(Organisation, protocol.structure_id)


def test_demo_seed_left_rollups_equal_to_a_rebuild(session):
    assert (
        session.connection()
        .execute(sa.select(sa.func.count()).select_from(rollup_protocol))
        .scalar()
    )
    assert_equals_rebuild(session)


def test_rollups_equal_a_rebuild_after_any_writes(session, make_protocol):
    """Random writes, then the rollups kept on write equal a rebuild, also when they are read
    between two writes. A write is refused only where the rules say so (on the protocol once
    it is stopped): any other refusal fails the test, and the run as a whole must have written,
    so it cannot pass by writing nothing."""
    # One protocol for every example (making people hashes PINs, which is slow); each
    # example plays its writes in a savepoint rolled back at its end.
    protocol, people = make_protocol()
    # Settled before the examples: a mark left by the set-up would refresh the protocol at
    # every example's end, hiding a write that forgets to mark it.
    drain_all(session)
    written: Counter[str] = Counter()
    examples_that_wrote = 0

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=WRITES, read_after=st.integers(0, 9))
    def play_and_compare(ops, read_after):
        nonlocal examples_that_wrote
        savepoint = session.begin_nested()
        try:
            assert protocol.status == ProtocolStatus.IN_PROGRESS  # nothing left by an example
            world = World(session, protocol, people)
            stopped, wrote = False, Counter()
            for i, (op, x) in enumerate(ops):
                must_refuse = stopped and op in PROTOCOL_WRITES
                try:
                    with session.begin_nested():
                        acted = world.play(op, x)
                except ServiceError:
                    if not must_refuse:
                        raise  # a valid write refused
                    acted = False  # refused, and rolled back
                else:
                    assert not (acted and must_refuse), f"{op} written on a stopped protocol"
                if acted:
                    wrote[op] += 1
                    stopped = stopped or op == "stop"
                if i == read_after < len(ops) - 1:
                    # A dashboard read between two writes: a later write to the same protocol
                    # would otherwise cover one that forgot to mark it.
                    assert_equals_rebuild(session)
            note(f"writes made: {dict(wrote)}")
            assert_equals_rebuild(session)
        finally:
            savepoint.rollback()
        written.update(wrote)
        examples_that_wrote += bool(wrote)

    play_and_compare()
    # The examples must have written: most of them, several kinds of writes. (A write refused
    # where the rules allow it has failed the run above already.)
    assert examples_that_wrote >= EXAMPLES // 2, written
    assert sum(written.values()) >= EXAMPLES, written
    assert len(written) >= 3, written


def test_rebuild_is_idempotent_and_counts_rows(session):
    first = rollups.rebuild(session)
    assert first == rollups.rebuild(session)
    assert first["rollupprotocol"] >= 97


def test_a_sequence_moves_only_its_protocol_cells(session, make_protocol):
    protocol, people = make_protocol()
    world = World(session, protocol, people)

    def row():
        return (
            session.connection()
            .execute(sa.select(rollup_protocol).where(rollup_protocol.c.protocol_id == protocol.id))
            .one()
        )

    drain_all(session)
    assert row().done_sequences == 0
    world.play("situation", 3)
    drain_all(session)
    assert (row().done_sequences, row().done_minutes) == (1, 90)
    assert row().cond_reflection == 0
    world.play("reflection", 0)
    drain_all(session)
    assert row().cond_reflection == 1 and row().done_sequences == 2
    assert_equals_rebuild(session)


def pending_ids(session) -> list[int]:
    return list(session.connection().scalars(sa.select(rollup_pending.c.protocol_id)))


def test_a_save_only_marks_its_protocol_and_a_drain_folds_it_in(session, make_protocol):
    protocol, people = make_protocol()
    world = World(session, protocol, people)
    drain_all(session)
    before = snapshot(session)
    world.play("situation", 3)
    world.play("situation", 4)
    assert pending_ids(session) == [protocol.id]  # two saves, one mark
    assert snapshot(session) == before  # nothing read-side moved yet
    assert rollups.drain(session) == 1
    assert pending_ids(session) == []
    assert snapshot(session) != before
    assert_equals_rebuild(session)


def test_a_rebuild_clears_the_marks(session, make_protocol):
    protocol, people = make_protocol()
    World(session, protocol, people).play("situation", 1)
    assert pending_ids(session)
    rollups.rebuild(session)
    assert pending_ids(session) == []


def test_a_mark_for_a_protocol_no_longer_there_settles_to_nothing(session, make_protocol):
    protocol, _people = make_protocol()
    drain_all(session)
    fact = sa.select(rollup_protocol).where(rollup_protocol.c.protocol_id == protocol.id)
    assert session.connection().execute(fact).first() is not None
    rollups.mark(session, [protocol.id + 10_000_000])  # no such protocol: nothing to add
    assert rollups.drain(session) == 1
    assert_equals_rebuild(session)


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_blank_activity_analysis_fails_condition_one(session, make_protocol, blank):
    protocol, _people = make_protocol()
    protocol.activity_analysis = blank
    session.add(protocol)
    rollups.on_protocol_changed(session, protocol.id)
    drain_all(session)
    row = (
        session.connection()
        .execute(sa.select(rollup_protocol).where(rollup_protocol.c.protocol_id == protocol.id))
        .one()
    )
    assert row.cond_analysis == 0 and row.compliant == 0


def test_a_pause_and_its_resumption_move_the_paused_count(session, make_protocol):
    protocol, people = make_protocol()
    world = World(session, protocol, people)

    def paused() -> tuple[int, int]:
        conn = session.connection()
        fact = conn.execute(
            sa.select(rollup_protocol.c.paused).where(rollup_protocol.c.protocol_id == protocol.id)
        ).scalar_one()
        cell = conn.execute(
            sa.select(rollup_cell.c.paused).where(
                rollup_cell.c.grain == "sf", rollup_cell.c.structure_id == protocol.structure_id
            )
        ).scalar_one()
        return fact, cell

    drain_all(session)
    assert paused() == (0, 0)
    assert world.play("pause", 1)
    drain_all(session)
    assert paused() == (1, 1)
    assert_equals_rebuild(session)
    assert world.play("resume", 1)
    drain_all(session)
    assert paused() == (0, 0)
    assert world.play("pause", 2) and world.play("stop", 0)  # a stop ends the pause
    drain_all(session)
    assert paused() == (0, 0)
    assert_equals_rebuild(session)


CONDITIONS = ("cond_analysis", "cond_tutor", "cond_reflection", "cond_evaluation")


def assert_conditions_equal_the_checklist(session) -> int:
    """Each protocol's four conditions in the rollups are met exactly when the compliance
    panel says so, and it is compliant exactly when all four are; return how many compared."""
    drain_all(session)
    rows = {
        r.protocol_id: r for r in session.connection().execute(sa.select(rollup_protocol)).all()
    }
    protocols_ = session.exec(select(Protocol).where(Protocol.id.in_(list(rows)))).all()
    for protocol_id, checklist in compliance.check_many(session, protocols_).items():
        row = rows[protocol_id]
        met = [c.met for c in checklist.conditions]
        assert [bool(getattr(row, c)) for c in CONDITIONS] == met, (protocol_id, met)
        assert bool(row.compliant) == checklist.all_met, protocol_id
    return len(rows)


def test_the_rollups_conditions_are_the_checklist_s(session, make_protocol):
    """On the demo, and on protocols built for the cases where the two could part: none or
    one situation, an evaluation the tutor has not signed yet, then signed."""
    empty, _ = make_protocol()
    protocol, people = make_protocol()
    world = World(session, protocol, people)
    assert world.play("situation", 3) and world.play("reflection", 0)
    assert world.play("evaluation", 1)
    assert assert_conditions_equal_the_checklist(session) >= 99
    row = {r.protocol_id: r for r in session.connection().execute(sa.select(rollup_protocol))}
    assert row[empty.id].cond_reflection == 0  # no situation: not met
    assert row[protocol.id].cond_reflection == 1
    assert row[protocol.id].cond_evaluation == 0  # evaluated, not signed yet
    assert world.play("sign_evaluation", 0)
    assert_conditions_equal_the_checklist(session)
    drain_all(session)
    fact = sa.select(rollup_protocol).where(rollup_protocol.c.protocol_id == protocol.id)
    assert session.connection().execute(fact).one().cond_evaluation == 1
    assert_equals_rebuild(session)


def test_a_protocol_in_no_cohort_has_no_cell_in_the_cohort_family(session, make_protocol):
    """No view reads a cohort-family cell of cohort 0, so none is kept, on write or rebuilt;
    a protocol in a cohort has its cohort's cells."""
    from afest.models.rollup import rollup_vae_cell

    cohort_grains = sorted(
        g
        for g, keep in {**rollups.GRAINS, **rollups.BLOCK_GRAINS}.items()
        if "cohort" in keep and "funder" not in keep
    )
    protocol, people = make_protocol()
    assert protocol.cohort_id is None
    World(session, protocol, people).play("situation", 3)

    def cells(table, cohort_id: int) -> int:
        query = sa.select(sa.func.count()).where(
            table.c.grain.in_(cohort_grains), table.c.cohort_id == cohort_id
        )
        return session.connection().execute(query.select_from(table)).scalar()

    for settle in (drain_all, rollups.rebuild):
        settle(session)
        assert cells(rollup_cell, 0) == 0 and cells(rollup_vae_cell, 0) == 0
        in_cohort = set(
            session.connection().scalars(
                sa.select(rollup_protocol.c.cohort_id).where(rollup_protocol.c.cohort_id != 0)
            )
        )
        assert in_cohort and all(cells(rollup_cell, c) for c in in_cohort)
    assert_equals_rebuild(session)
