"""Import structures in bulk from a spreadsheet (CSV or XLSX): preview, then save it whole.

Columns (headers as people write them, see afest.core.tabular): SIRET, name, département,
category, OPCO code; optionally the branch. `preview` judges every row against the file and
the database: new, changed (with what changes), unchanged, or its problems. `import_rows`
judges them again inside the write (the database may have changed since the preview) and
saves every row in one transaction, or nothing when any row has a problem. The SIRET is the
key: a structure already on record is updated only where the file differs, so importing the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit, uploads
from afest.core.importing import ERROR, Preview, Rejected
from afest.core.tabular import Column, Table, header_key, read_table
from afest.models import Organisation, OrgKind, Upload
from afest.organisations import checks
from afest.organisations.moves import apply_moves
from afest.organisations.operations import snapshot

PURPOSE = "structures"  # of the files kept between a preview and its confirmation
MAX_BYTES = 1024 * 1024
MAX_ROWS = 10_000
COLUMNS = (
    Column("siret", ("SIRET", "N° SIRET", "Numéro SIRET", "Numero de SIRET")),
    Column(
        "name",
        ("Nom", "Nom de la structure", "Raison sociale", "Dénomination", "Structure", "Name"),
    ),
    Column("departement", ("Département", "Dept", "Dép", "Code département", "Departement code")),
    Column("category", ("Catégorie", "Type", "Type de structure", "Category")),
    Column("opco", ("Code OPCO", "OPCO", "Code de l'OPCO", "OPCO code")),
    Column("branch", ("Branche", "Branche professionnelle", "Branch"), required=False),
)
NEW, CHANGED, SAME = "new", "changed", "same"
FIELD_LABELS = {
    "name": _l("Nom"),
    "departement": _l("Département"),
    "category": _l("Catégorie"),
    "opco_id": _l("OPCO"),
    "branch": _l("Branche"),
}


@dataclass
class Row:
    """One row of the file as judged: its line, what it holds, and what importing it does."""

    line: int
    cells: dict[str, str]
    status: str = NEW
    problems: list[Any] = field(default_factory=list)
    changes: list[tuple[Any, str, str]] = field(default_factory=list)  # (label, before, after)
    values: dict[str, Any] = field(default_factory=dict)
    structure_id: int | None = None


def _compact(text: str) -> str:
    """A SIRET cell's digits; a number cell of a spreadsheet drops a SIRET's leading zeros,
    which are put back when that makes a valid SIRET."""
    digits = re.sub(r"[\s.\-]", "", text or "")
    if digits.isdigit() and 9 <= len(digits) < 14:
        padded = digits.zfill(14)
        try:
            return checks.siret(padded)
        except ValueError:
            pass
    return digits


def _opcos(session: Session) -> dict[str, Organisation]:
    """OPCOs by code and by name, as compared (header_key: no case, accents, punctuation)."""
    found: dict[str, Organisation] = {}
    opcos = session.exec(select(Organisation).where(Organisation.kind == OrgKind.OPCO)).all()
    for opco in opcos:
        found.setdefault(header_key(opco.name), opco)
    for opco in opcos:
        if opco.code:
            found[header_key(opco.code)] = opco
    return found


def _existing(session: Session, sirets: Iterable[str]) -> dict[str, Organisation]:
    wanted = sorted({s for s in sirets if s})
    found: dict[str, Organisation] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for org in session.exec(select(Organisation).where(Organisation.siret.in_(chunk))):
            found[org.siret] = org
    return found


def preview(session: Session, table: Table) -> Preview:
    """Every row of `table` judged: what importing it would do, or its problems."""
    rows = [Row(line, cells) for line, cells in table]
    existing = _existing(session, (_compact(r.cells["siret"]) for r in rows))
    opcos = _opcos(session)
    known_codes = ", ".join(sorted({o.code for o in opcos.values() if o.code})[:12]) or "—"
    seen: dict[str, Row] = {}
    has_branch = "branch" in table.headers
    for row in rows:
        _judge(row, existing, opcos, known_codes, has_branch)
        siret = row.values.get("siret")
        if siret:
            first = seen.setdefault(siret, row)
            if first is not row:
                row.problems.append(_l("SIRET déjà à la ligne %(line)s.", line=first.line))
                first.problems.append(_l("SIRET répété ligne %(line)s.", line=row.line))
                first.status = ERROR
        if row.problems:
            row.status = ERROR
    return Preview(rows)


def _judge(row: Row, existing, opcos, known_codes: str, has_branch: bool) -> None:
    cells = row.cells
    compact = _compact(cells["siret"])
    current = existing.get(compact)
    if current is not None:
        # a SIRET on record names its structure, even one stored before keys were checked
        row.values["siret"] = compact
        if current.kind != OrgKind.STRUCTURE:
            row.problems.append(
                _l(
                    "Ce SIRET est celui de « %(name)s », qui n'est pas une structure.",
                    name=current.name,
                )
            )
    else:
        _check(row, "siret", checks.siret, compact if compact.isdigit() else cells["siret"])
    name = " ".join(cells["name"].split())
    if not name:
        row.problems.append(_l("Nom vide."))
    elif len(name) > 200:
        row.problems.append(_l("Nom de plus de 200 caractères."))
    row.values["name"] = name
    _check(row, "departement", checks.departement, cells["departement"])
    _check(row, "category", checks.category, cells["category"])
    code = cells["opco"].strip()
    if code:
        opco = opcos.get(header_key(code))
        if opco is None:
            row.problems.append(
                _l(
                    "OPCO inconnu : %(code)s (codes connus : %(known)s).",
                    code=code[:40],
                    known=known_codes,
                )
            )
        else:
            row.values["opco_id"] = opco.id
            row.values["opco_name"] = opco.name
    else:
        row.values["opco_id"] = None
    branch = " ".join(cells.get("branch", "").split())
    if len(branch) > 120:
        row.problems.append(_l("Branche de plus de 120 caractères."))
    if has_branch and branch:
        row.values["branch"] = branch
    if row.problems or current is None:
        return
    row.structure_id = current.id
    row.status = SAME
    opco_names = {o.id: o.name for o in opcos.values()}
    for key in ("name", "departement", "category", "opco_id", "branch"):
        if key not in row.values:
            continue
        before, after = getattr(current, key), row.values[key]
        if before != after:
            if key == "opco_id":
                before, after = opco_names.get(before, "—"), opco_names.get(after, "—")
            row.changes.append((FIELD_LABELS[key], before or "—", after or "—"))
    if row.changes:
        row.status = CHANGED


def _check(row: Row, key: str, check, text: str) -> None:
    try:
        row.values[key] = check(text)
    except ValueError as exc:
        row.problems.append(exc.args[0])


def import_rows(
    session: Session, *, actor_id: int | None, table: Table, filename: str, sha256: str
) -> Preview:
    """Save every row of `table` in the caller's transaction, or raise Rejected (and
    save nothing) when any row has a problem now."""
    judged = preview(session, table)
    if not judged.valid:
        raise Rejected(judged)
    fields = ("name", "siret", "departement", "category", "opco_id", "branch")
    created = []
    for row in judged.rows:
        if row.status == NEW:
            values = {k: row.values[k] for k in fields if k in row.values}
            created.append(Organisation(kind=OrgKind.STRUCTURE, **values))
    session.add_all(created)
    session.flush()
    audit.record_many(  # one INSERT for thousands of new structures
        session,
        [
            {
                "actor_id": actor_id,
                "action": "organisation.create",
                "subject_kind": "organisation",
                "subject_id": structure.id,
                "structure_id": structure.id,
                "after": snapshot(structure),
            }
            for structure in created
        ],
    )
    changed_ids = [row.structure_id for row in judged.rows if row.status == CHANGED]
    by_id = {
        org.id: org
        for org in session.exec(select(Organisation).where(Organisation.id.in_(changed_ids)))
    }
    moves = []
    for row in judged.rows:
        if row.status != CHANGED:
            continue
        structure = by_id[row.structure_id]
        before = snapshot(structure)
        for key in ("name", "departement", "category", "opco_id", "branch"):
            if key in row.values:
                setattr(structure, key, row.values[key])
        session.add(structure)
        session.flush()
        audit.record(
            session,
            actor_id=actor_id,
            action="organisation.update",
            subject_kind="organisation",
            subject_id=structure.id,
            structure_id=structure.id,
            before=before,
            after=snapshot(structure),
        )
        moves.append((structure, before))
    apply_moves(session, actor_id=actor_id, changes=moves)
    counts = judged.counts
    audit.record(
        session,
        actor_id=actor_id,
        action="organisation.import",
        subject_kind="organisation",
        subject_id=None,
        after={
            "filename": filename,
            "sha256": sha256,
            "created": counts[NEW],
            "updated": counts[CHANGED],
            "unchanged": counts[SAME],
        },
    )
    return judged


def import_upload(session: Session, *, actor_id: int | None, upload: Upload) -> Preview:
    """Import the file kept for its confirmation, which is then dropped; all or nothing:
    TabularError when it cannot be read, Rejected when a row has a problem now."""
    table = read_table(upload.content, COLUMNS, max_rows=MAX_ROWS)
    judged = import_rows(
        session, actor_id=actor_id, table=table, filename=upload.filename, sha256=upload.sha256
    )
    uploads.discard(session, upload)
    return judged
