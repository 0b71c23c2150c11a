"""Blueprints: routes only, one module per domain. A view loads and authorizes, validates,
calls one operation inside `writing()`, then redirects or renders. No blueprint imports
another; create_app registers them all (ALL)."""

from afest.blueprints import (
    admin,
    api,
    api_tokens,
    auth,
    certificates,
    costs,
    dashboards,
    evaluations,
    learner,
    mail,
    main,
    organisation_imports,
    organisations,
    people,
    proofpack,
    protocols,
    referentials,
    sequences,
    tablet,
    todo,
    vae,
)

ALL = tuple(
    module.bp
    for module in (
        auth,
        main,
        protocols,
        admin,
        tablet,
        sequences,
        referentials,
        evaluations,
        proofpack,
        learner,
        vae,
        dashboards,
        organisations,
        organisation_imports,
        mail,
        people,
        todo,
        costs,
        certificates,
        api,
        api_tokens,
    )
)
