"""The dossier de validation draft holds exactly the signed sequences tagged with the block."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlmodel import select

from afest.models import CompetenceBlock
from afest.sequences import operations as sequences
from afest.vae import dossier
from afest.vae import operations as vae
from tests.learner_factories import (
    TZ,
    levels,
    reflection,
    sign,
    situation,
    start_of,
    targeted,
)


@pytest.fixture()
def setup(session, make_protocol):
    protocol, people = make_protocol()
    pathway = vae.start_pathway(
        session,
        actor_id=people["manager"].id,
        learner_id=people["learner"].id,
        structure_id=protocol.structure_id,
        referential_id=protocol.referential_id,
        cohort_id=None,
        consultant_id=None,
        started_on=date.today() - timedelta(days=30),
    )
    return protocol, people, pathway


def test_draft_holds_exactly_the_signed_sequences_of_the_block(app, session, setup):
    protocol, people, pathway = setup
    pcs = targeted(session, protocol)
    first_block = pcs[0].block_id
    in_block = [pc.competence_id for pc in pcs if pc.block_id == first_block]
    elsewhere = [pc.competence_id for pc in pcs if pc.block_id != first_block]
    assert in_block and elsewhere
    at = start_of(protocol)

    def step(minutes):
        return at + timedelta(minutes=minutes)

    both = situation(session, protocol, people, at=step(10), competence_ids=[in_block[0]])
    sign(session, protocol, people, both)
    tutor_only = situation(session, protocol, people, at=step(20), competence_ids=[in_block[0]])
    sign(session, protocol, people, tutor_only, learner=False)
    unsigned = situation(session, protocol, people, at=step(30), competence_ids=[in_block[-1]])
    other_block = situation(session, protocol, people, at=step(40), competence_ids=[elsewhere[0]])
    sign(session, protocol, people, other_block)
    analysed = reflection(
        session,
        protocol,
        people,
        at=step(50),
        situation_ids=[both.id],
        levels_by_comp={},
    )
    # a reflection tagged through its levels with a competence of the block, signed by both
    scale = levels(session, protocol)
    tagged_reflection = reflection(
        session,
        protocol,
        people,
        at=step(60),
        situation_ids=[both.id],
        levels_by_comp={in_block[-1]: scale[2].id},
    )
    sign(session, protocol, people, tagged_reflection)
    sign(session, protocol, people, analysed)  # signed, but tagged with no competence
    # a signed situation corrected afterwards: only the signed correction goes in
    original = situation(session, protocol, people, at=step(70), competence_ids=[in_block[0]])
    sign(session, protocol, people, original)
    correction = sequences.amend_sequence(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        original=original,
        data=sequences.SequenceData(
            client_id="amend-1",
            occurred_at=step(70),
            duration_minutes=90,
            autonomy=original.autonomy,
            intent="Toilette au lit, corrigée",
            competence_ids=[in_block[0]],
        ),
        reason="Durée erronée",
        tz=TZ,
    )
    sign(session, protocol, people, correction)

    block = session.get(CompetenceBlock, first_block)
    draft = dossier.dossier(session, pathway, block)
    assert draft.sequence_ids == {both.id, tagged_reflection.id, correction.id}
    by_comp = {c.competence.id: [e.sequence.id for e in c.items] for c in draft.competences}
    assert by_comp[in_block[0]] == [both.id, correction.id]
    assert by_comp[in_block[-1]] == [tagged_reflection.id]
    assert tutor_only.id not in draft.sequence_ids and unsigned.id not in draft.sequence_ids

    with app.test_request_context():  # labels and dates in the reader's language
        document = Document(io.BytesIO(dossier.to_docx(draft)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert block.code in text
    assert "Toilette au lit, corrigée" in text
    assert "J'ai pris confiance." in text  # the learner's own words
    for entry in draft.competences:
        assert entry.competence.code in text


def test_another_learners_sequences_never_enter_the_draft(session, setup, make_protocol):
    protocol, people, pathway = setup
    other, other_people = make_protocol()
    comp = targeted(session, other)[0]
    seq = situation(
        session, other, other_people, at=start_of(other), competence_ids=[comp.competence_id]
    )
    sign(session, other, other_people, seq)
    block = session.get(CompetenceBlock, comp.block_id)
    assert dossier.dossier(session, pathway, block).sequence_ids == set()


def test_block_is_looked_up_within_the_pathways_certification(session, setup):
    _protocol, _people, pathway = setup
    first = dossier.block_of(session, pathway, None)
    assert first.referential_id == pathway.referential_id
    foreign = session.exec(
        select(CompetenceBlock).where(CompetenceBlock.referential_id != pathway.referential_id)
    ).first()
    assert dossier.block_of(session, pathway, foreign.code) is None
