"""The page of an evaluation, composed for its views: the level given on each competence,
its signatures, and the roles in which the reader may still sign it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from afest import policy
from afest.assessments import evaluations
from afest.assessments.forms import EvaluationSignForm
from afest.models import Evaluation, Protocol, Signature, SignedKind, SignerRole
from afest.proof import signatures
from afest.protocols.screens import scope_and_scale


def sign_roles(actor, protocol: Protocol, signed: list[Signature]) -> list[SignerRole]:
    """The roles in which the actor may still sign: the designated tutor signs, the learner
    countersigns, each once."""
    if not policy.can_sign_evaluation(actor, protocol):
        return []
    done = {s.signer_role for s in signed}
    roles = []
    if policy.is_designated_tutor(actor, protocol) and SignerRole.TUTOR not in done:
        roles.append(SignerRole.TUTOR)
    if actor.id == protocol.learner_id and SignerRole.LEARNER not in done:
        roles.append(SignerRole.LEARNER)
    return roles


def evaluation_page(
    session: Session, actor, evaluation: Evaluation, protocol: Protocol, sign_form=None
) -> dict[str, Any]:
    """Each competence evaluated with its level, the signatures, and the signature form
    (blank, or `sign_form` back with its messages) offering the roles left to the actor."""
    scope, _scale = scope_and_scale(session, protocol)
    labels = {c.competence_id: f"{c.competence_code} — {c.competence_title}" for c in scope}
    rows = evaluations.levels_given(session, evaluation.id)
    signed = signatures.signatures_of(session, SignedKind.EVALUATION, evaluation.id)
    form = sign_form or EvaluationSignForm(formdata=None)
    form.offer(sign_roles(actor, protocol, signed))
    return {
        "evaluation": evaluation,
        "protocol": protocol,
        "rows": [(labels.get(cid, cid), level) for cid, level in rows],
        "signatures": signed,
        "sign_form": form,
    }
