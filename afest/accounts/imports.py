"""Import the people of a structure from a spreadsheet (CSV or XLSX): preview, then save it whole.

Columns (headers as people write them, see afest.core.tabular): the name ("Nom", "Nom
complet", "Prénom Nom"..., or "Prénom" and "Nom" apart), the e-mail and the role(s):
apprenant·e, tuteur·rice, responsable (learner, tutor, manager), several in one cell separated
by "," or "/". Optionally "Tuteur·rice de": on a tutor's row, the e-mail(s) of the learners
she accompanies, learners of the file or of the structure.

The e-mail is the key. `preview` judges every row against the file and the database: an
account to create (and invite by e-mail), an account that joins the structure, a person of
the structure who gets roles (an import adds roles, it never takes one away), a person
unchanged, or the row's problems. `import_rows` (afest.accounts.import_writes) judges again
inside the write and saves every row, or nothing when any row has a problem. Importing the
same file twice changes nothing the second time and invites nobody again: an invitation goes
only to an account created, or to one that joins the structure without having chosen a
password.

"Tuteur·rice de" is what afest knows of a tutor and a learner: the tutor designated on the
learner's protocol. The tutor is designated on each protocol of those learners that is still
a draft in the structure (the draft's form shows her checked); a protocol signed or under
way changes tutor on its handover screen, not by an import. A learner without a draft is
said on the preview: her tutor is chosen as her protocol is drafted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert
from sqlmodel import Session

from afest.accounts import links
from afest.accounts.import_checks import (
    COLUMNS,
    Known,
    checked_email,
    is_admin,
    listed_emails,
    load,
    ordered,
    read_roles,
    role_names,
)
from afest.core import audit
from afest.core.importing import ERROR, Importer, Preview, Rejected, Spec
from afest.dashboards import rollups
from afest.models import ProtocolTutor, Role, RoleAssignment, User, new_public_id, utcnow

SPEC = Spec(COLUMNS, max_bytes=1024 * 1024, max_rows=10_000)
NEW, JOINED, CHANGED, SAME = "new", "joined", "changed", "same"


@dataclass
class Row:
    """One row of the file as judged: its line, what it holds, and what importing it does."""

    line: int
    cells: dict[str, str]
    status: str = NEW
    problems: list[Any] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)  # what importing it does, in words
    notes: list[Any] = field(default_factory=list)  # what it leaves as it is, and why
    name: str = ""
    email: str = ""
    roles: tuple[Role, ...] = ()  # as the file says
    held: tuple[Role, ...] = ()  # the account's roles in the structure now
    added: tuple[Role, ...] = ()  # the roles importing it gives
    user: User | None = None  # the account, when there is one already
    invite: bool = False
    tutor: bool = False  # a tutor once imported (her invitation asks for a tablet PIN)
    drafts: list[int] = field(default_factory=list)  # draft protocols to designate her on


def preview(
    session: Session, table: Iterable[tuple[int, dict[str, str]]], *, structure_id: int, actor_id
) -> Preview:
    """Every row of `table` judged: what importing it would do, or its problems."""
    rows = [Row(line, cells) for line, cells in table]
    for row in rows:
        _read(row)
    known = load(
        session,
        emails=(row.email for row in rows if row.email),
        learners=(e for row in rows for e in listed_emails(row.cells.get("tutor_of", ""))),
        structure_id=structure_id,
    )
    admin = is_admin(session, actor_id)
    for row in rows:
        if row.email:
            _judge_account(row, known, structure_id, admin)
    in_file = _repeated(rows)
    for row in rows:
        if row.cells.get("tutor_of", "").strip():
            _judge_tutoring(row, in_file, known, structure_id)
        if row.problems:
            row.status = ERROR
    return Preview(rows)


def _read(row: Row) -> None:
    """The row's own cells: a name, an e-mail, roles known."""
    cells = row.cells
    row.name = " ".join(f"{cells.get('first_name', '')} {cells['name']}".split())
    if not row.name:
        row.problems.append(_l("Nom vide."))
    elif len(row.name) > 200:
        row.problems.append(_l("Nom de plus de 200 caractères."))
    try:
        row.email = checked_email(cells["email"])
    except ValueError as exc:
        row.problems.append(exc.args[0])
    roles, unknown = read_roles(cells["roles"])
    if unknown:
        row.problems.append(
            _l(
                "Rôle inconnu : %(role)s (apprenant·e, tuteur·rice ou responsable).",
                role=", ".join(f"« {word[:40]} »" for word in unknown),
            )
        )
    elif not roles:
        row.problems.append(_l("Rôle vide : apprenant·e, tuteur·rice ou responsable."))
    row.roles = roles
    row.tutor = Role.TUTOR in roles


