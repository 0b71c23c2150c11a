"""#CARE-SKILLS (OPCO Santé, Aract PACA): 10 EHPAD × 3 learners × 3 AFEST towards the DEAS or
the DEAES, with VAE pathways at various milestones (a jury's result on its day or after)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from afest.demo.people import CARE_SKILLS, Ctx, make_org, make_user, person_name
from afest.demo.protocol import run_protocol
from afest.models import (
    BlockOutcome,
    Cohort,
    CohortConsultant,
    CohortStructure,
    CompetenceBlock,
    JuryResult,
    Organisation,
    OrgKind,
    Referential,
    Role,
    User,
    VaeState,
)
from afest.vae import operations as vae

EHPADS = [
    ("EHPAD Les Oliviers", "13", "Marseille"),
    ("EHPAD La Roseraie", "13", "Aix-en-Provence"),
    ("EHPAD Le Mistral", "83", "Toulon"),
    ("EHPAD Les Lavandes", "84", "Avignon"),
    ("EHPAD Villa Azur", "06", "Nice"),
    ("EHPAD Les Cigales", "83", "Draguignan"),
    ("Centre hospitalier de Digne — USLD", "04", "Digne-les-Bains"),
    ("EHPAD Le Val de Durance", "05", "Gap"),
    ("Foyer d'accueil médicalisé Les Tilleuls", "84", "Carpentras"),
    ("EHPAD Les Calanques", "13", "La Ciotat"),
]
VAE_STAGES = [
    [VaeState.VALIDATION],
    [VaeState.VALIDATION, VaeState.PRISE_EN_CHARGE, VaeState.PARCOURS_CONFIRME],
    [
        VaeState.VALIDATION,
        VaeState.PRISE_EN_CHARGE,
        VaeState.PARCOURS_CONFIRME,
        VaeState.FAISABILITE_ENVOYEE,
        VaeState.FAISABILITE_COMPLETE,
        VaeState.FAISABILITE_RECEVABLE,
    ],
    [
        VaeState.VALIDATION,
        VaeState.PRISE_EN_CHARGE,
        VaeState.PARCOURS_CONFIRME,
        VaeState.FAISABILITE_ENVOYEE,
        VaeState.FAISABILITE_COMPLETE,
        VaeState.FAISABILITE_RECEVABLE,
        VaeState.VALIDATION_REDIGEE,
        VaeState.VALIDATION_ENVOYEE,
        VaeState.PREPARATION_ORAL,
        VaeState.JURY_PLANIFIE,
    ],
    [
        VaeState.VALIDATION,
        VaeState.PRISE_EN_CHARGE,
        VaeState.PARCOURS_CONFIRME,
        VaeState.FAISABILITE_ENVOYEE,
        VaeState.FAISABILITE_COMPLETE,
        VaeState.FAISABILITE_RECEVABLE,
        VaeState.VALIDATION_REDIGEE,
        VaeState.VALIDATION_ENVOYEE,
        VaeState.JURY_PLANIFIE,
        VaeState.JURY_RESULTAT,
    ],
]


def care_skills(ctx: Ctx, refs: dict[str, Referential]) -> None:
    s = ctx.session
    opco = make_org(ctx, name="OPCO Santé", kind=OrgKind.OPCO, code="OPCO-SANTE")
    aract = make_org(ctx, name="Aract PACA", kind=OrgKind.SUPPORT_BODY, code="ARACT-PACA")
    make_user(ctx, "conseil@opco-sante.demo", "Marc Ferrand (OPCO Santé)", [(Role.OPCO, opco.id)])
    consultants = [
        make_user(
            ctx, "consultant@aract-paca.demo", "Claire Jourdan", [(Role.CONSULTANT, aract.id)]
        ),
        make_user(
            ctx,
            "accompagnatrice-vae@aract-paca.demo",
            "Farida Meziane",
            [(Role.CONSULTANT, aract.id)],
        ),
    ]
    if s.exec(select(Cohort.id).where(Cohort.code == CARE_SKILLS)).first():
        return
    cohort = Cohort(
        code=CARE_SKILLS,
        name="#CARE-SKILLS",
        support_body_id=aract.id,
        funder_id=opco.id,
        starts_on=ctx.today - timedelta(days=240),
        ends_on=ctx.today + timedelta(days=180),
        description="Diagnostic personnalisé → AFEST sur les compétences manquantes "
        "→ accompagnement VAE → jury, vers le DEAS ou le DEAES. "
        "Aract PACA avec DREETS, ARS, DAVA, ANFH, OPCO Santé.",
    )
    s.add(cohort)
    s.flush()
    for consultant in consultants:
        s.add(CohortConsultant(cohort_id=cohort.id, user_id=consultant.id))
    deas, deaes = refs["RNCP35830"], refs["RNCP36004"]
    deas_blocks = [
        b.code
        for b in s.exec(
            select(CompetenceBlock)
            .where(CompetenceBlock.referential_id == deas.id)
            .order_by(CompetenceBlock.position)
        )
    ]
    deaes_blocks = [
        b.code
        for b in s.exec(
            select(CompetenceBlock)
            .where(CompetenceBlock.referential_id == deaes.id)
            .order_by(CompetenceBlock.position)
        )
    ]
    for k, (name, dept, town) in enumerate(EHPADS, start=1):
        structure = make_org(
            ctx,
            name=name,
            kind=OrgKind.STRUCTURE,
            siret=f"26130{k:04d}00017",
            departement=dept,
            category="EHPAD" if "EHPAD" in name else "ESMS",
            branch="Sanitaire, social et médico-social privé à but non lucratif",
            opco_id=opco.id,
        )
        s.add(CohortStructure(cohort_id=cohort.id, structure_id=structure.id))
        slug = f"ehpad-{k:02d}"
        manager = make_user(
            ctx, f"direction@{slug}.demo", person_name(ctx), [(Role.MANAGER, structure.id)]
        )
        tutor = make_user(
            ctx, f"tuteur@{slug}.demo", person_name(ctx), [(Role.TUTOR, structure.id)], pin=True
        )
        for n in range(1, 4):
            learner = make_user(
                ctx, f"apprenant{n}@{slug}.demo", person_name(ctx), [(Role.LEARNER, structure.id)]
            )
            ref, blocks = (deas, deas_blocks) if (k + n) % 3 else (deaes, deaes_blocks)
            chosen = ctx.rng.sample(blocks, 3)
            for a, stage in enumerate(
                ("completed", "in_progress", ctx.rng.choice(["draft", "awaiting", "in_progress"]))
            ):
                start = ctx.today - timedelta(days=200 - 70 * a + ctx.rng.randrange(5))
                run_protocol(
                    ctx,
                    manager=manager,
                    learner=learner,
                    tutor=tutor,
                    structure=structure,
                    referential=ref,
                    title=f"AFEST {ref.short} — {chosen[a]}",
                    block_codes=[chosen[a]],
                    start=start,
                    days=28,
                    stage=stage,
                    cohort_id=cohort.id,
                    # the certificates of two learners of three are signed already
                    certify=("Responsable d'établissement", town) if n < 3 else None,
                )
            vae_pathway(
                ctx,
                learner,
                structure,
                ref,
                cohort,
                consultants[(k + n) % 2],
                VAE_STAGES[(k * 3 + n) % len(VAE_STAGES)],
            )


def vae_pathway(
    ctx: Ctx,
    learner: User,
    structure: Organisation,
    ref: Referential,
    cohort: Cohort,
    consultant: User,
    stages: list[VaeState],
) -> None:
    s = ctx.session
    day = ctx.today - timedelta(days=230)
    pathway = vae.start_pathway(
        s,
        actor_id=consultant.id,
        learner_id=learner.id,
        structure_id=structure.id,
        referential_id=ref.id,
        cohort_id=cohort.id,
        consultant_id=consultant.id,
        started_on=day,
        note="Diagnostic #CARE-SKILLS réalisé.",
    )
    jury_on = None
    for state in stages:
        day += timedelta(days=ctx.rng.randrange(10, 25))
        extra = {}
        if state == VaeState.JURY_PLANIFIE:
            # A jury whose result follows has sat already (today at the latest).
            jury_on = min(day, ctx.today) + timedelta(days=20)
            if VaeState.JURY_RESULTAT in stages:
                jury_on = min(jury_on, ctx.today)
            extra = {"jury_date": jury_on, "jury_place": "DREETS PACA, Marseille"}
        if state == VaeState.JURY_RESULTAT:
            day = max(day, jury_on)  # the result is known on the jury's day at the earliest
            blocks = list(
                s.exec(select(CompetenceBlock.id).where(CompetenceBlock.referential_id == ref.id))
            )
            outcomes = dict.fromkeys(blocks, BlockOutcome.VALIDATED)
            outcomes[blocks[-1]] = BlockOutcome.NOT_VALIDATED
            extra = {"jury_result": JuryResult.PARTIAL_SUCCESS, "block_outcomes": outcomes}
        vae.record_milestone(
            s,
            actor_id=consultant.id,
            pathway=pathway,
            state=state,
            occurred_on=min(day, ctx.today),
            **extra,
        )
