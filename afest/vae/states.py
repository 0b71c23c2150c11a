"""The milestones of a VAE pathway in France VAE order: their labels, which may follow which,
which need a reason."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from afest.models import (
    BlockOutcome,
    JuryResult,
    SelfAssessment,
    VaeState,
)

S = VaeState
STATE_LABELS = {
    S.PROJET: _l("Projet"),
    S.VALIDATION: _l("Recevabilité du projet vérifiée"),
    S.PRISE_EN_CHARGE: _l("Accompagnement commencé"),
    S.PARCOURS_CONFIRME: _l("Parcours validé"),
    S.FAISABILITE_ENVOYEE: _l("Dossier de faisabilité envoyé"),
    S.FAISABILITE_INCOMPLETE: _l("Dossier de faisabilité incomplet"),
    S.FAISABILITE_COMPLETE: _l("Dossier de faisabilité complet"),
    S.FAISABILITE_RECEVABLE: _l("Dossier de faisabilité recevable"),
    S.FAISABILITE_NON_RECEVABLE: _l("Dossier de faisabilité non recevable"),
    S.VALIDATION_REDIGEE: _l("Dossier de validation rédigé"),
    S.VALIDATION_ENVOYEE: _l("Dossier de validation envoyé"),
    S.PREPARATION_ORAL: _l("Préparation de l'oral"),
    S.JURY_PLANIFIE: _l("Jury prévu"),
    S.JURY_RESULTAT: _l("Résultat du jury"),
    S.CERTIFICATION: _l("Certification obtenue"),
    S.ABANDON: _l("Parcours arrêté"),
}
JURY_LABELS = {
    JuryResult.SUCCESS: _l("Validation totale"),
    JuryResult.PARTIAL_SUCCESS: _l("Validation partielle"),
    JuryResult.FAILURE: _l("Pas de validation"),
}
OUTCOME_LABELS = {
    BlockOutcome.VALIDATED: _l("Bloc validé"),
    BlockOutcome.NOT_VALIDATED: _l("Bloc non validé"),
}
ANSWER_LABELS = {
    SelfAssessment.YES: _l("Oui"),
    SelfAssessment.PARTLY: _l("En partie"),
    SelfAssessment.NO: _l("Non"),
}
# The way forward a learner is shown, in pathway order (the ordinary road, no detours).
ROAD = (
    S.PROJET,
    S.VALIDATION,
    S.PRISE_EN_CHARGE,
    S.PARCOURS_CONFIRME,
    S.FAISABILITE_ENVOYEE,
    S.FAISABILITE_COMPLETE,
    S.FAISABILITE_RECEVABLE,
    S.VALIDATION_REDIGEE,
    S.VALIDATION_ENVOYEE,
    S.PREPARATION_ORAL,
    S.JURY_PLANIFIE,
    S.JURY_RESULTAT,
    S.CERTIFICATION,
)
# The self-assessment is written before the feasibility file is sent, or when it came back
# incomplete or not receivable (then the pathway is agreed again).
FEASIBILITY_OPEN = {
    S.PROJET,
    S.VALIDATION,
    S.PRISE_EN_CHARGE,
    S.PARCOURS_CONFIRME,
    S.FAISABILITE_INCOMPLETE,
}
# A milestone may be dated a little ahead (time zones) but not in the future.
FUTURE_TOLERANCE = timedelta(days=1)
# Which milestone may follow which. A not-receivable feasibility ends the pathway or
# reroutes it to a newly agreed pathway (with a reason).
NEXT: dict[VaeState, tuple[VaeState, ...]] = {
    S.PROJET: (S.VALIDATION, S.ABANDON),
    S.VALIDATION: (S.PRISE_EN_CHARGE, S.ABANDON),
    S.PRISE_EN_CHARGE: (S.PARCOURS_CONFIRME, S.ABANDON),
    S.PARCOURS_CONFIRME: (S.FAISABILITE_ENVOYEE, S.ABANDON),
    S.FAISABILITE_ENVOYEE: (S.FAISABILITE_INCOMPLETE, S.FAISABILITE_COMPLETE),
    S.FAISABILITE_INCOMPLETE: (S.FAISABILITE_ENVOYEE, S.ABANDON),
    S.FAISABILITE_COMPLETE: (S.FAISABILITE_RECEVABLE, S.FAISABILITE_NON_RECEVABLE),
    S.FAISABILITE_RECEVABLE: (S.VALIDATION_REDIGEE, S.ABANDON),
    S.FAISABILITE_NON_RECEVABLE: (S.PARCOURS_CONFIRME, S.ABANDON),
    S.VALIDATION_REDIGEE: (S.VALIDATION_ENVOYEE, S.ABANDON),
    S.VALIDATION_ENVOYEE: (S.PREPARATION_ORAL, S.JURY_PLANIFIE, S.ABANDON),
    S.PREPARATION_ORAL: (S.JURY_PLANIFIE, S.ABANDON),
    S.JURY_PLANIFIE: (S.JURY_RESULTAT,),
    S.JURY_RESULTAT: (S.CERTIFICATION, S.JURY_PLANIFIE),
    S.CERTIFICATION: (),
    S.ABANDON: (),
}
NEEDS_REASON = {S.FAISABILITE_NON_RECEVABLE, S.ABANDON, S.FAISABILITE_INCOMPLETE}
# A reroute after a not-receivable feasibility needs its reason too.
REROUTE = (S.FAISABILITE_NON_RECEVABLE, S.PARCOURS_CONFIRME)
