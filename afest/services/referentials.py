"""Importing référentiels (JSON of shared/referentiels) with a default level scale."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from afest.models import (
    Competence,
    CompetenceBlock,
    Level,
    Referential,
    ReferentialKind,
)
from afest.models.referential import DEFAULT_LEVELS
from afest.services import ServiceError, audit

WHOLE_BLOCK_TITLE = "Ensemble du bloc"


@dataclass(frozen=True)
class ImportProblem:
    where: str  # "blocks[2].competences[0].code", a line number for CSV
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportRejected(ServiceError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _text(value: Any, where: str, problems: list[ImportProblem], limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(ImportProblem(where, "texte attendu, non vide"))
        return ""
    if len(value) > limit:
        problems.append(ImportProblem(where, f"plus de {limit} caractères"))
    return value.strip()


def validate_json(data: Any) -> list[ImportProblem]:
    """Every problem of a référentiel document, each with where it is."""
    problems: list[ImportProblem] = []
    if not isinstance(data, dict):
        return [ImportProblem("document", "un objet JSON est attendu")]
    _text(data.get("code"), "code", problems, 40)
    _text(data.get("title"), "title", problems, 300)
    level = data.get("level")
    if level is not None and (
        not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 8
    ):
        problems.append(ImportProblem("level", "niveau de 1 à 8 ou null"))
    blocks = data.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        problems.append(ImportProblem("blocks", "au moins un bloc attendu"))
        return problems
    seen_blocks: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            problems.append(ImportProblem(where, "un objet est attendu"))
            continue
        code = _text(block.get("code"), f"{where}.code", problems, 40)
        if code in seen_blocks:
            problems.append(ImportProblem(f"{where}.code", f"code en double : {code}"))
        seen_blocks.add(code)
        _text(block.get("title"), f"{where}.title", problems, 2000)
        competences = block.get("competences", [])
        if not isinstance(competences, list):
            problems.append(ImportProblem(f"{where}.competences", "une liste est attendue"))
            continue
        seen: set[str] = set()
        for j, comp in enumerate(competences):
            cwhere = f"{where}.competences[{j}]"
            if not isinstance(comp, dict):
                problems.append(ImportProblem(cwhere, "un objet est attendu"))
                continue
            ccode = _text(comp.get("code"), f"{cwhere}.code", problems, 40)
            if ccode in seen:
                problems.append(ImportProblem(f"{cwhere}.code", f"code en double : {ccode}"))
            seen.add(ccode)
            _text(comp.get("title"), f"{cwhere}.title", problems, 2000)
    return problems


def import_json(
    session: Session, *, actor_id: int | None, data: Any, owner_structure_id: int | None = None
) -> Referential:
    """Import a référentiel document whole, or nothing when any part of it is wrong."""
    problems = validate_json(data)
    if problems:
        raise ImportRejected(problems)
    if session.exec(select(Referential.id).where(Referential.code == data["code"])).first():
        raise ImportRejected([ImportProblem("code", f"le référentiel {data['code']} existe déjà")])
    referential = Referential(
        code=data["code"].strip(),
        title=data["title"].strip(),
        short=(data.get("short") or "").strip()[:60],
        level=data.get("level"),
        kind=ReferentialKind.STRUCTURE
        if owner_structure_id or not data["code"].startswith("RNCP")
        else ReferentialKind.CERTIFICATION,
        owner_structure_id=owner_structure_id,
        source=data.get("source") or "",
    )
    session.add(referential)
    session.flush()
    for rank, (code, label, acquired) in enumerate(DEFAULT_LEVELS):
        session.add(
            Level(
                referential_id=referential.id, rank=rank, code=code, label=label, acquired=acquired
            )
        )
    for position, block_data in enumerate(data["blocks"]):
        block = CompetenceBlock(
            referential_id=referential.id,
            code=block_data["code"].strip(),
            title=block_data["title"].strip(),
            position=position,
        )
        session.add(block)
        session.flush()
        competences = block_data.get("competences") or []
        if not competences:
            # The source lists no competences: the block is targeted and assessed as a whole.
            session.add(
                Competence(
                    block_id=block.id, code=block.code, title=WHOLE_BLOCK_TITLE, whole_block=True
                )
            )
        for cpos, comp in enumerate(competences):
            session.add(
                Competence(
                    block_id=block.id,
                    code=comp["code"].strip(),
                    title=comp["title"].strip(),
                    position=cpos,
                )
            )
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.import",
        subject_kind="referential",
        subject_id=referential.id,
        after={"code": referential.code, "blocks": len(data["blocks"])},
    )
    return referential


def bundled() -> dict[str, dict[str, Any]]:
    """The référentiels shipped with afest (copied from shared/referentiels), by code."""
    folder = resources.files("afest") / "data" / "referentiels"
    documents = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            data = json.loads(item.read_text(encoding="utf-8"))
            documents[data["code"]] = data
    return documents