def _judge_account(row: Row, known: Known, structure_id: int, admin: bool) -> None:
    """What the row does to the account of its e-mail: create it, join it, add roles."""
    user = known.accounts.get(row.email)
    if user is None:
        row.status, row.added, row.invite = NEW, row.roles, True
        return
    row.user = user
    assignments = known.roles.get(user.id, set())
    held = row.held = ordered(r for r, org in assignments if org == structure_id)
    elsewhere = any(org != structure_id for _r, org in assignments)
    row.added = ordered(set(row.roles) - set(held))
    row.tutor = row.tutor or any(r == Role.TUTOR for r, _org in assignments)
    if not held and elsewhere and not admin:
        row.problems.append(
            _l(
                "Cette adresse est celle d'un compte d'une autre organisation : seul "
                "l'administrateur peut lui donner un rôle ici."
            )
        )
        return
    if row.added and not user.is_active:
        row.problems.append(_l("Ce compte est désactivé : réactivez-le avant de l'importer."))
        return
    if not held:
        row.status = JOINED
        row.invite = not links.has_password(user)
        if row.invite:
            row.changes.append(_l("Invitation par courriel : pas encore de mot de passe."))
        else:
            row.notes.append(_l("A déjà un mot de passe : pas d'invitation."))
    elif row.added:
        row.status = CHANGED
        row.changes.append(_l("Rôle(s) ajouté(s) : %(roles)s.", roles=role_names(row.added)))
    else:
        row.status = SAME
    kept = [r for r in held if r not in row.roles]
    if kept:
        row.notes.append(
            _l(
                "Garde aussi : %(roles)s (un import n'enlève aucun rôle).",
                roles=role_names(kept),
            )
        )
    if row.name and " ".join(user.full_name.split()).casefold() != row.name.casefold():
        row.notes.append(
            _l("Son compte porte le nom « %(name)s », qui est gardé.", name=user.full_name)
        )


def _repeated(rows: list[Row]) -> dict[str, Row]:
    """An e-mail twice in the file is a problem on both lines; the rows by e-mail."""
    seen: dict[str, Row] = {}
    for row in rows:
        if not row.email:
            continue
        first = seen.setdefault(row.email, row)
        if first is not row:
            row.problems.append(_l("E-mail déjà à la ligne %(line)s.", line=first.line))
            first.problems.append(_l("E-mail répété ligne %(line)s.", line=row.line))
    return seen


def _judge_tutoring(row: Row, in_file: dict[str, Row], known: Known, structure_id: int) -> None:
    """The "Tuteur·rice de" cell: learners of the file or of the structure; the tutor is designated
    on their drafts."""
    if not row.tutor:
        row.problems.append(
            _l("« Tuteur·rice de » est rempli, mais la personne n'est pas tuteur·rice.")
        )
        return
    for email in dict.fromkeys(listed_emails(row.cells["tutor_of"])):
        try:
            email = checked_email(email)
        except ValueError as exc:
            row.problems.append(_l("« Tuteur·rice de » : %(why)s", why=exc.args[0]))
            continue
        if email == row.email:
            row.problems.append(_l("« Tuteur·rice de » : une personne ne se tutore pas elle-même."))
            continue
        learner = known.accounts.get(email)
        listed = in_file.get(email)
        of_file = listed is not None and Role.LEARNER in listed.roles
        of_structure = learner is not None and (Role.LEARNER, structure_id) in known.roles.get(
            learner.id, set()
        )
        if not (of_file or of_structure):
            row.problems.append(
                _l(
                    "« Tuteur·rice de » : %(email)s n'est apprenant·e ni dans le fichier ni "
                    "dans la structure.",
                    email=email,
                )
            )
            continue
        _designations(row, email, learner, known)
    if row.status == SAME and row.drafts:
        row.status = CHANGED


def _designations(row: Row, email: str, learner: User | None, known: Known) -> None:
    drafts = known.drafts.get(learner.id, []) if learner is not None else []
    if not drafts:
        row.notes.append(
            _l(
                "Pas de protocole en brouillon pour %(email)s : son tuteur·rice sera désigné·e "
                "à la rédaction du protocole.",
                email=email,
            )
        )
        return
    name = learner.full_name
    for protocol_id, title in drafts:
        if row.user is not None and (protocol_id, row.user.id) in known.designated:
            continue
        row.drafts.append(protocol_id)
        row.changes.append(
            _l(
                "Désigné·e tuteur·rice du protocole en brouillon « %(title)s » de %(name)s.",
                title=title,
                name=name,
            )
        )


