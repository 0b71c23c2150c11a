"""The editor of a structure's own référentiel: blocks, competences (missions), level scale.

Editing never touches a protocol: protocols keep a snapshot of the wording they target, and a
level scale is frozen as soon as an assessment uses it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import (
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Level,
    Referential,
    ReferentialKind,
)
from afest.models.referential import DEFAULT_LEVELS


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")[:40] or "niveau"


def _required(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(_l("Ce champ est obligatoire."), field=field)
    if len(value) > limit:
        raise ServiceError(_l("Texte trop long (%(n)s caractères au plus).", n=limit), field=field)
    return value


def create_structure_referential(
    session: Session, *, actor_id: int, structure_id: int, code: str, title: str
) -> Referential:
    """A structure's own job référentiel, with the default level scale."""
    code = _required(code, "code", 40)
    title = _required(title, "title", 300)
    if session.exec(select(Referential.id).where(Referential.code == code)).first():
        raise ServiceError(_l("Ce code de référentiel existe déjà."), field="code")
    referential = Referential(
        code=code, title=title, kind=ReferentialKind.STRUCTURE, owner_structure_id=structure_id
    )
    session.add(referential)
    session.flush()
    for rank, (lcode, label, acquired) in enumerate(DEFAULT_LEVELS):
        session.add(
            Level(
                referential_id=referential.id, rank=rank, code=lcode, label=label, acquired=acquired
            )
        )
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.create",
        subject_kind="referential",
        subject_id=referential.id,
        structure_id=structure_id,
        after={"code": code, "title": title},
    )
    return referential


def add_block(
    session: Session, *, actor_id: int, referential: Referential, code: str, title: str
) -> CompetenceBlock:
    """Add a block at the end of the référentiel."""
    code = _required(code, "code", 40)
    title = _required(title, "title", 2000)
    taken = session.exec(
        select(CompetenceBlock.id).where(
            CompetenceBlock.referential_id == referential.id, CompetenceBlock.code == code
        )
    ).first()
    if taken:
        raise ServiceError(_l("Ce code de bloc existe déjà dans le référentiel."), field="code")
    position = session.exec(
        select(func.count(CompetenceBlock.id)).where(
            CompetenceBlock.referential_id == referential.id
        )
    ).one()
    block = CompetenceBlock(
        referential_id=referential.id, code=code, title=title, position=position
    )
    session.add(block)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.block.add",
        subject_kind="referential",
        subject_id=referential.id,
        structure_id=referential.owner_structure_id,
        after={"block": code, "title": title},
    )
    return block


def add_competence(
    session: Session, *, actor_id: int, block: CompetenceBlock, code: str, title: str
) -> Competence:
    """Add a competence (a mission) at the end of a block."""
    code = _required(code, "code", 40)
    title = _required(title, "title", 2000)
    taken = session.exec(
        select(Competence.id).where(Competence.block_id == block.id, Competence.code == code)
    ).first()
    if taken:
        raise ServiceError(_l("Ce code existe déjà dans le bloc."), field="code")
    position = session.exec(
        select(func.count(Competence.id)).where(Competence.block_id == block.id)
    ).one()
    competence = Competence(block_id=block.id, code=code, title=title, position=position)
    session.add(competence)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.competence.add",
        subject_kind="referential",
        subject_id=block.referential_id,
        after={"block": block.code, "competence": code, "title": title},
    )
    return competence


def rename_competence(
    session: Session, *, actor_id: int, competence: Competence, title: str
) -> None:
    """Reword a competence; protocols keep the wording they were drawn up with."""
    before = competence.title
    competence.title = _required(title, "title", 2000)
    session.add(competence)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.competence.rename",
        subject_kind="competence",
        subject_id=competence.id,
        before={"title": before},
        after={"title": competence.title},
    )


def parse_levels(text: str) -> list[tuple[str, bool]]:
    """One level a line, lowest first; a line ending with `*` is a level that counts as held."""
    levels = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        acquired = line.endswith("*")
        label = line.rstrip("*").strip()
        if label:
            levels.append((label, acquired))
    return levels


def set_levels(
    session: Session, *, actor_id: int, referential: Referential, levels: Sequence[tuple[str, bool]]
) -> None:
    """Replace the level scale, while no assessment uses it yet."""
    if not 2 <= len(levels) <= 8:
        raise ServiceError(_l("Une échelle compte de 2 à 8 niveaux."), field="levels")
    if any(len(label) > 120 for label, _ in levels):
        raise ServiceError(_l("Un libellé dépasse 120 caractères."), field="levels")
    if len({label.lower() for label, _ in levels}) != len(levels):
        raise ServiceError(_l("Deux niveaux portent le même libellé."), field="levels")
    if not any(acquired for _, acquired in levels):
        raise ServiceError(
            _l("Marquez d'un * au moins un niveau qui vaut compétence acquise."), field="levels"
        )
    current = session.exec(select(Level).where(Level.referential_id == referential.id)).all()
    used = session.exec(
        select(CompetenceAssessment.id)
        .where(CompetenceAssessment.level_id.in_([lv.id for lv in current]))
        .limit(1)
    ).first()
    if used:
        raise ServiceError(
            _l("Cette échelle sert déjà à des positionnements : elle ne peut plus être changée."),
            field="levels",
        )
    for level in current:
        session.delete(level)
    session.flush()
    codes: set[str] = set()
    for rank, (label, acquired) in enumerate(levels):
        code = _slug(label)
        while code in codes:
            code = f"{code[:36]}_{rank}"
        codes.add(code)
        session.add(
            Level(
                referential_id=referential.id, rank=rank, code=code, label=label, acquired=acquired
            )
        )
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="referential.levels",
        subject_kind="referential",
        subject_id=referential.id,
        structure_id=referential.owner_structure_id,
        before={"levels": [lv.label for lv in current]},
        after={"levels": [label for label, _ in levels]},
    )
