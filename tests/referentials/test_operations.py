"""Référentiel imports (JSON and the France compétences blocks CSV) and the editor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.models import (
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Level,
    ProtocolCompetence,
    Referential,
    SignedKind,
)
from afest.proof import signatures
from afest.referentials import editor as referential_editor
from afest.referentials import operations as referentials
from afest.referentials.operations import ImportRejected

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "france_competences_blocs.csv"


def _count(session, model) -> int:
    return len(session.exec(select(model.id)).all())


def test_blocks_csv_imports_one_referential_per_fiche(session):
    refs = referentials.import_blocks_csv(
        session, actor_id=None, text=SAMPLE.read_text(encoding="utf-8")
    )
    assert [r.code for r in refs] == ["RNCP99901", "RNCP99902"]
    blocks = session.exec(
        select(CompetenceBlock).where(CompetenceBlock.referential_id == refs[0].id)
    ).all()
    assert [b.code for b in blocks] == ["RNCP99901BC01", "RNCP99901BC02", "RNCP99901BC03"]
    whole = session.exec(select(Competence).where(Competence.block_id == blocks[0].id)).one()
    assert whole.whole_block
    assert len(session.exec(select(Level).where(Level.referential_id == refs[0].id)).all()) == 4


def test_blocks_csv_with_bad_lines_reports_each_and_imports_nothing(session):
    text = (
        "\ufeffNumero_Fiche,Bloc_Competences_Code,Bloc_Competences_Libelle\n"
        "RNCP99903,RNCP99903BC01,Bloc correct\n"
        "RNCP99903,,Sans code\n"
        "XX12,XX12BC01,Fiche invalide\n"
        "RNCP99903,RNCP99903BC01,Doublon\n"
        "RNCP99903,RNCP99904BC01,Autre fiche\n"
        "RNCP99903,RNCP99903BC05,\n"
        "RNCP99903\n"
    )
    before = _count(session, Referential)
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_blocks_csv(session, actor_id=None, text=text)
    lines = sorted({p.line for p in excinfo.value.problems})
    assert lines == [3, 4, 5, 6, 7, 8]
    assert "ligne 5" in str(excinfo.value) and "déjà vu ligne 2" in str(excinfo.value)
    assert _count(session, Referential) == before


def test_blocks_csv_missing_column_or_empty(session):
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_blocks_csv(
            session, actor_id=None, text="Numero_Fiche;Bloc_Competences_Code\nRNCP1;RNCP1BC01\n"
        )
    assert excinfo.value.problems[0].line == 1
    assert "Bloc_Competences_Libelle" in str(excinfo.value)
    with pytest.raises(ImportRejected):
        referentials.import_blocks_csv(session, actor_id=None, text="")
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_blocks_csv(
            session,
            actor_id=None,
            text="Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\n",
        )
    assert "aucun bloc" in str(excinfo.value)


def test_blocks_csv_of_an_existing_fiche_is_refused(session):
    text = (
        "Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\nRNCP35830;RNCP35830BC01;x\n"
    )
    with pytest.raises(ImportRejected, match="existe déjà"):
        referentials.import_blocks_csv(session, actor_id=None, text=text)


def test_json_syntax_error_reports_its_line(session):
    text = '{\n  "code": "X1",\n  "title": "T",\n  "blocks": [\n    {"code": "B1",,}\n  ]\n}\n'
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_json_text(session, actor_id=None, text=text)
    assert excinfo.value.problems[0].line == 5


def test_partial_json_reports_each_bad_line_and_imports_nothing(session):
    document = {
        "code": "STRUCT-X",
        "title": "Référentiel partiel",
        "blocks": [
            {"code": "B1", "title": "Bloc 1", "competences": [{"code": "C1", "title": "ok"}]},
            {"code": "B2", "competences": [{"code": "C1"}, {"title": "sans code"}]},
            {"code": "B1", "title": "doublon"},
        ],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False)
    before = (_count(session, Referential), _count(session, CompetenceBlock))
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_json_text(session, actor_id=None, text=text)
    problems = excinfo.value.problems
    by_where = {p.where: p.line for p in problems}
    lines = text.splitlines()
    # Each problem points at the line where the faulty object opens.
    assert '"code": "B2"' in lines[by_where["blocks[1].title"]]
    assert '"code": "C1"' in lines[by_where["blocks[1].competences[0].title"]]
    assert '"title": "sans code"' in lines[by_where["blocks[1].competences[1].code"]]
    assert '"code": "B1"' in lines[by_where["blocks[2].code"]]
    assert all(p.line for p in problems)
    assert (_count(session, Referential), _count(session, CompetenceBlock)) == before


def test_json_text_with_control_characters_or_of_the_wrong_type_is_refused_where_it_is(session):
    document = {
        "code": "STRUCT-Y",
        "title": "Référentiel\u0085 sale",
        "short": 12,
        "source": "Fiche\x00 RNCP\x1b",
        "blocks": [{"code": "B1", "title": "Bloc\x07 1"}],
    }
    before = _count(session, Referential)
    with pytest.raises(ImportRejected) as excinfo:
        referentials.import_json_text(session, actor_id=None, text=json.dumps(document))
    problems = {p.where: p.message for p in excinfo.value.problems}
    assert problems == {
        "title": "caractère de contrôle interdit",
        "short": "texte attendu",
        "source": "caractère de contrôle interdit",
        "blocks[0].title": "caractère de contrôle interdit",
    }
    assert _count(session, Referential) == before


def test_editor_builds_a_structure_referential(session, make_structure):
    structure = make_structure()
    ref = referential_editor.create_structure_referential(
        session, actor_id=1, structure_id=structure.id, code="MAISON-1", title="Métier maison"
    )
    block = referential_editor.add_block(
        session, actor_id=1, referential=ref, code="B1", title="Bloc"
    )
    referential_editor.add_competence(session, actor_id=1, block=block, code="M1", title="Mission")
    with pytest.raises(ServiceError) as excinfo:
        referential_editor.add_competence(
            session, actor_id=1, block=block, code="M1", title="Encore"
        )
    assert excinfo.value.field == "code"
    referential_editor.set_levels(
        session,
        actor_id=1,
        referential=ref,
        levels=referential_editor.parse_levels("Découverte\nPratique guidée\nAutonome *\n"),
    )
    levels = session.exec(select(Level).where(Level.referential_id == ref.id).order_by(Level.rank))
    assert [(lv.label, lv.acquired) for lv in levels] == [
        ("Découverte", False),
        ("Pratique guidée", False),
        ("Autonome", True),
    ]
    with pytest.raises(ServiceError):
        referential_editor.set_levels(session, actor_id=1, referential=ref, levels=[("Seul", True)])


def test_level_scale_in_use_cannot_change(session):
    used = session.exec(select(CompetenceAssessment)).first()
    level = session.get(Level, used.level_id)
    ref = session.get(Referential, level.referential_id)
    with pytest.raises(ServiceError, match="ne peut plus"):
        referential_editor.set_levels(
            session, actor_id=1, referential=ref, levels=[("A", False), ("B", True)]
        )


def test_renaming_a_competence_does_not_rewrite_signed_protocols(session, make_protocol):
    protocol, people = make_protocol()
    pc = session.exec(
        select(ProtocolCompetence).where(ProtocolCompetence.protocol_id == protocol.id)
    ).first()
    competence = session.get(Competence, pc.competence_id)
    old = pc.competence_title
    referential_editor.rename_competence(
        session, actor_id=1, competence=competence, title="Nouveau"
    )
    session.refresh(pc)
    assert pc.competence_title == old
    assert all(v.intact for v in signatures.verify(session, SignedKind.PROTOCOL, protocol))
