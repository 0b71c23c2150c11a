"""All tables of afest; importing this package registers them on SQLModel.metadata."""

from .account import AccountToken, RoleAssignment, User, UserSession
from .api import ApiToken
from .assessment import CompetenceAssessment, Evaluation
from .base import SQLModel, new_public_id, utcnow
from .certificate import Certificate
from .claim import ClaimArchive
from .costs import CostRole, EvaluationTime, HourlyCost, OtherCost, OtherCostKind
from .credential import IssuedCredential
from .enums import (
    AssessmentSource,
    Autonomy,
    BlockOutcome,
    EvaluationKind,
    JuryResult,
    OrgKind,
    ProtocolStatus,
    ReferentialKind,
    Role,
    SelfAssessment,
    SequenceKind,
    SignedKind,
    SignerRole,
    VaeState,
)
from .mail import MailState, OutboxMessage
from .org import Cohort, CohortConsultant, CohortStructure, Organisation
from .protocol import (
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolPause,
    ProtocolTutor,
)
from .referential import Competence, CompetenceBlock, Criterion, Level, Referential
from .retention import PurgeWindow
from .rollup import ROLLUP_TABLES
from .sequence import ReflectionSituation, Sequence, SequenceAttachment, SequenceCompetence
from .signature import AuditEntry, Signature
from .todo import CalendarFeed, ReminderDigest
from .upload import Upload
from .vae import FeasibilityAnswer, VaeBlockResult, VaeMilestone, VaePathway

metadata = SQLModel.metadata

__all__ = [
    "AccountToken",
    "ApiToken",
    "AssessmentSource",
    "AuditEntry",
    "Autonomy",
    "CalendarFeed",
    "Certificate",
    "ClaimArchive",
    "BlockOutcome",
    "Cohort",
    "CohortConsultant",
    "CohortStructure",
    "Competence",
    "CompetenceAssessment",
    "CompetenceBlock",
    "CostRole",
    "Criterion",
    "Evaluation",
    "EvaluationTime",
    "EvaluationKind",
    "FeasibilityAnswer",
    "HourlyCost",
    "JuryResult",
    "Level",
    "MailState",
    "OrgKind",
    "Organisation",
    "OtherCost",
    "OtherCostKind",
    "OutboxMessage",
    "PlannedSequence",
    "Protocol",
    "PurgeWindow",
    "ProtocolCompetence",
    "ProtocolPause",
    "ProtocolStatus",
    "ProtocolTutor",
    "Referential",
    "ReferentialKind",
    "ROLLUP_TABLES",
    "ReflectionSituation",
    "ReminderDigest",
    "Role",
    "RoleAssignment",
    "SQLModel",
    "SelfAssessment",
    "IssuedCredential",
    "Sequence",
    "SequenceAttachment",
    "SequenceCompetence",
    "SequenceKind",
    "Signature",
    "SignedKind",
    "SignerRole",
    "Upload",
    "User",
    "UserSession",
    "VaeBlockResult",
    "VaeMilestone",
    "VaePathway",
    "VaeState",
    "metadata",
    "new_public_id",
    "utcnow",
]
