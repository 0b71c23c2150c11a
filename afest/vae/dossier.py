"""From AFEST to the dossier de validation: the signed experience that evidences a block.

For one block of the certification, gather per competence the situations and reflexive
sequences of the learner's protocols that are tagged with it and signed by both the tutor and
the learner (the current version of each: an amended sequence gives way to its amendment).
Nothing unsigned goes in: the draft is raw material for the learner to write from.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.assessments.progress import fully_signed
from afest.models import (
    Competence,
    CompetenceBlock,
    Protocol,
    Sequence,
    SequenceCompetence,
    SequenceKind,
    User,
    VaePathway,
)
from afest.sequences.operations import not_amended


@dataclass(frozen=True)
class Evidence:
    sequence: Sequence
    protocol_title: str
    tutor_name: str


@dataclass
class CompetenceEvidence:
    competence: Competence
    items: list[Evidence] = field(default_factory=list)


@dataclass
class Dossier:
    pathway: VaePathway
    learner: User
    block: CompetenceBlock
    competences: list[CompetenceEvidence]

    @property
    def sequence_ids(self) -> set[int]:
        return {e.sequence.id for c in self.competences for e in c.items}


def dossier(session: Session, pathway: VaePathway, block: CompetenceBlock) -> Dossier:
    """The draft for `block`: its competences, each with the signed sequences evidencing it."""
    competences = list(
        session.exec(
            select(Competence)
            .where(Competence.block_id == block.id)
            .order_by(Competence.position, Competence.id)
        )
    )
    by_competence = {c.id: CompetenceEvidence(c) for c in competences}
    tutor = aliased(User)
    rows = session.exec(
        select(SequenceCompetence.competence_id, Sequence, Protocol.title, tutor.full_name)
        .join(Sequence, Sequence.id == SequenceCompetence.sequence_id)
        .join(Protocol, Protocol.id == Sequence.protocol_id)
        .join(tutor, tutor.id == Sequence.created_by_id)
        .where(
            Protocol.learner_id == pathway.learner_id,
            SequenceCompetence.competence_id.in_(list(by_competence)),
            not_amended(),
            fully_signed(),
        )
        .order_by(Sequence.occurred_at, Sequence.id)
    )
    for competence_id, sequence, title, tutor_name in rows:
        by_competence[competence_id].items.append(Evidence(sequence, title, tutor_name))
    learner = session.get(User, pathway.learner_id)
    return Dossier(pathway, learner, block, list(by_competence.values()))


def block_of(session: Session, pathway: VaePathway, code: str | None) -> CompetenceBlock | None:
    """A block of the pathway's certification by code (the first block when none is given)."""
    query = select(CompetenceBlock).where(CompetenceBlock.referential_id == pathway.referential_id)
    if code:
        query = query.where(CompetenceBlock.code == code)
    return session.exec(query.order_by(CompetenceBlock.position, CompetenceBlock.id)).first()


def _kind_label(sequence: Sequence) -> str:
    if sequence.kind == SequenceKind.SITUATION:
        return _("Mise en situation de travail")
    return _("Séquence réflexive")


def sections(sequence: Sequence) -> list[tuple[str, str, str]]:
    """(label, text, whose words) of a sequence, in reading order; empty texts left out."""
    tutor, learner = _("tuteur·rice"), _("apprenant·e")
    parts = [
        (_("Lieu"), sequence.place, ""),
        (_("Intention annoncée"), sequence.intent, tutor),
        (_("Ce qui a été observé"), sequence.observations, tutor),
        (_("Ce qui était attendu"), sequence.expected, tutor),
        (_("Ce qui a été fait"), sequence.achieved, tutor),
        (_("Ce qui a été appris"), sequence.learnt, tutor),
        (_("Les écarts"), sequence.gaps, tutor),
        (_("Mes mots"), sequence.learner_words, learner),
        (_("La suite"), sequence.next_step, tutor),
    ]
    return [(label, text, who) for label, text, who in parts if text]


def to_docx(draft: Dossier) -> bytes:
    """The draft as a Word document the learner edits in any word processor."""
    from docx import Document

    document = Document()
    document.core_properties.title = _("Dossier de validation — %(code)s", code=draft.block.code)
    document.core_properties.author = draft.learner.full_name
    document.add_heading(_("Dossier de validation — brouillon"), level=0)
    document.add_paragraph(f"{draft.block.code} — {draft.block.title}")
    document.add_paragraph(draft.learner.full_name)
    document.add_paragraph(
        _(
            "Matière première tirée de mes séquences AFEST signées par mon·ma tuteur·rice et "
            "par moi. À reprendre avec mes mots pour décrire mon expérience."
        )
    )
    for entry in draft.competences:
        document.add_heading(f"{entry.competence.code} — {entry.competence.title}", level=1)
        if not entry.items:
            document.add_paragraph(_("Aucune séquence signée pour cette compétence."))
        for item in entry.items:
            seq = item.sequence
            document.add_heading(
                f"{_kind_label(seq)} — {format_date(seq.occurred_at, 'long')}", level=2
            )
            document.add_paragraph(
                _(
                    "%(protocol)s · avec %(tutor)s · %(minutes)s min",
                    protocol=item.protocol_title,
                    tutor=item.tutor_name,
                    minutes=seq.duration_minutes,
                )
            )
            for label, text, who in sections(seq):
                para = document.add_paragraph()
                para.add_run(f"{label}{f' ({who})' if who else ''} : ").bold = True
                para.add_run(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
