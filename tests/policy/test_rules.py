"""The policy's permission rules, table-driven: for each rule, whom of the cast
(tests/policy/cast.py) it allows, on which object, in which state. Whoever a table does not
name is refused everything; every person of the cast is checked against every table."""

from __future__ import annotations

import pytest

from afest import policy
from afest.models import ProtocolStatus

from .cast import (
    ALL,
    NOT_OVER,
    ORG_IDS,
    REFERENTIALS,
    everyone,
    plain_actor,
    plain_protocol,
    plain_referential,
    plain_user,
    rows,
)

DRAFT = ProtocolStatus.DRAFT
AWAITING = ProtocolStatus.AWAITING_SIGNATURES
IN_PROGRESS = ProtocolStatus.IN_PROGRESS

# rule(actor, protocol): who → the protocol statuses in which it holds
PROTOCOL_TABLES = {
    "is_designated_tutor": {"designated-tutor": ALL},
    "can_view_protocol": everyone(ALL),  # protocol_visible decides
    "can_log_sequence": {"designated-tutor": {IN_PROGRESS}},
    "can_use_tablet": {"designated-tutor": ALL},
    "can_sign_sequence": {"designated-tutor": {IN_PROGRESS}},
    "can_countersign_sequence": {"learner": ALL, "designated-tutor": ALL},
    "can_export_proof_pack": {"manager": ALL, "opco-funder": ALL},
    "can_manage_costs": {"manager": ALL},
    "can_sign_certificate": {
        "manager": {IN_PROGRESS, ProtocolStatus.COMPLETED, ProtocolStatus.STOPPED}
    },
    "can_view_compliance": {"manager": ALL, "designated-tutor": ALL},
    "can_edit_draft": {"manager": {DRAFT}},
    "can_sign_protocol": {
        "learner": {AWAITING},
        "designated-tutor": {AWAITING},
        "manager": {AWAITING},
    },
    "can_close_protocol": {"manager": NOT_OVER},
    "can_pause_protocol": {"manager": {IN_PROGRESS}},
    "can_read_pause_reason": {"learner": ALL, "designated-tutor": ALL, "manager": ALL},
    "can_evaluate": {"designated-tutor": {IN_PROGRESS}},
    "can_sign_evaluation": {"designated-tutor": ALL, "learner": ALL},
}


# rule(actor, structure_id): who → the structures for which it holds
STRUCTURE_TABLES = {
    "manages": {"manager": {"structure"}, "manager-other-structure": {"other structure"}},
    "can_manage_people": {
        "manager": {"structure"},
        "manager-other-structure": {"other structure"},
        "admin": {"structure", "other structure"},
    },
    "sees_learner_records": {
        "manager": {"structure"},
        "manager-other-structure": {"other structure"},
    },
}

# rule(actor): who → True
ACTOR_TABLES = {
    "can_list_referentials": {"manager": True, "manager-other-structure": True, "admin": True},
    "can_import_referentials": {"admin": True},
    "can_manage_accounts": {"admin": True},
    "can_list_people": {"admin": True, "manager": True, "manager-other-structure": True},
    "can_choose_pin": {
        "designated-tutor": True,
        "tutor-not-designated": True,
        "tutor-designation-ended": True,
    },
    "can_view_opco_dashboard": {"opco-funder": True, "opco-other": True},
    "can_view_outbox": {"admin": True},
    "can_have_calendar": {
        "learner": True,
        "other-learner": True,
        "designated-tutor": True,
        "tutor-not-designated": True,
        "tutor-designation-ended": True,
    },
}

# rule(actor, référentiel): who → the référentiels (cast.REFERENTIALS) for which it holds
REFERENTIAL_TABLES = {
    "can_view_referential": everyone(set(REFERENTIALS)),  # referential_visible decides
    "can_edit_referential": {
        "admin": {"structure's own", "another structure's"},
        "manager": {"structure's own"},
        "manager-other-structure": {"another structure's"},
    },
}

# rule(actor, user): who → the accounts for which it holds ("themselves": their own)
USERS = ("themselves", "learner", "admin")
USER_TABLES = {
    "can_deactivate": {"admin": {"learner"}},
    "can_view_learner_record": {
        "learner": {"themselves", "learner"},
        "other-learner": {"themselves"},
    },
}

# rule(actor, badge): who → the issued badges for which it holds (a badge: its learner, and
# the structure that issued it)
BADGES = {
    "the learner's": ("learner", "structure"),
    "another structure's": ("other-learner", "other structure"),
}
BOTH_BADGES = set(BADGES)
CREDENTIAL_TABLES = {
    "can_view_credential": {
        "learner": {"the learner's"},
        "other-learner": {"another structure's"},
        "manager": {"the learner's"},
        "manager-other-structure": {"another structure's"},
        "admin": BOTH_BADGES,
    },
    "can_revoke_credential": {
        "manager": {"the learner's"},
        "manager-other-structure": {"another structure's"},
        "admin": BOTH_BADGES,
    },
}

TABLES = {
    **PROTOCOL_TABLES,
    **STRUCTURE_TABLES,
    **ACTOR_TABLES,
    **REFERENTIAL_TABLES,
    **USER_TABLES,
    **CREDENTIAL_TABLES,
}


@pytest.mark.parametrize(("rule", "who", "expected"), rows(PROTOCOL_TABLES))
def test_protocol_rule(rule, who, expected):
    actor = plain_actor(who)
    holds = {s for s in ProtocolStatus if getattr(policy, rule)(actor, plain_protocol(s))}
    assert holds == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(STRUCTURE_TABLES))
def test_structure_rule(rule, who, expected):
    actor = plain_actor(who)
    holds = {
        name
        for name in ("structure", "other structure")
        if getattr(policy, rule)(actor, ORG_IDS[name])
    }
    assert holds == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(ACTOR_TABLES))
def test_actor_rule(rule, who, expected):
    assert getattr(policy, rule)(plain_actor(who)) is bool(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(REFERENTIAL_TABLES))
def test_referential_rule(rule, who, expected):
    actor = plain_actor(who)
    holds = {name for name in REFERENTIALS if getattr(policy, rule)(actor, plain_referential(name))}
    assert holds == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(USER_TABLES))
def test_user_rule(rule, who, expected):
    actor = plain_actor(who)
    accounts = {"themselves": who, "learner": "learner", "admin": "admin"}
    holds = {name for name in USERS if getattr(policy, rule)(actor, plain_user(accounts[name]))}
    assert holds == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(CREDENTIAL_TABLES))
def test_credential_rule(rule, who, expected):
    from types import SimpleNamespace

    from .cast import PERSON_IDS

    actor = plain_actor(who)
    holds = {
        name
        for name, (learner, issuer) in BADGES.items()
        if getattr(policy, rule)(
            actor, SimpleNamespace(learner_id=PERSON_IDS[learner], issuer_id=ORG_IDS[issuer])
        )
    }
    assert holds == set(expected)
