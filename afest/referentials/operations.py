"""Référentiels: import (JSON of shared/referentiels, France compétences blocks CSV) and the
editor of a structure's own référentiel (blocks, competences or missions, level scale).

Imports are all or nothing: every problem is reported with where it is (a line number, and
for JSON the path inside the document), and nothing is written when there is one. Editing a
référentiel never touches a protocol: protocols keep a snapshot of the wording they target.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import Competence, CompetenceBlock, Level, Referential, ReferentialKind
from afest.models.referential import DEFAULT_LEVELS

WHOLE_BLOCK_TITLE = "Ensemble du bloc"


@dataclass(frozen=True)
class ImportProblem:
    where: str  # "blocks[2].competences[0].code", a line number for CSV
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.where}: {self.message}"
        return f"ligne {self.line} ({self.where}) : {self.message}"


class ImportRejected(ServiceError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _text(value: Any, where: str, problems: list[ImportProblem], limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(ImportProblem(where, "texte attendu, non vide"))
        return ""
    if any(not ch.isprintable() for ch in value):
        problems.append(ImportProblem(where, "caractère de contrôle interdit"))
    if len(value) > limit:
        problems.append(ImportProblem(where, f"plus de {limit} caractères"))
    return value.strip()


def _optional_text(value: Any, where: str, problems: list[ImportProblem], limit: int) -> None:
    """A text the document may leave out (null or absent): when given, text as any other."""
    if value is None or value == "":
        return
    if not isinstance(value, str):
        problems.append(ImportProblem(where, "texte attendu"))
        return
    if any(not ch.isprintable() for ch in value):
        problems.append(ImportProblem(where, "caractère de contrôle interdit"))
    if len(value) > limit:
        problems.append(ImportProblem(where, f"plus de {limit} caractères"))


def validate_json(data: Any) -> list[ImportProblem]:
    """Every problem of a référentiel document, each with where it is."""
    problems: list[ImportProblem] = []
    if not isinstance(data, dict):
        return [ImportProblem("document", "un objet JSON est attendu")]
    _text(data.get("code"), "code", problems, 40)
    _text(data.get("title"), "title", problems, 300)
    _optional_text(data.get("short"), "short", problems, 60)
    _optional_text(data.get("source"), "source", problems, 2000)
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
    return create_referential(
        session, actor_id=actor_id, data=data, owner_structure_id=owner_structure_id
    )


def create_referential(
    session: Session,
    *,
    actor_id: int | None,
    data: dict[str, Any],
    owner_structure_id: int | None = None,
    previous: Referential | None = None,
) -> Referential:
    """Write a validated document: the référentiel, the default level scale, its blocks and
    competences; the next version of `previous` when given (same code)."""
    referential = Referential(
        code=data["code"].strip(),
        version=previous.version + 1 if previous else 1,
        previous_id=previous.id if previous else None,
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
            assessment_terms=block_data.get("assessment_terms") or "",
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
        action="referential.revise" if previous else "referential.import",
        subject_kind="referential",
        subject_id=referential.id,
        before={"id": previous.id, "version": previous.version} if previous else None,
        after={
            "code": referential.code,
            "version": referential.version,
            "blocks": len(data["blocks"]),
        },
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


# --- JSON text, with line numbers ---------------------------------------------------------


class _LineDecoder(json.JSONDecoder):
    """A JSON decoder that remembers on which line each object starts (by identity)."""

    def __init__(self, text: str):
        super().__init__()
        self.lines: dict[int, int] = {}
        parse_object = self.parse_object

        def tracked(s_and_end, *args):
            result = parse_object(s_and_end, *args)
            obj, _end = result
            # s_and_end[1] is the index just after the opening brace.
            self.lines[id(obj)] = text.count("\n", 0, s_and_end[1]) + 1
            return result

        self.parse_object = tracked
        self.scan_once = json.scanner.py_make_scanner(self)


def _line_of(data: Any, where: str, lines: dict[int, int]) -> int | None:
    """The line of the innermost object named by a path like blocks[2].competences[0].code."""
    node, line = data, lines.get(id(data))
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        try:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            break
        line = lines.get(id(node), line)
    return line


def parse_json(text: str) -> Any:
    """The document, or ImportRejected with each problem and its line number."""
    decoder = _LineDecoder(text)
    try:
        data = decoder.decode(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        problem = ImportProblem("document", f"JSON invalide : {exc.msg}", exc.lineno)
        raise ImportRejected([problem]) from None
    problems = validate_json(data)
    if problems:
        raise ImportRejected(
            [
                ImportProblem(p.where, p.message, _line_of(data, p.where, decoder.lines))
                for p in problems
            ]
        )
    return data


def import_json_text(
    session: Session, *, actor_id: int | None, text: str, owner_structure_id: int | None = None
) -> Referential:
    """Import a référentiel from the text of a JSON file (all or nothing)."""
    data = parse_json(text)
    return import_json(session, actor_id=actor_id, data=data, owner_structure_id=owner_structure_id)


# --- France compétences open data: the blocks table ---------------------------------------

CSV_COLUMNS = ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle")
FICHE = re.compile(r"^RNCP\d{3,6}$")


def parse_blocks_csv(text: str) -> dict[str, list[tuple[str, str]]]:
    """Blocks by fiche from the France compétences blocks table; ImportRejected lists each bad
    line with its number (line 1 is the header)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportRejected([ImportProblem("fichier", "le fichier est vide", 1)])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ImportRejected(
            [ImportProblem("en-tête", f"colonne(s) manquante(s) : {', '.join(missing)}", 1)]
        )
    index = {c: header.index(c) for c in CSV_COLUMNS}
    problems: list[ImportProblem] = []
    fiches: dict[str, list[tuple[str, str]]] = {}
    seen: dict[str, int] = {}
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ImportRejected(
            [ImportProblem("fichier", f"CSV illisible : {exc}", reader.line_num + 1)]
        ) from None
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append(
                ImportProblem("ligne", f"{len(row)} colonne(s) au lieu de {len(header)}", line)
            )
            continue
        fiche, code, title = (row[index[c]].strip() for c in CSV_COLUMNS)
        bad = False
        if any(not ch.isprintable() for ch in fiche + code + title):
            problems.append(ImportProblem("ligne", "caractère de contrôle interdit", line))
            continue
        if not FICHE.match(fiche):
            problems.append(
                ImportProblem("Numero_Fiche", f"numéro de fiche invalide : {fiche!r}", line)
            )
            bad = True
        if not code or len(code) > 40:
            problems.append(ImportProblem("Bloc_Competences_Code", "code vide ou trop long", line))
            bad = True
        elif fiche and not code.startswith(fiche):
            problems.append(
                ImportProblem("Bloc_Competences_Code", f"{code} n'appartient pas à {fiche}", line)
            )
            bad = True
        if not title:
            problems.append(ImportProblem("Bloc_Competences_Libelle", "libellé vide", line))
            bad = True
        elif len(title) > 2000:
            problems.append(
                ImportProblem("Bloc_Competences_Libelle", "plus de 2000 caractères", line)
            )
            bad = True
        if code in seen:
            problems.append(
                ImportProblem("Bloc_Competences_Code", f"{code} déjà vu ligne {seen[code]}", line)
            )
            bad = True
        seen.setdefault(code, line)
        if not bad:
            fiches.setdefault(fiche, []).append((code, title))
    if not problems and not fiches:
        problems.append(ImportProblem("fichier", "aucun bloc dans le fichier", 2))
    if problems:
        raise ImportRejected(problems)
    return fiches


