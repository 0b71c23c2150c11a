"""The OPCO proof pack of one protocol: what it holds (with the employer's statement of
expenses, afest.proof.expenses), its verification codes, its PDF (its workbook and CSV:
afest.proof.spreadsheets).

A pack covers every signature of the protocol, its sequences and its evaluations that existed
when it was exported (signatures are only ever inserted, so "the signatures with an id up to
N" is a fixed set). Each PDF page carries a code `<protocol>.<N>.<page>.<mac>` where `mac` is
an HMAC, under the app's secret key, of the protocol, N, the page number and the stored
content hashes of those signatures. The verification page recomputes it from the stored
hashes and then checks each signed record against its signature (signatures.verify).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import or_
from sqlmodel import Session, select

from afest.core import clock, collector
from afest.core.controls import scrub
from afest.costs import queries as costs
from afest.models import (
    Certificate,
    CompetenceAssessment,
    Evaluation,
    Level,
    Protocol,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceAttachment,
    Signature,
    SignedKind,
    User,
    utcnow,
)
from afest.proof import certificates, signatures
from afest.protocols import compliance
from afest.protocols.queries import ProtocolView, protocol_view
from afest.sequences import attachments

MAC_LENGTH = 10
CODE = re.compile(r"([A-Za-z0-9_-]{1,22})\.(\d{1,12})\.(\d{1,6})\.([A-Za-z2-7]{10})")


@dataclass
class BilanRow:
    code: str
    title: str
    start: Level | None
    end: Level | None


@dataclass
class BilanBlock:
    code: str
    title: str
    rows: list[BilanRow] = field(default_factory=list)

    @property
    def acquired_start(self) -> int:
        return sum(1 for r in self.rows if r.start is not None and r.start.acquired)

    @property
    def acquired_end(self) -> int:
        return sum(1 for r in self.rows if r.end is not None and r.end.acquired)


@dataclass
class Pack:
    protocol: Protocol
    view: ProtocolView
    checklist: compliance.Checklist
    tutors: list[User]
    bilan: list[BilanBlock]
    evaluation_levels: dict[int, list[tuple[int, Level]]]  # evaluation id → (competence, level)
    competence_labels: dict[int, str]
    analysed: dict[int, list[int]]  # reflection id → situation ids
    last_signature_id: int
    exported_at: datetime
    expenses: costs.Costed  # the employer's statement of expenses (afest.proof.expenses)
    certificate: certificates.State  # the certificat de réalisation, signed or to sign
    attachments: dict[int, list[SequenceAttachment]]  # sequence id → its files, in order

    def attached_files(self) -> list[tuple[Sequence, SequenceAttachment, str]]:
        """Each file attached to a sequence of the pack, with its name in the pack's ZIP:
        `pieces-jointes/<day>_<sequence>_<n>_<name>` (unique, and sorted as the log is)."""
        return [
            (
                s,
                a,
                f"pieces-jointes/{s.occurred_at:%Y-%m-%d}_{s.public_id}_{a.position}_{a.filename}",
            )
            for s in self.view.sequences
            for a in self.attachments.get(s.id, [])
        ]

    @property
    def minutes_done(self) -> int:
        return self.view.minutes_done

    @property
    def minutes_certified(self) -> int:
        """What the certificat de réalisation states: the current sequences signed by the tutor
        and countersigned by the learner (the hours the compliance panel compares with the
        plan); the others are left out, and said so. No certificate when it is 0."""
        return certificates.minutes_certified(self.view)

    @property
    def minutes_left_out(self) -> int:
        return self.minutes_done - self.minutes_certified

    def signature(self, kind: str, subject_id: int, role: str) -> Signature | None:
        for sig in self.view.signatures.get((kind, subject_id), []):
            if str(sig.signer_role) == role:
                return sig
        return None


def _signature_scope(protocol_id: int):
    """SQL condition: signatures of the protocol, of its sequences, of its evaluations and of
    its certificates."""
    return or_(
        (Signature.subject_kind == SignedKind.PROTOCOL) & (Signature.subject_id == protocol_id),
        (Signature.subject_kind == SignedKind.SEQUENCE)
        & Signature.subject_id.in_(select(Sequence.id).where(Sequence.protocol_id == protocol_id)),
        (Signature.subject_kind == SignedKind.EVALUATION)
        & Signature.subject_id.in_(
            select(Evaluation.id).where(Evaluation.protocol_id == protocol_id)
        ),
        (Signature.subject_kind == SignedKind.CERTIFICATE)
        & Signature.subject_id.in_(
            select(Certificate.id).where(Certificate.protocol_id == protocol_id)
        ),
    )


def collect(
    session: Session, protocol: Protocol, *, settings: compliance.Settings | None = None
) -> Pack:
    """Everything the pack shows, read in a fixed number of queries."""
    view = protocol_view(session, protocol)
    blocks: list[BilanBlock] = []
    labels: dict[int, str] = {}
    for block in view.blocks:
        bilan = BilanBlock(block.code, block.title)
        for pc in block.competences:
            labels[pc.competence_id] = f"{pc.competence_code} — {pc.competence_title}"
            bilan.rows.append(
                BilanRow(
                    pc.competence_code,
                    pc.competence_title,
                    view.initial.get(pc.competence_id),
                    view.current.get(pc.competence_id),
                )
            )
        blocks.append(bilan)
    evaluation_levels: dict[int, list[tuple[int, Level]]] = {e.id: [] for e in view.evaluations}
    if view.evaluations:
        for evaluation_id, competence_id, level in session.exec(
            select(CompetenceAssessment.evaluation_id, CompetenceAssessment.competence_id, Level)
            .join(Level, Level.id == CompetenceAssessment.level_id)
            .where(CompetenceAssessment.evaluation_id.in_(list(evaluation_levels)))
            .order_by(CompetenceAssessment.id)
        ):
            evaluation_levels[evaluation_id].append((competence_id, level))
    analysed: dict[int, list[int]] = {}
    reflection_ids = [s.id for s in view.sequences if s.kind == "reflection"]
    if reflection_ids:
        for reflection_id, situation_id in session.exec(
            select(ReflectionSituation.reflection_id, ReflectionSituation.situation_id).where(
                ReflectionSituation.reflection_id.in_(reflection_ids)
            )
        ):
            analysed.setdefault(reflection_id, []).append(situation_id)
    tutors = list(
        session.exec(
            select(User)
            .join(ProtocolTutor, ProtocolTutor.tutor_id == User.id)
            .where(ProtocolTutor.protocol_id == protocol.id)
            .order_by(ProtocolTutor.designated_at)
        )
    )
    last = session.exec(
        select(Signature.id)
        .where(_signature_scope(protocol.id))
        .order_by(Signature.id.desc())
        .limit(1)
    ).first()
    return Pack(
        protocol=protocol,
        view=view,
        checklist=compliance.check(session, protocol, settings=settings),
        tutors=tutors,
        bilan=blocks,
        evaluation_levels=evaluation_levels,
        competence_labels=labels,
        analysed=analysed,
        last_signature_id=last or 0,
        exported_at=utcnow(),
        expenses=costs.protocol_statement(session, protocol, zone=clock.zone()),
        certificate=certificates.state(session, protocol, view, zone=clock.zone()),
        attachments=attachments.of_sequences(session, [s.id for s in view.sequences]),
    )


# --- verification codes ------------------------------------------------------------------


def _covered_hashes(session: Session, protocol_id: int, last_signature_id: int) -> list[str]:
    rows = session.exec(
        select(Signature.subject_kind, Signature.subject_id, Signature.signer_role, Signature.id)
        .add_columns(Signature.content_hash)
        .where(_signature_scope(protocol_id), Signature.id <= last_signature_id)
        .order_by(Signature.id)
    )
    return [f"{kind}:{sid}:{role}:{sig_id}:{digest}" for kind, sid, role, sig_id, digest in rows]


def _mac(secret: str, public_id: str, last_id: int, page: int, hashes: list[str]) -> str:
    message = "\n".join([public_id, str(last_id), str(page), *hashes]).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:MAC_LENGTH]


def page_codes(session: Session, pack: Pack, *, secret: str, pages: int) -> list[str]:
    """The verification code of each page of the pack's PDF, page 1 first."""
    hashes = _covered_hashes(session, pack.protocol.id, pack.last_signature_id)
    pid, last = pack.protocol.public_id, pack.last_signature_id
    return [f"{pid}.{last}.{n}.{_mac(secret, pid, last, n, hashes)}" for n in range(1, pages + 1)]


