"""The closed vocabularies of the field (DOMAIN.md), shared by models, forms and policy."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"
    MANAGER = "manager"
    OPCO = "opco"
    CONSULTANT = "consultant"
    ADMIN = "admin"


class OrgKind(enum.StrEnum):
    STRUCTURE = "structure"
    OPCO = "opco"
    SUPPORT_BODY = "support_body"  # Aract, DAVA, VAE accompaniment body


class ReferentialKind(enum.StrEnum):
    CERTIFICATION = "certification"  # RNCP fiche
    STRUCTURE = "structure"  # a structure's own job référentiel


class ProtocolStatus(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_SIGNATURES = "awaiting_signatures"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    STOPPED = "stopped"


class SequenceKind(enum.StrEnum):
    SITUATION = "situation"
    REFLECTION = "reflection"


class Autonomy(enum.StrEnum):
    ACCOMPANIED = "accompanied"
    ALONE = "alone"


class EvaluationKind(enum.StrEnum):
    INTERMEDIATE = "intermediate"
    FINAL = "final"


class AssessmentSource(enum.StrEnum):
    INITIAL = "initial"  # positionnement initial / diagnostic
    SEQUENCE = "sequence"  # set in a reflexive sequence
    EVALUATION = "evaluation"


class SignerRole(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"
    STRUCTURE = "structure"


class SignedKind(enum.StrEnum):
    PROTOCOL = "protocol"
    SEQUENCE = "sequence"
    EVALUATION = "evaluation"
    CERTIFICATE = "certificate"  # a certificat de réalisation (afest.models.certificate)


class VaeState(enum.StrEnum):
    """France VAE milestones, in pathway order (DOMAIN.md)."""

    PROJET = "projet"
    VALIDATION = "validation"  # eligibility checked
    PRISE_EN_CHARGE = "prise_en_charge"
    PARCOURS_CONFIRME = "parcours_confirme"
    FAISABILITE_ENVOYEE = "faisabilite_envoyee"
    FAISABILITE_INCOMPLETE = "faisabilite_incomplete"
    FAISABILITE_COMPLETE = "faisabilite_complete"
    FAISABILITE_RECEVABLE = "faisabilite_recevable"
    FAISABILITE_NON_RECEVABLE = "faisabilite_non_recevable"
    VALIDATION_REDIGEE = "validation_redigee"
    VALIDATION_ENVOYEE = "validation_envoyee"
    PREPARATION_ORAL = "preparation_oral"
    JURY_PLANIFIE = "jury_planifie"
    JURY_RESULTAT = "jury_resultat"
    CERTIFICATION = "certification"
    ABANDON = "abandon"


class JuryResult(enum.StrEnum):
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    FAILURE = "failure"


class BlockOutcome(enum.StrEnum):
    VALIDATED = "validated"
    NOT_VALIDATED = "not_validated"


class SelfAssessment(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"