def import_blocks_csv(
    session: Session, *, actor_id: int | None, text: str, titles: dict[str, str] | None = None
) -> list[Referential]:
    """Import each fiche of a France compétences blocks table as a certification référentiel,
    its blocks assessed whole; nothing is imported when any line is wrong."""
    fiches = parse_blocks_csv(text)
    existing = set(session.exec(select(Referential.code).where(Referential.code.in_(list(fiches)))))
    if existing:
        raise ImportRejected(
            [
                ImportProblem("Numero_Fiche", f"le référentiel {c} existe déjà")
                for c in sorted(existing)
            ]
        )
    titles = titles or {}
    imported = []
    for fiche, blocks in fiches.items():
        document = {
            "code": fiche,
            "title": titles.get(fiche) or f"Fiche {fiche}",
            "source": "France compétences, table des blocs de compétences",
            "blocks": [{"code": c, "title": t, "competences": []} for c, t in blocks],
        }
        imported.append(import_json(session, actor_id=actor_id, data=document))
    return imported


def import_file(session: Session, *, actor_id: int | None, kind: str, text: str) -> list:
    """Import a file's text whole, `kind` "csv" (France compétences blocks) or "json" (one
    référentiel); return the référentiels imported. ImportRejected lists every problem."""
    if kind == "csv":
        return import_blocks_csv(session, actor_id=actor_id, text=text)
    return [import_json_text(session, actor_id=actor_id, text=text)]