@dataclass
class CodeCheck:
    valid: bool
    protocol: Protocol | None = None
    page: int | None = None
    signatures: int = 0
    altered: list[str] = field(default_factory=list)  # records changed after signature

    @property
    def intact(self) -> bool:
        return self.valid and not self.altered


def verify_code(session: Session, code: str, *, secret: str) -> CodeCheck:
    """Check a page's code against the stored signature hashes, then the signed records."""
    match = CODE.fullmatch((code or "").strip())
    if match is None:
        return CodeCheck(False)
    parts = match.groups()
    public_id, last, page, mac = parts[0], int(parts[1]), int(parts[2]), parts[3].upper()
    protocol = session.exec(select(Protocol).where(Protocol.public_id == public_id)).first()
    if protocol is None:
        return CodeCheck(False)
    hashes = _covered_hashes(session, protocol.id, last)
    if not hmac.compare_digest(_mac(secret, public_id, last, page, hashes), mac):
        return CodeCheck(False)
    altered = []
    subjects = {
        (SignedKind(h.split(":")[0]), int(h.split(":")[1])) for h in hashes
    }  # each signed record once
    models = {
        SignedKind.SEQUENCE: Sequence,
        SignedKind.EVALUATION: Evaluation,
        SignedKind.CERTIFICATE: Certificate,
    }
    for kind, subject_id in sorted(subjects):
        subject = protocol if kind == SignedKind.PROTOCOL else session.get(models[kind], subject_id)
        if subject is None or not all(v.intact for v in signatures.verify(session, kind, subject)):
            altered.append(f"{kind} {getattr(subject, 'public_id', subject_id)}")
    return CodeCheck(True, protocol, page, len(hashes), altered)


