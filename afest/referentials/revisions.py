"""Référentiels from France compétences' register, and their versions.

A fiche chosen in an export (see afest.referentials.register) becomes a référentiel; when the
référentiel is already there, a fiche that differs becomes its next version (same code,
version + 1, pointing to the one it revises), and the old one stays as it is for the
protocols that target it. The preview says for each fiche whether it is new, a revision
(with the differences block by block) or the same as the version held; the import writes
every fiche chosen, or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from afest.models import CompetenceBlock, Referential, ReferentialKind
from afest.referentials import register
from afest.referentials.operations import (
    WHOLE_BLOCK_TITLE,
    ImportProblem,
    ImportRejected,
    create_referential,
    validate_json,
)

NEW, REVISION, SAME = "new", "revision", "same"
ADDED, REMOVED, CHANGED, KEPT = "added", "removed", "changed", "kept"
TERMS_LIMIT = 20_000


@dataclass
class Change:
    """A block, or a competence, between the version held and the fiche."""

    code: str
    status: str  # ADDED, REMOVED, CHANGED, KEPT
    before: str = ""
    after: str = ""
    competences: list[Change] = field(default_factory=list)


@dataclass
class Planned:
    """What importing one fiche does."""

    fiche: register.Fiche
    document: dict[str, Any]
    status: str  # NEW, REVISION, SAME
    current: Referential | None = None
    changes: list[Change] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.current.version + 1 if self.current else 1


def document(fiche: register.Fiche) -> dict[str, Any]:
    """The fiche as a référentiel document (afest.referentials.operations' JSON shape)."""
    return {
        "code": fiche.number,
        "title": fiche.title,
        "short": fiche.short[:60],
        "level": fiche.level,
        "source": fiche.source
        + (f" ; remplace {', '.join(fiche.replaces)}" if fiche.replaces else ""),
        "blocks": [
            {
                "code": b.code,
                "title": b.title,
                "assessment_terms": b.assessment_terms,
                "competences": [{"code": c, "title": t} for c, t in b.competences],
            }
            for b in fiche.blocks
        ],
    }


def latest(session: Session, code: str) -> Referential | None:
    """The newest version of the référentiel `code`, with its blocks and competences."""
    return session.exec(
        select(Referential)
        .where(Referential.code == code)
        .order_by(Referential.version.desc())
        .options(selectinload(Referential.blocks).selectinload(CompetenceBlock.competences))
        .limit(1)
    ).first()


def _competences_of(block_data: dict[str, Any]) -> dict[str, str]:
    items = block_data.get("competences") or []
    if not items:
        return {block_data["code"]: WHOLE_BLOCK_TITLE}
    return {c["code"]: c["title"] for c in items}


def _compare(code: str, before: dict[str, str], after: dict[str, str]) -> list[Change]:
    changes = []
    for key in list(before) + [k for k in after if k not in before]:
        if key not in after:
            changes.append(Change(key, REMOVED, before=before[key]))
        elif key not in before:
            changes.append(Change(key, ADDED, after=after[key]))
        else:
            status = KEPT if before[key] == after[key] else CHANGED
            changes.append(Change(key, status, before=before[key], after=after[key]))
    return changes


def diff(current: Referential, data: dict[str, Any]) -> list[Change]:
    """The differences, block by block, between a référentiel and a document: each block
    added, removed, changed (its title or any competence) or kept, with its competences."""
    held = {b.code: b for b in current.blocks}
    new = {b["code"]: b for b in data["blocks"]}
    changes = []
    for code in list(held) + [c for c in new if c not in held]:
        old_block, new_block = held.get(code), new.get(code)
        before = {c.code: c.title for c in old_block.competences} if old_block else {}
        after = _competences_of(new_block) if new_block else {}
        competences = _compare(code, before, after)
        if old_block is None:
            changes.append(Change(code, ADDED, after=new_block["title"], competences=competences))
        elif new_block is None:
            changes.append(Change(code, REMOVED, before=old_block.title, competences=competences))
        else:
            same = old_block.title == new_block["title"] and all(
                c.status == KEPT for c in competences
            )
            changes.append(
                Change(
                    code,
                    KEPT if same else CHANGED,
                    before=old_block.title,
                    after=new_block["title"],
                    competences=competences,
                )
            )
    return changes


def _carry_competences(current: Referential, data: dict[str, Any]) -> None:
    """A fiche of the CSV export (which publishes no competences) keeps, in each block the
    held version has, that block's competences: their absence from the file is no removal."""
    held = {b.code: b for b in current.blocks}
    for block in data["blocks"]:
        old = held.get(block["code"])
        if old is not None and not block["competences"]:
            block["competences"] = [
                {"code": c.code, "title": c.title} for c in old.competences if not c.whole_block
            ]
            block["assessment_terms"] = block["assessment_terms"] or old.assessment_terms


def _number(code: str) -> int:
    digits = re.fullmatch(r"C(\d+)", code)
    return int(digits.group(1)) if digits else 0


def _stable_codes(current: Referential, fiche: register.Fiche, data: dict[str, Any]) -> None:
    """The codes afest numbered (the text gave none) follow the competences, not their rank,
    from one version to the next: in a block the version held, a competence worded as one it
    held keeps that one's code; the others take, in order, the codes of the held competences
    whose wording is gone (reworded), then codes never used. So removing a competence does not
    renumber the ones after it, and evidence is carried onto the right competence."""
    held = {b.code: b for b in current.blocks}
    explicit = [
        _number(c["code"])
        for block, fiche_block in zip(data["blocks"], fiche.blocks, strict=True)
        for c in block["competences"]
        if c["code"] not in fiche_block.generated
    ]
    top = max([_number(c.code) for b in current.blocks for c in b.competences] + explicit + [0])
    for block, fiche_block in zip(data["blocks"], fiche.blocks, strict=True):
        old = held.get(block["code"])
        if old is None or not fiche_block.generated:
            continue
        titles = {c["title"] for c in block["competences"]}
        by_title = {c.title: c.code for c in old.competences if not c.whole_block}
        reworded = [c.code for c in old.competences if c.title not in titles and not c.whole_block]
        taken = {c["code"] for c in block["competences"] if c["code"] not in fiche_block.generated}
        for comp in block["competences"]:
            if comp["code"] not in fiche_block.generated:
                continue
            code = by_title.get(comp["title"])
            while code is None and reworded:
                code = reworded.pop(0)
                code = None if code in taken else code
            if code is None or code in taken:
                top += 1
                code = f"C{top}"
            comp["code"] = code
            taken.add(code)


def _problems(fiche: register.Fiche, data: dict[str, Any]) -> list[ImportProblem]:
    where = fiche.number
    problems = [ImportProblem(f"{where} {p.where}", p.message) for p in validate_json(data)]
    if not register.FICHE.match(fiche.number):
        problems.append(ImportProblem(where, _l("numéro de fiche invalide")))
    for i, block in enumerate(fiche.blocks):
        if len(block.assessment_terms) > TERMS_LIMIT:
            problems.append(
                ImportProblem(f"{where} blocks[{i}]", _l("modalités d'évaluation trop longues"))
            )
        if block.code and not block.code.startswith(fiche.number):
            problems.append(
                ImportProblem(
                    f"{where} {block.code}", _l("ce bloc n'appartient pas à %(fiche)s", fiche=where)
                )
            )
    return problems


def plan(session: Session, fiches: dict[str, register.Fiche], numbers: list[str]) -> list[Planned]:
    """What importing each fiche chosen does, judged against the database."""
    planned = []
    for number in numbers:
        fiche = fiches.get(number)
        if fiche is None:
            missing = register.Fiche(number=number)
            problem = ImportProblem(number, _l("fiche absente du fichier"))
            planned.append(Planned(missing, {}, NEW, problems=[problem]))
            continue
        data = document(fiche)
        problems = _problems(fiche, data)
        current = latest(session, number)
        if current is not None and current.kind != ReferentialKind.CERTIFICATION:
            problems.append(
                ImportProblem(number, _l("ce code est celui d'un référentiel de structure"))
            )
        if current is None or problems:
            status = REVISION if current else NEW
            planned.append(Planned(fiche, data, status, current, problems=problems))
            continue
        if fiche.lists_competences:
            _stable_codes(current, fiche, data)
        else:
            _carry_competences(current, data)
        changes = diff(current, data)
        same = all(c.status == KEPT for c in changes) and current.title == data["title"]
        status = SAME if same else REVISION
        planned.append(Planned(fiche, data, status, current, changes))
    return planned


def import_fiches(
    session: Session, *, actor_id: int | None, content: bytes, numbers: list[str]
) -> list[Referential]:
    """Import the fiches chosen from an export: each new one, each revision as the next
    version; one that is the same as the version held is left as it is. All or nothing:
    ImportRejected lists every problem (register.RegisterError when the file is unreadable)."""
    if not numbers:
        raise ImportRejected([ImportProblem("fiches", _l("choisissez au moins une fiche"))])
    planned = plan(session, register.fiches(content, numbers), numbers)
    problems = [p for item in planned for p in item.problems]
    if problems:
        raise ImportRejected(problems)
    return [
        create_referential(session, actor_id=actor_id, data=item.document, previous=item.current)
        for item in planned
        if item.status != SAME
    ]
