"""The documents of the API as pydantic models: what a query may ask (…Query) and what an
answer holds (…Out, …Page). spectree builds the OpenAPI 3.1 document from them and checks
every query and answer against them. Identifiers are public ids only."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from afest.api.paging import LIMIT_DEFAULT, LIMIT_MAX
from afest.core.problems import MEDIA_TYPE
from afest.models import BlockOutcome, JuryResult, ProtocolStatus, SequenceKind, VaeState
from afest.protocols.compliance import State

PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{1,22}$"  # afest.models.base.new_public_id's alphabet


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- queries -------------------------------------------------------------------------------


class PageQuery(BaseModel):
    limit: int = Field(
        LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Éléments par page (1 à 200)."
    )
    cursor: str | None = Field(
        None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Le curseur `next_cursor` de la page précédente.",
    )


class ProtocolQuery(PageQuery):
    structure: str | None = Field(
        None, pattern=PUBLIC_ID_PATTERN, description="Identifiant public d'une structure."
    )
    status: ProtocolStatus | None = None
    updated_since: AwareDatetime | None = Field(
        None, description="Seulement les protocoles modifiés depuis (ISO 8601 avec fuseau)."
    )

    @field_validator("updated_since")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """The moment in UTC, as stored; one that UTC cannot hold (year 1 east of Greenwich,
        year 9999 west of it) is refused."""
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("out of range in UTC") from None


# --- answers -------------------------------------------------------------------------------


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


class StructureOut(_Out):
    id: str
    name: str
    siret: str | None
    departement: str | None
    category: str | None
    opco: str | None = Field(description="Identifiant public de l'OPCO qui la finance.")


class StructurePage(_Out):
    items: list[StructureOut]
    next_cursor: str | None
    next: str | None = Field(description="L'adresse de la page suivante (aucune : la dernière).")


class ConditionOut(_Out):
    number: int = Field(ge=1, le=4)
    key: str
    state: State
    met: bool


class ComplianceOut(_Out):
    all_met: bool
    at_risk: bool = Field(description="Une condition au moins n'est pas remplie.")
    conditions: list[ConditionOut]


class HoursOut(_Out):
    planned_minutes: int = Field(ge=0)
    done_minutes: int = Field(
        ge=0, description="Durées des séquences signées par le tuteur et l'apprenant."
    )


class ProofPackOut(_Out):
    pdf: str
    xlsx: str
    csv: str
    zip: str


class ProtocolOut(_Out):
    id: str
    title: str
    status: ProtocolStatus
    structure: str
    structure_name: str
    funder: str | None
    referential: str
    learner_name: str
    planned_start: date
    planned_end: date
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime
    compliance: ComplianceOut
    hours: HoursOut
    proof_pack: ProofPackOut | None = Field(
        description="Les adresses du dossier de preuve, pour qui peut le télécharger."
    )


class ProtocolPage(_Out):
    items: list[ProtocolOut]
    next_cursor: str | None
    next: str | None


class SequenceOut(_Out):
    id: str
    kind: SequenceKind
    occurred_at: datetime
    duration_minutes: int = Field(ge=0)
    signed_by_tutor: bool
    signed_by_learner: bool
    analysed: bool | None = Field(
        description="Une situation : analysée par une séquence réflexive (aucun : une réflexion)."
    )


class SequenceList(_Out):
    protocol: str
    hours: HoursOut
    items: list[SequenceOut]


class FigureRow(_Out):
    label: str
    key: str | None = Field(description="Le département, le mois (AAAAMM) ou le statut.")
    structure: str | None = Field(description="Identifiant public de la structure.")
    hidden: bool = Field(description="Moins de k apprenants : les chiffres sont masqués.")
    values: dict[str, int] | None


class DashboardOut(_Out):
    k: int = Field(description="Plus petit groupe montré dans les chiffres entre structures.")
    suppressed: bool = Field(description="Une règle des petits effectifs a masqué un chiffre.")
    pending_protocols: int = Field(ge=0, description="Protocoles pas encore comptés.")
    totals: FigureRow
    statuses: list[FigureRow]
    structures: list[FigureRow]
    departements: list[FigureRow]
    referentials: list[FigureRow]
    months: list[FigureRow]


class BlockResultOut(_Out):
    block: str
    title: str
    outcome: BlockOutcome


class PathwayOut(_Out):
    id: str
    state: VaeState
    referential: str
    structure: str
    jury_result: JuryResult | None
    created_at: datetime
    blocks: list[BlockResultOut]


class PathwayPage(_Out):
    items: list[PathwayOut]
    next_cursor: str | None
    next: str | None


class DashboardQuery(BaseModel):
    dept: str | None = Field(
        None, pattern=r"^[0-9A-Za-z]{1,3}$", description="Un département (« 06 »)."
    )
    ref: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,60}$", description="Le code d'un référentiel."
    )
    du: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="Premier mois.")
    au: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="Dernier mois.")


def with_problem_media(document: dict) -> dict:
    """The OpenAPI document with its error answers under application/problem+json, the media
    type they are sent with (spectree documents every answer as application/json)."""
    document = copy.deepcopy(document)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return document
