"""Demo data: the two real programmes of DOMAIN.md, built through the services.

- An association of home help in Alpes-Maritimes (funder Uniformation) running two-week
  AFEST on the three home-help blocks; one protocol is left incomplete on purpose.
- #CARE-SKILLS (OPCO Santé, followed by Aract PACA consultants): 10 structures × 3 learners
  × 3 AFEST each towards the DEAS or the DEAES, with VAE pathways at various milestones.

Dates are relative to the day of seeding so that the data always looks current. Seeding is
idempotent: a programme already present is left as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from afest.accounts import operations as accounts
from afest.assessments import evaluations
from afest.dashboards import rollups
from afest.models import (
    Autonomy,
    BlockOutcome,
    Cohort,
    CohortConsultant,
    CohortStructure,
    Competence,
    CompetenceBlock,
    EvaluationKind,
    JuryResult,
    Level,
    Organisation,
    OrgKind,
    Protocol,
    Referential,
    Role,
    SequenceKind,
    SignerRole,
    User,
    VaeState,
)
from afest.protocols import operations as protocols
from afest.referentials import operations as referentials
from afest.sequences import operations as sequences
from afest.sequences import signing
from afest.vae import operations as vae

DEMO_PASSWORD = "afest-demo-2026"  # noqa: S105 (documented demo credential)
DEMO_PIN = "2468"
CARE_SKILLS = "CARE-SKILLS-2026"
TZ = ZoneInfo("Europe/Paris")

FIRST = [
    "Camille",
    "Nadia",
    "Sofiane",
    "Léa",
    "Fatou",
    "Julien",
    "Inès",
    "Karim",
    "Manon",
    "Yasmine",
    "Océane",
    "Mehdi",
    "Chloé",
    "Aurélie",
    "Samir",
    "Pauline",
    "Amina",
    "Thomas",
    "Sarah",
    "Lucie",
    "Bilal",
    "Emma",
    "Nora",
    "Hugo",
    "Rania",
    "Élodie",
    "Kevin",
    "Mariam",
    "Laura",
    "Anaïs",
    "Djamel",
    "Justine",
    "Aïcha",
    "Romain",
]
LAST = [
    "Martin",
    "Benali",
    "Rossi",
    "Garcia",
    "Diallo",
    "Lambert",
    "Morel",
    "Haddad",
    "Fournier",
    "Giraud",
    "Mercier",
    "Bonnet",
    "Nguyen",
    "Traoré",
    "Roux",
    "Faure",
    "Blanc",
    "Guerin",
    "Chevalier",
    "Lopez",
    "Brun",
    "Arnaud",
    "Perrin",
    "Marchand",
]

SITUATIONS = [
    (
        "Toilette complète au lit d'une résidente",
        "Chambre 12, unité protégée",
        "Réaliser la toilette en respectant la pudeur et les habitudes de la personne.",
        "Gestes sûrs ; a pensé à vérifier la température de l'eau ; a oublié d'annoncer chaque "
        "geste avant de le faire.",
    ),
    (
        "Aide au lever et transfert lit-fauteuil",
        "Chambre 4",
        "Mobiliser la personne en utilisant ses capacités et le verticalisateur.",
        "Bonne installation du matériel ; posture du dos à revoir lors du transfert.",
    ),
    (
        "Transmissions ciblées en fin de poste",
        "Salle de soins",
        "Transmettre à l'équipe les informations utiles à la continuité des soins.",
        "Transmission claire et structurée ; à compléter par l'observation de l'appétit.",
    ),
    (
        "Entretien de la chambre après un départ",
        "Chambre 7",
        "Appliquer le protocole de bionettoyage avec les bons produits.",
        "Respect de l'ordre du propre au sale ; dilution du produit à vérifier.",
    ),
    (
        "Accompagnement au repas en salle à manger",
        "Salle à manger, étage 1",
        "Aider à la prise du repas en stimulant l'autonomie.",
        "Attentive et patiente ; a laissé la personne faire seule quand c'était possible.",
    ),
    (
        "Intervention au domicile : entretien du logement",
        "Domicile de Mme R., Nice",
        "Organiser l'intervention selon le plan d'aide et les habitudes de la personne.",
        "Bonne organisation ; a demandé l'avis de la personne avant de déplacer ses affaires.",
    ),
    (
        "Préparation d'un repas sans sel",
        "Domicile de M. B., Cagnes-sur-Mer",
        "Préparer un repas adapté au régime prescrit.",
        "Repas équilibré ; a vérifié les dates limites du réfrigérateur.",
    ),
]
REFLECTIONS = [
    (
        "Respecter la pudeur et annoncer chaque geste.",
        "Toilette réalisée en entier, avec l'accord de la personne.",
        "J'ai compris pourquoi il faut expliquer avant de toucher : la personne est moins crispée.",
        "Annonce des gestes encore oubliée au début.",
        "Je parlais trop vite, j'avais peur d'être en retard.",
        "Refaire une toilette en annonçant chaque étape, en autonomie sous observation.",
    ),
    (
        "Utiliser les capacités de la personne pendant le transfert.",
        "Transfert réalisé avec le matériel, sans douleur pour la personne.",
        "Placer le fauteuil avant de commencer ; plier les genoux.",
        "Posture du dos.",
        "Je vais penser au fauteuil en premier.",
        "Nouveau transfert en autonomie la semaine prochaine.",
    ),
    (
        "Une transmission ciblée : donnée, action, résultat.",
        "Transmission orale correcte, écrit incomplet.",
        "La méthode DAR m'aide à ne rien oublier.",
        "L'écrit dans le dossier de soins.",
        "À l'oral ça va, à l'écrit je doute des mots.",
        "Rédiger seule les transmissions écrites de deux résidents.",
    ),
]

FIRST_RUN_ACCOUNTS: list[tuple[str, str]] = []


@dataclass
class Ctx:
    session: Session
    rng: random.Random
    today: date
    password_hash: str
    pin_hash: str
    admin_id: int
    created: dict[str, int]


def _user(
    ctx: Ctx, email: str, name: str, roles: list[tuple[Role, int | None]], pin: bool = False
) -> User:
    existing = ctx.session.exec(select(User).where(User.email == email)).first()
    if existing:
        return existing
    user = accounts.create_user(
        ctx.session,
        actor_id=ctx.admin_id or None,
        email=email,
        full_name=name,
        password="",
        roles=roles,
        password_hash=ctx.password_hash,
        pin_hash=ctx.pin_hash if pin else None,
    )
    ctx.created["users"] = ctx.created.get("users", 0) + 1
    return user


def _name(ctx: Ctx) -> str:
    return f"{ctx.rng.choice(FIRST)} {ctx.rng.choice(LAST)}"


def _org(ctx: Ctx, **fields) -> Organisation:
    key = fields.get("siret") or fields.get("code")
    column = Organisation.siret if fields.get("siret") else Organisation.code
    existing = ctx.session.exec(select(Organisation).where(column == key)).first()
    if existing:
        return existing
    org = Organisation(**fields)
    ctx.session.add(org)
    ctx.session.flush()
    return org


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def _levels(session: Session, referential_id: int) -> list[Level]:
    return list(
        session.exec(
            select(Level).where(Level.referential_id == referential_id).order_by(Level.rank)
        )
    )


def _competences(session: Session, referential_id: int, block_codes: list[str]):
    return list(
        session.exec(
            select(Competence)
            .join(CompetenceBlock)
            .where(
                CompetenceBlock.referential_id == referential_id,
                CompetenceBlock.code.in_(block_codes),
            )
            .order_by(CompetenceBlock.position, Competence.position)
        )
    )


def _run_protocol(
    ctx: Ctx,
    *,
    manager: User,
    learner: User,
    tutor: User,
    structure: Organisation,
    referential: Referential,
    title: str,
    block_codes: list[str],
    start: date,
    days: int,
    stage: str,
    cohort_id: int | None = None,
    incomplete: bool = False,
) -> Protocol:
    """Create one protocol and carry it to `stage`: draft, awaiting, in_progress, completed."""
    s = ctx.session
    comps = _competences(s, referential.id, block_codes)
    levels = _levels(s, referential.id)
    protocol = protocols.create_protocol(
        s,
        actor_id=manager.id,
        learner=learner,
        structure=structure,
        referential_id=referential.id,
        title=title,
        planned_start=start,
        planned_end=start + timedelta(days=days),
        competence_ids=[c.id for c in comps],
        tutor_ids=[tutor.id],
        cohort_id=cohort_id,
        planned_minutes=days * 60 // 2,
        objective=f"Acquérir les compétences du ou des blocs {', '.join(block_codes)} "
        "en situation de travail, avec un·e tuteur·rice désigné·e.",
        activity_analysis=""
        if incomplete
        else (
            "Analyse de l'activité menée avec la direction : situations choisies pour leur "
            "valeur formatrice, d'abord accompagnées puis en autonomie ; charge allégée "
            "pendant les séquences, temps de retour réflexif hors production prévu au planning."
        ),
        work_situations="; ".join(t for t, *_ in SITUATIONS[:3]),
        designated_at=_at(start - timedelta(days=3), 9),
    )
    ctx.created["protocols"] = ctx.created.get("protocols", 0) + 1
    cycles = 3
    plan = []
    for i in range(cycles):
        day = start + timedelta(days=1 + i * max(2, days // (cycles + 1)))
        plan.append((SequenceKind.SITUATION, day, f"Mise en situation {i + 1}", 180))
        plan.append(
            (SequenceKind.REFLECTION, day + timedelta(days=1), f"Séquence réflexive {i + 1}", 60)
        )
    protocols.add_planned_sequences(s, actor_id=manager.id, protocol=protocol, items=plan)
    initial = {c.id: levels[ctx.rng.choice([0, 0, 1])].id for c in comps}
    protocols.set_initial_positioning(s, actor_id=manager.id, protocol=protocol, levels=initial)
    if stage == "draft":
        return protocol
    protocols.submit_for_signature(s, actor_id=manager.id, protocol=protocol)
    if stage == "awaiting":
        protocols.sign_protocol(
            s, actor_id=manager.id, protocol=protocol, role=SignerRole.STRUCTURE, method="password"
        )
        return protocol
    for role, who in (
        (SignerRole.STRUCTURE, manager),
        (SignerRole.TUTOR, tutor),
        (SignerRole.LEARNER, learner),
    ):
        protocols.sign_protocol(s, actor_id=who.id, protocol=protocol, role=role, method="password")

    done_cycles = cycles if stage == "completed" else ctx.rng.choice([1, 2])
    rank = {c.id: levels.index(next(lv for lv in levels if lv.id == initial[c.id])) for c in comps}
    last_day = start
    for i in range(done_cycles):
        day = plan[2 * i][1]
        if day > ctx.today - timedelta(days=1):
            break
        text = SITUATIONS[(i + ctx.rng.randrange(len(SITUATIONS))) % len(SITUATIONS)]
        worked = comps[i::cycles] or comps[:1]
        situation, _ = sequences.log_sequence(
            s,
            actor_id=tutor.id,
            protocol=protocol,
            kind=SequenceKind.SITUATION,
            tz=TZ,
            data=sequences.SequenceData(
                client_id=f"demo-{protocol.public_id}-s{i}",
                occurred_at=_at(day, 9, 30),
                duration_minutes=ctx.rng.choice([150, 180, 210]),
                place=text[1],
                autonomy=Autonomy.ACCOMPANIED if i == 0 else Autonomy.ALONE,
                intent=text[2],
                observations=text[3],
                competence_ids=[c.id for c in worked],
            ),
        )
        signing.sign_sequence(
            s,
            actor_id=tutor.id,
            protocol=protocol,
            sequence=situation,
            role=SignerRole.TUTOR,
            method="pin",
        )
        signing.sign_sequence(
            s,
            actor_id=learner.id,
            protocol=protocol,
            sequence=situation,
            role=SignerRole.LEARNER,
            method="password",
        )
        last_day = day
        if incomplete and i == done_cycles - 1:
            break  # this situation is never analysed: condition 3 is not met
        reflect_day = day + timedelta(days=1)
        if reflect_day >= ctx.today:
            break
        for c in worked:
            rank[c.id] = min(rank[c.id] + 1, len(levels) - 1)
        r = REFLECTIONS[i % len(REFLECTIONS)]
        reflection, _ = sequences.log_sequence(
            s,
            actor_id=tutor.id,
            protocol=protocol,
            kind=SequenceKind.REFLECTION,
            tz=TZ,
            data=sequences.SequenceData(
                client_id=f"demo-{protocol.public_id}-r{i}",
                occurred_at=_at(reflect_day, 14),
                duration_minutes=ctx.rng.choice([45, 60]),
                place="Bureau de l'infirmière",
                expected=r[0],
                achieved=r[1],
                learnt=r[2],
                gaps=r[3],
                learner_words=r[4],
                next_step=r[5],
                situation_ids=[situation.id],
                levels={c.id: levels[rank[c.id]].id for c in worked},
            ),
        )
        signing.sign_sequence(
            s,
            actor_id=tutor.id,
            protocol=protocol,
            sequence=reflection,
            role=SignerRole.TUTOR,
            method="pin",
        )
        if stage == "completed" or i < done_cycles - 1:  # the last one awaits the learner
            signing.sign_sequence(
                s,
                actor_id=learner.id,
                protocol=protocol,
                sequence=reflection,
                role=SignerRole.LEARNER,
                method="password",
            )
        last_day = reflect_day
    if stage == "completed":
        final = {c.id: levels[max(rank[c.id], 2)].id for c in comps}
        evaluation = evaluations.create_evaluation(
            s,
            actor_id=tutor.id,
            protocol=protocol,
            client_id=f"demo-{protocol.public_id}-f",
            kind=EvaluationKind.FINAL,
            evaluated_on=last_day + timedelta(days=1),
            summary="Bilan final : les compétences visées sont acquises ; points de vigilance "
            "notés pour la suite du parcours.",
            levels=final,
        )
        for role, who in ((SignerRole.TUTOR, tutor), (SignerRole.LEARNER, learner)):
            evaluations.sign_evaluation(
                s,
                actor_id=who.id,
                protocol=protocol,
                evaluation=evaluation,
                role=role,
                method="password",
            )
        protocols.complete_protocol(s, actor_id=manager.id, protocol=protocol)
    return protocol


def _referentials(ctx: Ctx) -> dict[str, Referential]:
    found = {}
    for code, document in referentials.bundled().items():
        ref = ctx.session.exec(select(Referential).where(Referential.code == code)).first()
        found[code] = ref or referentials.import_json(ctx.session, actor_id=None, data=document)
    return found


def _home_help(ctx: Ctx, refs: dict[str, Referential]) -> None:
    s = ctx.session
    opco = _org(ctx, name="Uniformation", kind=OrgKind.OPCO, code="UNIFORMATION")
    _user(ctx, "conseil@uniformation.demo", "Hélène Vidal (Uniformation)", [(Role.OPCO, opco.id)])
    if s.exec(select(Organisation.id).where(Organisation.siret == "77568412300018")).first():
        return
    assoc = _org(
        ctx,
        name="Azur Aide à Domicile",
        kind=OrgKind.STRUCTURE,
        siret="77568412300018",
        departement="06",
        category="SAAD",
        branch="Aide, accompagnement, soins et services à domicile",
        opco_id=opco.id,
    )
    manager = _user(ctx, "direction@azur-aide.demo", "Sylvie Castel", [(Role.MANAGER, assoc.id)])
    tutors = [
        _user(ctx, "tuteur@azur-aide.demo", "Martine Olivier", [(Role.TUTOR, assoc.id)], pin=True),
        _user(ctx, "tutrice2@azur-aide.demo", "Rachid Amrani", [(Role.TUTOR, assoc.id)], pin=True),
    ]
    stages = ["completed", "in_progress", "in_progress", "completed", "awaiting", "draft"]
    ref = refs["AAD-AFEST"]
    for i, stage in enumerate(stages):
        email = "apprenant@azur-aide.demo" if i == 0 else f"apprenant{i + 1}@azur-aide.demo"
        learner = _user(ctx, email, _name(ctx), [(Role.LEARNER, assoc.id)])
        start = ctx.today - timedelta(days=40 - 5 * i)
        _run_protocol(
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
        )
    # Made incomplete on purpose: no activity analysis, a situation never analysed, no
    # evaluation — the compliance checklist must name each of these.
    learner = _user(
        ctx, "apprenant-incomplet@azur-aide.demo", _name(ctx), [(Role.LEARNER, assoc.id)]
    )
    _run_protocol(
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


def _care_skills(ctx: Ctx, refs: dict[str, Referential]) -> None:
    s = ctx.session
    opco = _org(ctx, name="OPCO Santé", kind=OrgKind.OPCO, code="OPCO-SANTE")
    aract = _org(ctx, name="Aract PACA", kind=OrgKind.SUPPORT_BODY, code="ARACT-PACA")
    _user(ctx, "conseil@opco-sante.demo", "Marc Ferrand (OPCO Santé)", [(Role.OPCO, opco.id)])
    consultants = [
        _user(ctx, "consultant@aract-paca.demo", "Claire Jourdan", [(Role.CONSULTANT, aract.id)]),
        _user(
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
    for k, (name, dept, _city) in enumerate(EHPADS, start=1):
        structure = _org(
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
        manager = _user(ctx, f"direction@{slug}.demo", _name(ctx), [(Role.MANAGER, structure.id)])
        tutor = _user(
            ctx, f"tuteur@{slug}.demo", _name(ctx), [(Role.TUTOR, structure.id)], pin=True
        )
        for n in range(1, 4):
            learner = _user(
                ctx, f"apprenant{n}@{slug}.demo", _name(ctx), [(Role.LEARNER, structure.id)]
            )
            ref, blocks = (deas, deas_blocks) if (k + n) % 3 else (deaes, deaes_blocks)
            chosen = ctx.rng.sample(blocks, 3)
            for a, stage in enumerate(
                ("completed", "in_progress", ctx.rng.choice(["draft", "awaiting", "in_progress"]))
            ):
                start = ctx.today - timedelta(days=200 - 70 * a + ctx.rng.randrange(5))
                _run_protocol(
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
                )
            _vae(
                ctx,
                learner,
                structure,
                ref,
                cohort,
                consultants[(k + n) % 2],
                VAE_STAGES[(k * 3 + n) % len(VAE_STAGES)],
            )


def _vae(
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
    for state in stages:
        day += timedelta(days=ctx.rng.randrange(10, 25))
        extra = {}
        if state == VaeState.JURY_PLANIFIE:
            extra = {"jury_date": day + timedelta(days=20), "jury_place": "DREETS PACA, Marseille"}
        if state == VaeState.JURY_RESULTAT:
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


def seed(session: Session, *, today: date | None = None, seed_value: int = 2026) -> dict[str, int]:
    """Create the demo programmes that are not there yet; return what was created."""
    today = today or date.today()
    ctx = Ctx(
        session=session,
        rng=random.Random(seed_value),
        today=today,
        password_hash=accounts.hash_secret(DEMO_PASSWORD),
        pin_hash=accounts.hash_secret(DEMO_PIN),
        admin_id=0,
        created={},
    )
    admin = _user(ctx, "admin@afest.demo", "Admin afest", [(Role.ADMIN, None)])
    ctx.admin_id = admin.id
    refs = _referentials(ctx)
    _home_help(ctx, refs)
    _care_skills(ctx, refs)
    rollups.drain_all(session)  # the dashboards of a fresh install read settled rollups
    return ctx.created


DEMO_LOGINS = [
    ("admin", "admin@afest.demo"),
    ("manager (aide à domicile)", "direction@azur-aide.demo"),
    ("tutor (aide à domicile)", "tuteur@azur-aide.demo"),
    ("learner (aide à domicile)", "apprenant@azur-aide.demo"),
    ("manager (#CARE-SKILLS)", "direction@ehpad-01.demo"),
    ("tutor (#CARE-SKILLS)", "tuteur@ehpad-01.demo"),
    ("learner (#CARE-SKILLS)", "apprenant1@ehpad-01.demo"),
    ("OPCO (Uniformation)", "conseil@uniformation.demo"),
    ("OPCO (OPCO Santé)", "conseil@opco-sante.demo"),
    ("consultant (Aract PACA)", "consultant@aract-paca.demo"),
]