def import_rows(
    session: Session,
    *,
    actor_id: int,
    table: Iterable[tuple[int, dict[str, str]]],
    filename: str,
    sha256: str,
    structure_id: int,
) -> Preview:
    """Save every row of `table` in the caller's transaction, or raise Rejected (and save
    nothing) when any row has a problem now: accounts created and invited, roles given,
    tutors designated on drafts; each change audited, and the import itself."""
    judged = preview(session, table, structure_id=structure_id, actor_id=actor_id)
    if not judged.valid:
        raise Rejected(judged)
    rows = judged.rows
    now = utcnow()
    created = [row for row in rows if row.status == NEW]
    if created:
        # in one INSERT of many rows; no password until the invitation is followed
        accounts = session.execute(
            insert(User).returning(User, sort_by_parameter_order=True),
            [
                {
                    "public_id": new_public_id(),
                    "email": row.email,
                    "full_name": row.name,
                    "password_hash": links.UNSET_PASSWORD,
                    "is_active": True,
                    "created_at": now,
                }
                for row in created
            ],
        ).scalars()
        for row, account in zip(created, accounts, strict=True):
            row.user = account
    assignments = [
        {"user_id": row.user.id, "role": role, "organisation_id": structure_id, "created_at": now}
        for row in rows
        for role in row.added
    ]
    if assignments:
        session.execute(insert(RoleAssignment), assignments)
    audit.record_many(session, [_entry(row, actor_id, structure_id) for row in rows if row.added])
    invited = [row for row in rows if row.invite]
    links.invite_many(
        session,
        actor_id=actor_id,
        users=[row.user for row in invited],
        tutor_ids={row.user.id for row in invited if row.tutor},
    )
    designated = _designate(session, rows, actor_id=actor_id, structure_id=structure_id)
    counts = judged.counts
    audit.record(
        session,
        actor_id=actor_id,
        action="user.import",
        subject_kind="organisation",
        subject_id=structure_id,
        structure_id=structure_id,
        after={
            "filename": filename,
            "sha256": sha256,
            "created": counts[NEW],
            "joined": counts[JOINED],
            "updated": counts[CHANGED],
            "unchanged": counts[SAME],
            "invited": len(invited),
            "designated": designated,
        },
    )
    return judged


def _entry(row: Row, actor_id: int, structure_id: int) -> dict[str, Any]:
    """The audit entry of a row's account: created (as create_user writes it), or its roles
    in the structure (as set_roles writes them)."""
    if row.status == NEW:
        return {
            "actor_id": actor_id,
            "action": "user.create",
            "subject_kind": "user",
            "subject_id": row.user.id,
            "structure_id": structure_id,
            "after": {"email": row.email, "roles": [[str(r), structure_id] for r in row.added]},
        }
    held = [r for r in row.held if r not in row.added]
    return {
        "actor_id": actor_id,
        "action": "user.roles",
        "subject_kind": "user",
        "subject_id": row.user.id,
        "structure_id": structure_id,
        "before": {"roles": [str(r) for r in ordered(held)]},
        "after": {"roles": [str(r) for r in ordered([*held, *row.added])]},
    }


def _designate(session: Session, rows: list[Row], *, actor_id: int, structure_id: int) -> int:
    """Designate each tutor on the drafts her row names; audited on each protocol."""
    pairs = [(protocol_id, row.user.id) for row in rows for protocol_id in row.drafts]
    if not pairs:
        return 0
    now = utcnow()
    session.add_all(
        ProtocolTutor(
            protocol_id=protocol_id, tutor_id=tutor_id, designated_at=now, designated_by_id=actor_id
        )
        for protocol_id, tutor_id in pairs
    )
    session.flush()
    rollups.mark(session, [protocol_id for protocol_id, _tutor in pairs])
    for protocol_id, tutor_id in pairs:
        audit.record(
            session,
            actor_id=actor_id,
            action="protocol.tutor_designate",
            subject_kind="protocol",
            subject_id=protocol_id,
            protocol_id=protocol_id,
            structure_id=structure_id,
            after={"tutor": tutor_id, "at": now.isoformat()},
        )
    return len(pairs)


def saved_message(judged: Preview) -> str:
    """What the manager is told once a file is imported."""
    counts = judged.counts
    return _(
        "Import enregistré : %(new)s compte(s) créé(s) et invité(s), %(joined)s personne(s) "
        "rattachée(s) à la structure, %(changed)s mise(s) à jour, %(same)s inchangée(s).",
        new=counts[NEW],
        joined=counts[JOINED],
        changed=counts[CHANGED],
        same=counts[SAME],
    )


PEOPLE = Importer(SPEC, preview, import_rows)
