"""Référentiels from the register: a new fiche, a revision as the next version (the old one
kept), a fiche the same as the version held, the differences block by block, all or nothing."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from afest.models import AuditEntry, Competence, CompetenceBlock, Referential
from afest.referentials import register, revisions
from afest.referentials.operations import ImportRejected

from .rncp_files import XML_2026, XML_2027, csv_zip, renumbered


def _versions(session, code: str) -> list[int]:
    return list(
        session.exec(
            select(Referential.version)
            .where(Referential.code == code)
            .order_by(Referential.version)
        )
    )


def _competences(session, ref: Referential) -> dict[str, list[str]]:
    rows = session.exec(
        select(CompetenceBlock.code, Competence.code)
        .join(Competence, Competence.block_id == CompetenceBlock.id)
        .where(CompetenceBlock.referential_id == ref.id)
        .order_by(CompetenceBlock.position, Competence.position)
    ).all()
    out: dict[str, list[str]] = {}
    for block, code in rows:
        out.setdefault(block, []).append(code)
    return out


def test_new_fiches_from_the_xml_come_with_their_blocks_and_competences(session):
    content = renumbered(XML_2026, "RNCP35830", "RNCP99830")
    content = content.replace(b"RNCP36004", b"RNCP99004")
    refs = revisions.import_fiches(
        session, actor_id=None, content=content, numbers=["RNCP99830", "RNCP99004"]
    )
    deas, deaes = refs
    assert (deas.code, deas.version, deas.previous_id, deas.level) == ("RNCP99830", 1, None, 4)
    assert deas.title == "Diplôme d'État d'aide-soignant"
    assert _competences(session, deas)["RNCP99830BC02"] == ["C3", "C4", "C5"]
    assert sum(len(v) for v in _competences(session, deas).values()) == 11
    assert sum(len(v) for v in _competences(session, deaes).values()) == 12
    block = session.exec(
        select(CompetenceBlock).where(CompetenceBlock.referential_id == deas.id)
    ).first()
    assert block.assessment_terms.startswith("Évaluation des compétences")


def test_new_fiches_from_the_csv_have_their_titles_and_blocks_assessed_whole(session):
    content = csv_zip(replace={"RNCP35830": "RNCP99830"})
    (ref,) = revisions.import_fiches(session, actor_id=None, content=content, numbers=["RNCP99830"])
    assert ref.title == "Diplôme d'État d'aide-soignant"  # not "Fiche RNCP99830"
    whole = _competences(session, ref)
    assert whole == {f"RNCP99830BC0{i}": [f"RNCP99830BC0{i}"] for i in range(1, 6)}


def test_a_revised_fiche_imports_as_version_2_and_the_first_stays(session):
    # the demo holds the DEAS of afest's JSON: the 2026 export is the same, the 2027 one revised
    v1 = revisions.latest(session, "RNCP35830")
    planned = revisions.plan(
        session, register.fiches(XML_2026.read_bytes(), ["RNCP35830"]), ["RNCP35830"]
    )
    assert planned[0].status == revisions.SAME
    assert (
        revisions.import_fiches(
            session, actor_id=None, content=XML_2026.read_bytes(), numbers=["RNCP35830"]
        )
        == []
    )
    (v2,) = revisions.import_fiches(
        session, actor_id=None, content=XML_2027.read_bytes(), numbers=["RNCP35830"]
    )
    assert (v2.version, v2.previous_id) == (2, v1.id)
    assert _versions(session, "RNCP35830") == [1, 2]
    assert _competences(session, v2)["RNCP35830BC05"] == ["C10", "C11", "C12"]
    assert len(_competences(session, v1)["RNCP35830BC05"]) == 2  # the first untouched
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "referential.revise", AuditEntry.subject_id == v2.id
        )
    ).one()
    assert entry is not None
    # and the 2027 export again is the same as version 2
    again = revisions.plan(
        session, register.fiches(XML_2027.read_bytes(), ["RNCP35830"]), ["RNCP35830"]
    )
    assert again[0].status == revisions.SAME and again[0].current.version == 2


def test_the_differences_are_shown_block_by_block(session):
    (planned,) = revisions.plan(
        session, register.fiches(XML_2027.read_bytes(), ["RNCP35830"]), ["RNCP35830"]
    )
    assert planned.status == revisions.REVISION and planned.version == 2
    by_block = {c.code: c for c in planned.changes}
    assert [c.status for c in planned.changes] == ["kept", "changed", "kept", "changed", "changed"]
    assert by_block["RNCP35830BC02"].before.startswith("Evaluation")
    assert by_block["RNCP35830BC02"].after.startswith("Évaluation")
    c9 = {c.code: c for c in by_block["RNCP35830BC04"].competences}["C9"]
    assert c9.status == "changed" and "liés à l'entretien des locaux et des matériels" in c9.after
    added = [c for c in by_block["RNCP35830BC05"].competences if c.status == "added"]
    assert [(c.code, c.after[:22]) for c in added] == [("C12", "Contribuer à la démarc")]


def test_a_csv_fiche_keeps_the_competences_of_the_version_held(session):
    # the CSV export lists no competences: that is not their removal
    (planned,) = revisions.plan(session, register.fiches(csv_zip(), ["RNCP35830"]), ["RNCP35830"])
    assert planned.status == revisions.SAME


def test_the_deaes_xml_revises_the_deaes_assessed_whole(session):
    (ref,) = revisions.import_fiches(
        session, actor_id=None, content=XML_2026.read_bytes(), numbers=["RNCP36004"]
    )
    assert ref.version == 2
    assert _competences(session, ref)["RNCP36004BC01"] == ["C1", "C2", "C3"]


def test_a_fiche_with_a_problem_imports_nothing(session):
    before = session.exec(select(func.count(Referential.id))).one()
    # RNCP4495 has no block: refused, and the DEAES chosen with it is not imported either
    with pytest.raises(ImportRejected) as refused:
        revisions.import_fiches(
            session,
            actor_id=None,
            content=XML_2026.read_bytes(),
            numbers=["RNCP36004", "RNCP4495", "RNCP11111"],
        )
    text = " ".join(str(p) for p in refused.value.problems)
    assert "RNCP4495 blocks" in text and "RNCP11111" in text and "absente" in text
    assert session.exec(select(func.count(Referential.id))).one() == before


def test_choosing_nothing_is_refused(session):
    with pytest.raises(ImportRejected):
        revisions.import_fiches(session, actor_id=None, content=XML_2026.read_bytes(), numbers=[])


C2_LINE = (
    "\n- Identifier les situations à risque lors de l'accompagnement de la personne, "
    "mettre en œuvre les actions de prévention adéquates et les évaluer"
)


def test_a_competence_removed_does_not_renumber_the_ones_after_it(session):
    content = XML_2027.read_text(encoding="utf-8")
    assert C2_LINE in content
    content = content.replace(C2_LINE, "").encode()
    (planned,) = revisions.plan(session, register.fiches(content, ["RNCP35830"]), ["RNCP35830"])
    first = {c.code: c.status for c in planned.changes[0].competences}
    assert first == {"C1": "kept", "C2": "removed"}
    second = {c.code: c.status for c in planned.changes[1].competences}
    assert second == {"C3": "kept", "C4": "kept", "C5": "kept"}
    fifth = {c.code: c.status for c in planned.changes[4].competences}
    assert fifth == {"C10": "kept", "C11": "kept", "C12": "added"}