# --- the PDF -----------------------------------------------------------------------------


def _page_css(codes: list[str], label: str) -> str:
    rules = []
    for n, code in enumerate(codes, start=1):
        rules.append(f'@page :nth({n}) {{ @bottom-left {{ content: "{label} {code}"; }} }}')
    return "\n".join(rules)


def _page_bound(pack: Pack) -> int:
    """A generous upper bound on the number of pages, so that codes are laid out in one pass."""
    rows = len(pack.view.sequences) + len(pack.view.evaluations) * 4
    rows += len(pack.certificate.signed) * 2
    rows += sum(len(b.rows) for b in pack.bilan)
    statement = pack.expenses.statement
    rows += len(statement.lines) + len(statement.spends) + len(statement.left)
    return 24 + rows


WARM_UP_HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 18mm 15mm 22mm 15mm;
  @bottom-left { content: "Code"; font: 8pt "DejaVu Sans Mono", monospace; } }
body { font: 10pt "DejaVu Sans", sans-serif; } table { border-collapse: collapse; }
td { border: 1px solid #999; } .hash { font: 6.5pt "DejaVu Sans Mono", monospace; }
</style></head><body><h1>Dossier de preuve</h1><table><tr><td><b>Séquence</b></td>
<td><i>réflexive</i></td><td class="hash">0f3a</td></tr></table></body></html>"""


def warm_up() -> float:
    """Import WeasyPrint and lay out one small page in the pack's fonts; return the seconds.

    Each web worker calls it once it has loaded the app (config/gunicorn.conf.py): the first
    proof pack of a process would otherwise pay the import, the font lookup and the first
    layout.
    """
    start = time.perf_counter()
    from weasyprint import HTML

    HTML(string=WARM_UP_HTML).write_pdf()
    return time.perf_counter() - start


def without_controls(html: str) -> str:
    """The pack's HTML without the control characters its stored text may hold (kept before
    forms removed them): left out, and a note under the title says how many."""
    html, removed = scrub(html)
    if removed:
        note = Markup('<p class="note">{}</p>').format(
            _(
                "Caractères de contrôle retirés : %(n)d caractère(s) invisible(s) enregistré(s) "
                "dans les textes ne figurent pas dans ce document.",
                n=removed,
            )
        )
        html = html.replace("</h1>", f"</h1>{note}", 1)
    return html


def render_pdf(
    session: Session, pack: Pack, html: str, *, secret: str, base_url: str, label: str
) -> bytes:
    """Lay the HTML out with each page's verification code in its bottom margin, without the
    control characters stored text may hold (without_controls).

    A page's code depends on its number only, not on the page count, so the codes of pages
    1..bound are given as `@page :nth(n)` rules and the document is laid out once; should it
    ever run past the bound, it is laid out again with exactly as many codes as pages. The
    cycle collector waits until the PDF is written (afest.core.collector).
    """
    from weasyprint import CSS, HTML

    bound = _page_bound(pack)
    codes = page_codes(session, pack, secret=secret, pages=bound)
    with collector.paused():
        document = HTML(string=without_controls(html), base_url=base_url)
        rendered = document.render(stylesheets=[CSS(string=_page_css(codes, label))])
        if len(rendered.pages) > bound:
            codes = page_codes(session, pack, secret=secret, pages=len(rendered.pages))
            rendered = document.render(stylesheets=[CSS(string=_page_css(codes, label))])
        return rendered.write_pdf()


def plain_pdf(html: str, *, base_url: str) -> bytes:
    """A printed document without verification codes (a structure's statement of expenses,
    which is no signed record), without the control characters stored text may hold, laid
    out while the cycle collector waits (afest.core.collector)."""
    from weasyprint import HTML

    with collector.paused():
        return HTML(string=without_controls(html), base_url=base_url).write_pdf()
