"""Moving a draft protocol to the newest version of its référentiel: targets, levels and
sequences carried where the competence codes match, what cannot be carried said, audited;
a protocol with a signature stays on its version, its signed content unchanged."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    AuditEntry,
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Level,
    Protocol,
    ProtocolCompetence,
    Referential,
    Signature,
    SignedKind,
)
from afest.models.rollup import rollup_protocol, rollup_protocol_block
from afest.proof import signatures
from afest.protocols import drafting, referential_move
from afest.referentials import revisions

from .rncp_files import XML_2027
from .test_revisions import C2_LINE


def _v1(session) -> Referential:
    return session.exec(
        select(Referential).where(Referential.code == "RNCP35830", Referential.version == 1)
    ).one()


def _revise(session, content: bytes | None = None) -> Referential:
    (v2,) = revisions.import_fiches(
        session, actor_id=None, content=content or XML_2027.read_bytes(), numbers=["RNCP35830"]
    )
    return v2


def _levels(session, ref: Referential) -> list[Level]:
    return list(
        session.exec(select(Level).where(Level.referential_id == ref.id).order_by(Level.rank))
    )


def _draft_with_positioning(session, make_protocol):
    protocol, people = make_protocol(stage="draft")  # targets C1 to C4 of version 1
    targets = session.exec(
        select(ProtocolCompetence.competence_id).where(
            ProtocolCompetence.protocol_id == protocol.id
        )
    ).all()
    levels = _levels(session, _v1(session))
    drafting.set_initial_positioning(
        session,
        actor_id=people["manager"].id,
        protocol=protocol,
        levels={cid: levels[i % 3].id for i, cid in enumerate(targets)},
    )
    session.flush()
    return protocol, people


def _targets(session, protocol: Protocol) -> list[tuple[str, str, str, int]]:
    return [
        (row.block_code, row.competence_code, row.block_title[:10], row.competence_id)
        for row in session.exec(
            select(ProtocolCompetence)
            .where(ProtocolCompetence.protocol_id == protocol.id)
            .order_by(ProtocolCompetence.position)
        )
    ]


def test_a_draft_moves_with_its_targets_and_levels(session, make_protocol):
    protocol, people = _draft_with_positioning(session, make_protocol)
    before = {
        row[0]: row[1]
        for row in session.exec(
            select(Competence.code, Level.rank)
            .join(CompetenceAssessment, CompetenceAssessment.competence_id == Competence.id)
            .join(Level, Level.id == CompetenceAssessment.level_id)
            .where(CompetenceAssessment.protocol_id == protocol.id)
        )
    }
    v2 = _revise(session)
    plan = referential_move.plan_move(session, protocol, v2)
    assert plan.possible and len(plan.competences) == 4 and not plan.dropped
    rollups.drain_all(session)  # the facts of version 1, settled
    referential_move.move_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, target=v2
    )
    assert session.get(Protocol, protocol.id).referential_id == v2.id
    v2_competences = set(
        session.exec(
            select(Competence.id)
            .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
            .where(CompetenceBlock.referential_id == v2.id)
        )
    )
    targets = _targets(session, protocol)
    assert [(b, c) for b, c, _t, _i in targets] == [
        ("RNCP35830BC01", "C1"),
        ("RNCP35830BC01", "C2"),
        ("RNCP35830BC02", "C3"),
        ("RNCP35830BC02", "C4"),
    ]
    assert {i for *_rest, i in targets} <= v2_competences
    assert targets[2][2] == "Évaluation"  # the snapshot is the new version's wording
    after = {
        code: (rank, referential_id)
        for code, rank, referential_id in session.exec(
            select(Competence.code, Level.rank, Level.referential_id)
            .join(CompetenceAssessment, CompetenceAssessment.competence_id == Competence.id)
            .join(Level, Level.id == CompetenceAssessment.level_id)
            .where(CompetenceAssessment.protocol_id == protocol.id)
        )
    }
    assert after == {code: (rank, v2.id) for code, rank in before.items()}
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "protocol.move_referential", AuditEntry.protocol_id == protocol.id
        )
    ).one()
    assert entry.actor_id == people["manager"].id
    # the dashboards' facts follow: the new version and its blocks
    rollups.drain_all(session)
    fact = session.execute(
        select(rollup_protocol.c.referential_id).where(rollup_protocol.c.protocol_id == protocol.id)
    ).scalar_one()
    blocks = set(
        session.execute(
            select(rollup_protocol_block.c.block_id).where(
                rollup_protocol_block.c.protocol_id == protocol.id
            )
        ).scalars()
    )
    v2_blocks = set(
        session.exec(select(CompetenceBlock.id).where(CompetenceBlock.referential_id == v2.id))
    )
    assert fact == v2.id and blocks and blocks - {0} <= v2_blocks


def test_a_target_without_equivalent_is_dropped_and_said(session, make_protocol):
    protocol, people = make_protocol(stage="draft")
    v2 = _revise(session, XML_2027.read_text(encoding="utf-8").replace(C2_LINE, "").encode())
    plan = referential_move.plan_move(session, protocol, v2)
    assert plan.dropped == ["RNCP35830BC01 / C2"] and plan.possible
    referential_move.move_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, target=v2
    )
    assert [c for _b, c, _t, _i in _targets(session, protocol)] == ["C1", "C3", "C4"]


def test_evidence_without_equivalent_stops_the_move(session, make_protocol):
    protocol, people = _draft_with_positioning(session, make_protocol)
    v2 = _revise(session, XML_2027.read_text(encoding="utf-8").replace(C2_LINE, "").encode())
    plan = referential_move.plan_move(session, protocol, v2)
    assert plan.stuck == ["RNCP35830BC01 / C2"] and not plan.possible
    with pytest.raises(ServiceError, match="C2"):
        referential_move.move_protocol(
            session, actor_id=people["manager"].id, protocol=protocol, target=v2
        )
    assert session.get(Protocol, protocol.id).referential_id == _v1(session).id


def test_a_signed_protocol_stays_on_its_version_and_its_signature_holds(session, make_protocol):
    protocol, people = make_protocol(stage="in_progress")
    v2 = _revise(session)
    assert referential_move.plan_move(session, protocol, v2).signed
    with pytest.raises(ServiceError, match="signatures"):
        referential_move.move_protocol(
            session, actor_id=people["manager"].id, protocol=protocol, target=v2
        )
    stored = session.exec(
        select(Signature.content_hash).where(
            Signature.subject_kind == SignedKind.PROTOCOL, Signature.subject_id == protocol.id
        )
    ).all()
    now = signatures.content_hash(session, SignedKind.PROTOCOL, session.get(Protocol, protocol.id))
    assert stored and set(stored) == {now}


def test_only_a_newer_version_of_the_same_referential_is_a_target(session, make_protocol):
    protocol, _people = make_protocol(stage="draft")
    other = session.exec(select(Referential).where(Referential.code == "RNCP36004")).first()
    with pytest.raises(ServiceError):
        referential_move.plan_move(session, protocol, other)
    with pytest.raises(ServiceError):
        referential_move.plan_move(session, protocol, _v1(session))


def test_the_page_shows_then_moves_the_draft(session, make_protocol, login_as):
    protocol, people = make_protocol(stage="draft")
    v2 = _revise(session)
    session.commit()
    manager = login_as(people["manager"].email)
    page = manager.get(f"/protocoles/{protocol.public_id}").get_data(as_text=True)
    assert "Passer à la version 2 du référentiel" in page
    url = f"/protocoles/{protocol.public_id}/version-referentiel"
    preview = manager.get(url)
    assert preview.status_code == 200
    assert "4 compétence(s) reprise(s)" in preview.get_data(as_text=True)
    done = manager.post(url)
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Protocol, protocol.id).referential_id == v2.id
    # the newest version now: there is nothing to move to
    assert manager.get(url).status_code == 404


def test_new_protocols_are_offered_the_newest_version_only(session, login_as):
    v2 = _revise(session)
    session.commit()
    manager = login_as("direction@azur-aide.demo")
    page = manager.get("/protocoles/nouveau").get_data(as_text=True)
    choices = re.search(r'<select[^>]*name="referential".*?</select>', page, re.S).group(0)
    assert f'value="{v2.id}"' in choices and "(v2)" in choices
    assert f'value="{_v1(session).id}"' not in choices
