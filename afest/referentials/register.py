"""France compétences' open data, read as published: the CSV export (a zip of `;`-separated
files joined on `Numero_Fiche`) and the XML export (FICHES/FICHE, bare or zipped).

Files come from outside: the XML is parsed with defusedxml (no DTD, no entities, nothing
external) and iteratively, keeping only what is asked for, so that an export of the whole
register (hundreds of MB) never sits whole in memory as a tree; a zip's members are checked
(how many, how large, how compressed) before any is read, and read with a cap.

`listing(content)` says which fiches a file holds (number, title, level, active), to choose
from; `fiches(content, numbers)` reads the chosen ones whole: blocks, their competences (split
from LISTE_COMPETENCES in the XML; the CSV export publishes none) and assessment terms.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from flask_babel import lazy_gettext as _l

from afest.core.errors import ServiceError

MAX_MEMBERS = 64  # the CSV export has a dozen files
MAX_MEMBER_BYTES = 1024 * 1024 * 1024  # a member's size once inflated
MAX_RATIO = 200  # inflated / compressed: text compresses ~10x, a bomb far more
FICHE = re.compile(r"^(RNCP|RS)\d{1,6}$")
TEXT_LIMIT = 2000

# The CSV export's files, by the start of their name (export_fiches_CSV_Standard_2024_02_22.csv)
STANDARD = "export_fiches_csv_standard_"
BLOCKS = "export_fiches_csv_blocs_de_competences_"
SUCCESSION = "export_fiches_csv_ancienne_nouvelle_certification_"
STANDARD_NAME = "export_fiches_CSV_Standard"
BLOCKS_NAME = "export_fiches_CSV_Blocs_De_Compétences"
SUCCESSION_NAME = "export_fiches_CSV_Ancienne_Nouvelle_Certification"


class RegisterError(ServiceError):
    """The file cannot be read as a France compétences export; `message` says why."""


@dataclass(frozen=True)
class Listed:
    """A fiche as the chooser shows it."""

    number: str
    title: str
    level: int | None
    active: bool | None


@dataclass
class Block:
    code: str
    title: str
    competences: list[tuple[str, str]] = field(default_factory=list)  # (code, title)
    assessment_terms: str = ""
    generated: set[str] = field(default_factory=set)  # codes numbered here, not in the text


@dataclass
class Fiche:
    number: str
    title: str = ""
    short: str = ""
    level: int | None = None
    active: bool | None = None
    ends_on: str = ""
    blocks: list[Block] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)
    source: str = ""
    lists_competences: bool = False  # the XML does; the CSV export publishes none


# --- what a file is ----------------------------------------------------------------------


def _fold(text: str) -> str:
    """Text without accents or case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _folded(name: str) -> str:
    """A member's name without folder, accents or case (zip tools store "Compétences" as they
    please: NFC, NFD, or cp437)."""
    return _fold(name.replace("\\", "/").rsplit("/", 1)[-1])


def _open_zip(content: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError):
        raise RegisterError(_l("Le fichier zip est illisible.")) from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise RegisterError(_l("Le zip contient plus de %(n)s fichiers.", n=MAX_MEMBERS))
    for info in members:
        if info.file_size > MAX_MEMBER_BYTES or info.file_size > MAX_RATIO * max(
            info.compress_size, 1024
        ):
            raise RegisterError(
                _l("Le fichier %(name)s du zip est anormalement gros.", name=info.filename)
            )
    return archive


class _Capped(io.RawIOBase):
    """A member's stream that stops at the size the zip announced (a lying header is a bomb)."""

    def __init__(self, stream: IO[bytes], limit: int):
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.stream.read(min(len(buffer), self.left + 1))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged member, bad CRC
            raise RegisterError(_l("Le fichier zip est illisible.")) from exc
        if len(data) > self.left:
            raise RegisterError(_l("Un fichier du zip est plus gros qu'annoncé."))
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    try:
        stream = archive.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError):  # damaged, odd, encrypted
        raise RegisterError(_l("Le fichier zip est illisible.")) from None
    return io.BufferedReader(_Capped(stream, info.file_size))


@dataclass
class _Source:
    """The XML stream, or the CSV export's three files, of a file sent."""

    xml: IO[bytes] | None = None
    csv: dict[str, IO[bytes]] = field(default_factory=dict)
    kind: str = ""


