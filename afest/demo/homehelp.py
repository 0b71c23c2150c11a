"""The home-help association of Alpes-Maritimes (Uniformation): two-week AFEST on the three
home-help blocks, one protocol left incomplete on purpose."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from afest.demo.people import Ctx, make_org, make_user, person_name
from afest.demo.protocol import run_protocol
from afest.models import (
    Organisation,
    OrgKind,
    Referential,
    Role,
)


def home_help(ctx: Ctx, refs: dict[str, Referential]) -> None:
    s = ctx.session
    opco = make_org(ctx, name="Uniformation", kind=OrgKind.OPCO, code="UNIFORMATION")
    make_user(
        ctx, "conseil@uniformation.demo", "Hélène Vidal (Uniformation)", [(Role.OPCO, opco.id)]
    )
    if s.exec(select(Organisation.id).where(Organisation.siret == "77568412300018")).first():
        return
    assoc = make_org(
        ctx,
        name="Azur Aide à Domicile",
        kind=OrgKind.STRUCTURE,
        siret="77568412300018",
        departement="06",
        category="SAAD",
        branch="Aide, accompagnement, soins et services à domicile",
        opco_id=opco.id,
    )
    manager = make_user(
        ctx, "direction@azur-aide.demo", "Sylvie Castel", [(Role.MANAGER, assoc.id)]
    )
    tutors = [
        make_user(
            ctx, "tuteur@azur-aide.demo", "Martine Olivier", [(Role.TUTOR, assoc.id)], pin=True
        ),
        make_user(
            ctx, "tutrice2@azur-aide.demo", "Rachid Amrani", [(Role.TUTOR, assoc.id)], pin=True
        ),
    ]
    stages = ["completed", "in_progress", "in_progress", "completed", "awaiting", "draft"]
    ref = refs["AAD-AFEST"]
    for i, stage in enumerate(stages):
        email = "apprenant@azur-aide.demo" if i == 0 else f"apprenant{i + 1}@azur-aide.demo"
        learner = make_user(ctx, email, person_name(ctx), [(Role.LEARNER, assoc.id)])
        start = ctx.today - timedelta(days=40 - 5 * i)
        run_protocol(
            ctx,
            manager=manager,
            learner=learner,
            tutor=tutors[i % 2],
            structure=assoc,
            referential=ref,
            title="AFEST d'intégration — aide à domicile",
            block_codes=["AAD-B1", "AAD-B2", "AAD-B3"],
            start=start,
            days=14,
            stage=stage,
            # the second completed one's certificate is signed; the first's awaits her
            certify=("Directrice", "Nice") if i == 3 else None,
        )
    # Made incomplete on purpose: no activity analysis, a situation never analysed, no
    # evaluation — the compliance checklist must name each of these.
    learner = make_user(
        ctx, "apprenant-incomplet@azur-aide.demo", person_name(ctx), [(Role.LEARNER, assoc.id)]
    )
    run_protocol(
        ctx,
        manager=manager,
        learner=learner,
        tutor=tutors[0],
        structure=assoc,
        referential=ref,
        title="AFEST d'intégration — aide à domicile (incomplet)",
        block_codes=["AAD-B1", "AAD-B2"],
        start=ctx.today - timedelta(days=30),
        days=14,
        stage="in_progress",
        incomplete=True,
    )
