"""One demo protocol run from draft to its last sequence through the operations, and what
its sequences tell (work situations in care and home help, the reflections on them).

Each step is written at the moment it happens in the story (afest.models.base.writing_at):
the protocol drafted as its tutor is designated and signed by the three parties before it
starts, each sequence logged and signed right after it ends, the final evaluation written
and signed on its day, the protocol closed that afternoon. Signatures and audit entries are
append-only, so they get their dates as they are written: each protocol's audit chain is in
the story's order and hashes the moments it shows."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from afest.assessments import evaluations
from afest.demo.people import Ctx
from afest.models import (
    Autonomy,
    Competence,
    CompetenceBlock,
    EvaluationKind,
    Level,
    Organisation,
    Protocol,
    Referential,
    SequenceKind,
    SignerRole,
    User,
)
from afest.models.base import writing_at
from afest.proof import certificates
from afest.protocols import drafting
from afest.protocols import operations as protocols
from afest.sequences import attachments, signing
from afest.sequences import operations as sequences
from afest.sequences.attachments import NewAttachment

TZ = ZoneInfo("Europe/Paris")

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


def moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def at(when: datetime):
    """What is written within happens at `when` in the story (now at the latest)."""
    return writing_at(min(when, datetime.now(UTC)))


def after(sequence, minutes: int = 10) -> datetime:
    """Shortly after a sequence ends: when it is logged and signed."""
    return sequence.occurred_at + timedelta(minutes=sequence.duration_minutes + minutes)


def scale_of(session: Session, referential_id: int) -> list[Level]:
    return list(
        session.exec(
            select(Level).where(Level.referential_id == referential_id).order_by(Level.rank)
        )
    )


def competences_of(session: Session, referential_id: int, block_codes: list[str]):
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


def run_protocol(
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
    certify: tuple[str, str] | None = None,
) -> Protocol:
    """Create one protocol and carry it to `stage`: draft, awaiting, in_progress, completed;
    a completed one's certificat de réalisation is signed by its manager the next morning
    when `certify` gives her role and the place."""
    s = ctx.session
    comps = competences_of(s, referential.id, block_codes)
    levels = scale_of(s, referential.id)
    drafted = moment(start - timedelta(days=3), 9)  # the tutor is designated as it is drafted
    with at(drafted):
        protocol = drafting.create_protocol(
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
                "pendant les séquences, temps de retour réflexif hors production prévu au "
                "planning."
            ),
            work_situations="; ".join(t for t, *_ in SITUATIONS[:3]),
            designated_at=drafted,
        )
        ctx.created["protocols"] = ctx.created.get("protocols", 0) + 1
        cycles = 3
        plan = []
        for i in range(cycles):
            day = start + timedelta(days=1 + i * max(2, days // (cycles + 1)))
            plan.append((SequenceKind.SITUATION, day, f"Mise en situation {i + 1}", 180))
            plan.append(
                (
                    SequenceKind.REFLECTION,
                    day + timedelta(days=1),
                    f"Séquence réflexive {i + 1}",
                    60,
                )
            )
        drafting.add_planned_sequences(s, actor_id=manager.id, protocol=protocol, items=plan)
        initial = {c.id: levels[ctx.rng.choice([0, 0, 1])].id for c in comps}
        drafting.set_initial_positioning(s, actor_id=manager.id, protocol=protocol, levels=initial)
    if stage == "draft":
        return protocol
    with at(moment(start - timedelta(days=3), 11)):
        protocols.submit_for_signature(s, actor_id=manager.id, protocol=protocol)
    signing_times = (
        (SignerRole.STRUCTURE, manager, moment(start - timedelta(days=2), 10)),
        (SignerRole.TUTOR, tutor, moment(start - timedelta(days=2), 15)),
        (SignerRole.LEARNER, learner, moment(start - timedelta(days=1), 10)),
    )
    for role, who, when in signing_times[:1] if stage == "awaiting" else signing_times:
        with at(when):
            protocols.sign_protocol(
                s, actor_id=who.id, protocol=protocol, role=role, method="password"
            )
    if stage == "awaiting":
        return protocol

    done_cycles = cycles if stage == "completed" else ctx.rng.choice([1, 2])
    rank = {c.id: levels.index(next(lv for lv in levels if lv.id == initial[c.id])) for c in comps}
    last_day = start
    for i in range(done_cycles):
        day = plan[2 * i][1]
        if day > ctx.today - timedelta(days=1):
            break
        text = SITUATIONS[(i + ctx.rng.randrange(len(SITUATIONS))) % len(SITUATIONS)]
        worked = comps[i::cycles] or comps[:1]
        data = sequences.SequenceData(
            client_id=f"demo-{protocol.public_id}-s{i}",
            occurred_at=moment(day, 9, 30),
            duration_minutes=ctx.rng.choice([150, 180, 210]),
            place=text[1],
            autonomy=Autonomy.ACCOMPANIED if i == 0 else Autonomy.ALONE,
            intent=text[2],
            observations=text[3],
            competence_ids=[c.id for c in worked],
        )
        if i == 0 and stage == "completed":  # the tutor photographed her filled grid
            data.attachments = [_observation_grid(learner, tutor, day, text[2], worked)]
        situation = _logged(s, protocol, tutor, learner, SequenceKind.SITUATION, data)
        last_day = day
        if incomplete and i == done_cycles - 1:
            break  # this situation is never analysed: condition 3 is not met
        reflect_day = day + timedelta(days=1)
        if reflect_day >= ctx.today:
            break
        for c in worked:
            rank[c.id] = min(rank[c.id] + 1, len(levels) - 1)
        r = REFLECTIONS[i % len(REFLECTIONS)]
        data = sequences.SequenceData(
            client_id=f"demo-{protocol.public_id}-r{i}",
            occurred_at=moment(reflect_day, 14),
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
        )
        # the last reflection of a protocol in progress awaits the learner's countersignature
        countersigned = stage == "completed" or i < done_cycles - 1
        _logged(s, protocol, tutor, learner, SequenceKind.REFLECTION, data, countersigned)
        last_day = reflect_day
    if stage == "completed":
        final_day = last_day + timedelta(days=1)
        final = {c.id: levels[max(rank[c.id], 2)].id for c in comps}
        with at(moment(final_day, 11)):
            evaluation = evaluations.create_evaluation(
                s,
                actor_id=tutor.id,
                protocol=protocol,
                client_id=f"demo-{protocol.public_id}-f",
                kind=EvaluationKind.FINAL,
                evaluated_on=final_day,
                summary="Bilan final : les compétences visées sont acquises ; points de "
                "vigilance notés pour la suite du parcours.",
                levels=final,
            )
        for role, who, minute in ((SignerRole.TUTOR, tutor, 30), (SignerRole.LEARNER, learner, 45)):
            with at(moment(final_day, 11, minute)):
                evaluations.sign_evaluation(
                    s,
                    actor_id=who.id,
                    protocol=protocol,
                    evaluation=evaluation,
                    role=role,
                    method="password",
                )
        with at(moment(final_day, 16)):
            protocols.complete_protocol(s, actor_id=manager.id, protocol=protocol)
        if certify is not None:
            role, place = certify
            with at(moment(final_day + timedelta(days=1), 10)):
                certificates.sign_certificate(
                    s, actor_id=manager.id, protocol=protocol, role=role, place=place, zone=TZ
                )
    return protocol


def _observation_grid(learner, tutor, day: date, intent: str, competences) -> NewAttachment:
    """The observation grid a tutor fills in on paper during a situation, as the photo she
    attaches: drawn here, a picture of the grid with what it says."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    def font(size: int):
        try:
            return ImageFont.truetype("DejaVuSans.ttf", size)  # the PDFs' font
        except OSError:
            return ImageFont.load_default(size=size)

    image = Image.new("RGB", (1200, 150 + 90 * len(competences)), "white")
    pen = ImageDraw.Draw(image)
    title, text = font(26), font(19)
    pen.text((30, 20), "Grille d'observation — mise en situation", fill="black", font=title)
    who = f"{learner.full_name} · tutorat : {tutor.full_name} · {day:%d/%m/%Y}"
    pen.text((30, 62), who, fill="#333", font=text)
    pen.text((30, 92), textwrap.shorten(intent, 100), fill="#333", font=text)
    for n, competence in enumerate(competences):
        top = 135 + 90 * n
        pen.rectangle((30, top, 1170, top + 80), outline="#555", width=2)
        lines = textwrap.wrap(f"{competence.code} — {competence.title}", 88)[:2]
        pen.multiline_text((45, top + 14), "\n".join(lines), fill="black", font=text, spacing=8)
        pen.line((1100, top + 30, 1120, top + 60, 1155, top + 20), fill="#1a5fb4", width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return attachments.prepare(f"grille-observation-{day:%Y%m%d}.png", out.getvalue())


def _logged(s, protocol, tutor, learner, kind, data, countersigned: bool = True):
    """A sequence logged and signed by the tutor ten minutes after it ends, countersigned by
    the learner five minutes later (unless not `countersigned`)."""
    with at(after(data)):
        sequence, _ = sequences.log_sequence(
            s, actor_id=tutor.id, protocol=protocol, kind=kind, tz=TZ, data=data
        )
        _sign(s, protocol, sequence, tutor, SignerRole.TUTOR, "pin")
    if countersigned:
        with at(after(data, 15)):
            _sign(s, protocol, sequence, learner, SignerRole.LEARNER, "password")
    return sequence


def _sign(s, protocol: Protocol, sequence, who: User, role: SignerRole, method: str) -> None:
    signing.sign_sequence(
        s, actor_id=who.id, protocol=protocol, sequence=sequence, role=role, method=method
    )