def _source(content: bytes) -> _Source:
    if content[:4] == b"PK\x03\x04":
        archive = _open_zip(content)
        members = {_folded(i.filename): i for i in archive.infolist() if not i.is_dir()}
        xmls = [i for name, i in members.items() if name.endswith(".xml")]
        if xmls:
            return _Source(xml=_member(archive, xmls[0]), kind="xml")
        found = {}
        for prefix in (STANDARD, BLOCKS, SUCCESSION):
            info = next((i for n, i in members.items() if n.startswith(prefix)), None)
            if info is not None:
                found[prefix] = _member(archive, info)
        if STANDARD not in found or BLOCKS not in found:
            raise RegisterError(
                _l(
                    "Le zip ne contient pas l'export de France compétences : il y faut "
                    "export_fiches_CSV_Standard_….csv et "
                    "export_fiches_CSV_Blocs_De_Compétences_….csv, ou un export XML."
                )
            )
        return _Source(csv=found, kind="csv")
    head = content[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _Source(xml=io.BytesIO(content), kind="xml")
    raise RegisterError(
        _l("Ce n'est ni le zip de l'export CSV ni l'export XML de France compétences.")
    )


# --- shared readings ---------------------------------------------------------------------


def _level(value: str) -> int | None:
    """NIV4 → 4; AUCUN or nothing → None."""
    digits = re.search(r"\d", value or "")
    return int(digits.group()) if digits and 1 <= int(digits.group()) <= 8 else None


def _active(value: str) -> bool | None:
    value = (value or "").strip().casefold()
    if value in ("active", "oui", "1", "actif"):
        return True
    if value in ("inactive", "non", "0", "inactif"):
        return False
    return None


_BREAKS = re.compile(r"<\s*(br|/p|/li|li|/div|/h\d)\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_BULLET = re.compile(r"^\s*(?:[-*•·–—▪◦●]|\d{1,2}[.)])\s*")
_CODED = re.compile(r"^(C\d{1,3}(?:\.\d{1,3})?)\s*[-–—:.)]\s*(.+)$", re.IGNORECASE)


def plain(text: str) -> str:
    """The register's text without its HTML: breaks kept as new lines, entities decoded."""
    text = _TAGS.sub("", _BREAKS.sub("\n", text or ""))
    lines = (" ".join(html.unescape(line).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def split_competences(text: str) -> list[tuple[str | None, str]]:
    """The competences of a LISTE_COMPETENCES: a line (or list item) each, bullets and
    numbers dropped, a heading ending with ":" left out; a line starting "C3 - ..." keeps its
    code, others have none (the caller numbers them)."""
    items = []
    for line in plain(text).splitlines():
        line = _BULLET.sub("", line).strip()
        if not line or line.endswith(":"):
            continue
        coded = _CODED.match(line)
        items.append((coded.group(1).upper(), coded.group(2).strip()) if coded else (None, line))
    return items


def _numbered(fiche: Fiche, lists: list[str]) -> None:
    """Each block's competences from its list; those without code are numbered C1, C2... in
    order across the fiche (as the DEAS numbers its eleven), so that an unchanged list gives
    the same codes from one export to the next."""
    n = 0
    for block, text in zip(fiche.blocks, lists, strict=True):
        taken: set[str] = set()
        for code, title in split_competences(text):
            n += 1
            if code is None:
                code = f"C{n}"
                block.generated.add(code)
            while code in taken:
                block.generated.discard(code)
                code = f"{code}-{n}"
                block.generated.add(code)
            taken.add(code)
            block.competences.append((code, title))


# --- XML ----------------------------------------------------------------------------------


def _child(elem, tag: str) -> str:
    found = elem.find(tag)
    return (found.text or "").strip() if found is not None else ""


def _numbers(elem, tag: str) -> list[str]:
    """ANCIENNE_CERTIFICATION as text, or holding its number in a child (v4.1)."""
    out = []
    for item in elem.iter(tag):
        text = (item.text or "").strip() or "".join((c.text or "").strip() for c in item)
        out += [n for n in re.split(r"[\s,;]+", text) if n]
    return out


def _xml_fiche(elem, full: bool) -> Fiche:
    fiche = Fiche(
        number=_child(elem, "NUMERO_FICHE"),
        title=_child(elem, "INTITULE"),
        short=_child(elem, "ABREGE/CODE"),
        level=_level(_child(elem, "NOMENCLATURE_EUROPE/NIVEAU")),
        active=_active(_child(elem, "ACTIF")),
        ends_on=_child(elem, "DATE_FIN_ENREGISTREMENT"),
        source="France compétences, export XML du RNCP",
        lists_competences=True,
    )
    if not full:
        return fiche
    lists = []
    # only the blocks of the fiche: CORRESPONDANCES hold other BLOC_COMPETENCES (codes only)
    for block in elem.findall("BLOCS_COMPETENCES/BLOC_COMPETENCES"):
        fiche.blocks.append(
            Block(
                code=_child(block, "CODE"),
                title=plain(_child(block, "LIBELLE")).replace("\n", " "),
                assessment_terms=plain(_child(block, "MODALITES_EVALUATION")),
            )
        )
        lists.append(_child(block, "LISTE_COMPETENCES"))
    _numbered(fiche, lists)
    fiche.replaces = _numbers(elem, "ANCIENNE_CERTIFICATION")
    fiche.replaced_by = _numbers(elem, "NOUVELLE_CERTIFICATION")
    return fiche


def _xml_fiches(stream: IO[bytes], wanted: set[str] | None) -> Iterator[Fiche]:
    """Each FICHE of the export in turn, whole when `wanted` names it, its heading only when
    `wanted` is None; the tree is cleared as it goes."""
    root = None
    try:
        for event, elem in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if root is None:
                root = elem
                if elem.tag != "FICHES":
                    raise RegisterError(
                        _l("Le fichier XML n'est pas un export de fiches (FICHES).")
                    )
                continue
            if event == "end" and elem.tag == "FICHE":
                number = _child(elem, "NUMERO_FICHE")
                if wanted is None or number in wanted:
                    yield _xml_fiche(elem, full=wanted is not None)
                root.clear()
    except DefusedXmlException:
        raise RegisterError(
            _l("Le fichier XML déclare une DTD ou des entités : refusé par sécurité.")
        ) from None
    except ParseError as exc:
        where = getattr(exc, "position", None) or (0, 0)
        raise RegisterError(_l("Le fichier XML est illisible (ligne %(n)s).", n=where[0])) from None


# --- CSV ----------------------------------------------------------------------------------


def _rows(stream: IO[bytes], needed: Iterable[str], name: str) -> Iterator[dict[str, str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=";")
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in needed if c not in header]
        if missing:
            raise RegisterError(
                _l(
                    "Colonne(s) manquante(s) dans %(name)s : %(cols)s.",
                    name=name,
                    cols=", ".join(missing),
                )
            )
        for row in reader:
            if any(cell.strip() for cell in row):
                yield {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
    except UnicodeDecodeError:
        raise RegisterError(
            _l("Le fichier %(name)s n'est pas encodé en UTF-8.", name=name)
        ) from None
    except csv.Error:
        raise RegisterError(
            _l("Le fichier %(name)s est illisible (ligne %(n)s).", name=name, n=reader.line_num)
        ) from None


def _csv_fiches(source: _Source, wanted: set[str] | None) -> Iterator[Fiche]:
    found: dict[str, Fiche] = {}
    for row in _rows(source.csv[STANDARD], ("Numero_Fiche", "Intitule"), STANDARD_NAME):
        number = row["Numero_Fiche"]
        if wanted is not None and number not in wanted:
            continue
        found[number] = Fiche(
            number=number,
            title=row["Intitule"],
            short=row.get("Abrege_Libelle", ""),
            level=_level(row.get("Nomenclature_Europe_Niveau", "")),
            active=_active(row.get("Actif", "")),
            ends_on=row.get("Date_Fin_Enregistrement", ""),
            source="France compétences, export CSV du RNCP",
        )
    if wanted is not None:
        columns = ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle")
        for row in _rows(source.csv[BLOCKS], columns, BLOCKS_NAME):
            fiche = found.get(row["Numero_Fiche"])
            if fiche is not None:
                fiche.blocks.append(
                    Block(code=row["Bloc_Competences_Code"], title=row["Bloc_Competences_Libelle"])
                )
        if SUCCESSION in source.csv:
            columns = ("Numero_Fiche", "Ancienne_Certification", "Nouvelle_Certification")
            for row in _rows(source.csv[SUCCESSION], columns, SUCCESSION_NAME):
                fiche = found.get(row["Numero_Fiche"])
                if fiche is not None:
                    fiche.replaces += [n for n in [row["Ancienne_Certification"]] if n]
                    fiche.replaced_by += [n for n in [row["Nouvelle_Certification"]] if n]
    yield from found.values()


def _read(content: bytes, wanted: set[str] | None) -> Iterator[Fiche]:
    source = _source(content)
    if source.kind == "xml":
        return _xml_fiches(source.xml, wanted)
    return _csv_fiches(source, wanted)


def kind_of(content: bytes) -> str:
    """ "xml" or "csv": which export a file is (RegisterError when neither)."""
    return _source(content).kind


def listing(content: bytes) -> list[Listed]:
    """The fiches of an export, by number, to choose from."""
    items = [Listed(f.number, f.title, f.level, f.active) for f in _read(content, None)]
    if not items:
        raise RegisterError(_l("Le fichier ne contient aucune fiche."))
    return sorted(items, key=lambda f: (len(f.number), f.number))


def fiches(content: bytes, numbers: Iterable[str]) -> dict[str, Fiche]:
    """The fiches of an export named in `numbers`, whole, by number (those absent left out)."""
    wanted = set(numbers)
    return {f.number: f for f in _read(content, wanted)}


def search(items: list[Listed], needle: str) -> list[Listed]:
    """The fiches whose number or title holds `needle` (accents and case ignored)."""
    folded = _fold(" ".join(needle.split()))
    if not folded:
        return items
    return [f for f in items if folded in _fold(f.title) or folded in f.number.casefold()]
