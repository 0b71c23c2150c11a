"""Read a spreadsheet someone uploaded: CSV as France's Excel writes it, or XLSX.

One call, `read_table(data, columns)`, turns the bytes of an upload into rows keyed by the
caller's column names, or raises `TabularError` with a French message about the file as a
whole (empty, not a spreadsheet, too big, a column missing...). What a row holds is the
caller's to judge: every cell comes back as stripped text.

    COLUMNS = (
        Column("siret", ("SIRET", "N° SIRET")),
        Column("name", ("Nom", "Raison sociale")),
        Column("branch", ("Branche",), required=False),
    )
    table = read_table(read_limited(upload.stream, MAX_BYTES), COLUMNS)
    for line, row in table:          # line: the row's number as the spreadsheet shows it
        row["siret"], row["name"]    # "" when the cell is empty; row["branch"] "" if absent

What is read:
- XLSX (and XLSM): the first worksheet, with openpyxl in read-only mode, cached values of
  formulas; an old .xls, an OpenDocument sheet or another zip are refused by name.
- CSV and text: UTF-8, UTF-8 with a byte order mark (Excel's "CSV UTF-8"), UTF-16 with one
  (Excel's "Texte Unicode"), else Windows-1252 (Excel's plain "CSV" in France); the
  separator is whichever of `;`, `,` or tab the header line holds most of (outside quotes).
- The header is the first row that is not blank. Headers are matched without regard to
  case, accents, spaces or punctuation ("N° SIRET", "n siret", "Nº-Siret" are one), so a
  column may be named as people write it; columns nobody asked for are ignored.
- Blank rows are skipped but keep their number, so that "ligne 12" is row 12 of the sheet.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any

from flask_babel import lazy_gettext as _l

# An XLSX is a zip: refuse one that would unpack to more than this (a "zip bomb"), whatever
# its size on the wire; a real sheet of 10,000 rows unpacks to a few megabytes.
MAX_UNPACKED = 64 * 1024 * 1024
MAX_COLUMNS = 200
MAX_CELL = 2000
SEPARATORS = (";", ",", "\t")
# The first bytes of files people pick by mistake (PDF, PNG, JPEG, GIF, gzip): not text.
NOT_TEXT = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")


class TabularError(ValueError):
    """The file as a whole cannot be read as the table asked for; `message` says why, in
    French (lazy), for the page to show beside the file field."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Column:
    """A column the caller wants: the key its rows use, and the headers it may be found under
    (matched by `header_key`). A required column missing from the file is a TabularError."""

    key: str
    names: tuple[str, ...]
    required: bool = True


@dataclass
class Table:
    """The rows of a file, iterated as (line number, {column key: text})."""

    rows: list[tuple[int, dict[str, str]]]
    headers: dict[str, str]  # column key → the header as written in the file
    format: str  # "xlsx" or "csv"
    encoding: str | None = None  # CSV only
    separator: str | None = None  # CSV only
    ignored: list[str] = field(default_factory=list)  # headers no column asked for

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def header_key(text: str) -> str:
    """A header as compared: no accents, lower case, letters and digits separated by one
    space ("N° SIRET " → "n siret", "Département" → "departement")."""
    # "Nº" (ordinal indicator) as "N°" (degree sign): NFKD would make the first one an "o".
    decomposed = unicodedata.normalize("NFKD", text.replace("º", " "))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = "".join(ch if ch.isalnum() else " " for ch in plain).split()
    return " ".join(words)


def read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """The bytes of an upload, at most `max_bytes` of them, else TabularError (the rest is
    never read)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TabularError(_l("Le fichier dépasse %(size)s Mo.", size=megabytes(max_bytes)))
    return data


def megabytes(n: int) -> str:
    """1048576 → "1", 1572864 → "1,5" (French decimals)."""
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")


def read_table(data: bytes, columns: Sequence[Column], *, max_rows: int = 10_000) -> Table:
    """The rows of a CSV or XLSX file under the caller's column keys; TabularError when the
    file is empty, not a spreadsheet, has more than `max_rows` rows, or lacks a required
    column (the message names the columns found)."""
    if not data.strip():
        raise TabularError(_l("Le fichier est vide."))
    if data.startswith(b"PK\x03\x04"):
        records, kind, encoding, separator = _xlsx_records(data), "xlsx", None, None
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TabularError(
            _l(
                "Ce fichier est au format Excel 97-2003 (.xls), qui n'est pas lu : "
                "enregistrez-le au format .xlsx ou CSV."
            )
        )
    elif data.startswith(NOT_TEXT):
        raise TabularError(_not_a_sheet())
    else:
        text, encoding = _decode(data)
        separator = _separator(text)
        records, kind = _csv_records(text, separator), "csv"
    rows, headers, ignored = _rows(records, columns, max_rows=max_rows)
    return Table(rows, headers, kind, encoding=encoding, separator=separator, ignored=ignored)


# --- CSV ------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    if b"\x00" in data:
        raise TabularError(_not_a_sheet())
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1252 leaves five bytes undefined: a file holding them is no French text.
    text = _strict(data, "cp1252")
    return text, "cp1252"


def _strict(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise TabularError(_not_a_sheet()) from None
    if "\x00" in text:
        raise TabularError(_not_a_sheet())
    return text


def _not_a_sheet():
    return _l(
        "Ce fichier n'est pas un tableau lisible : choisissez un fichier CSV (séparateur « ; » "
        "ou « , ») ou un classeur Excel (.xlsx)."
    )


def _separator(text: str) -> str:
    """The separator the header line holds most of, outside quotes (`,` when it holds none)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_records(text: str, separator: str) -> Iterator[tuple[int, list[Any]]]:
    # One record per line of the sheet: a quoted cell holding line breaks stays one row, as
    # Excel shows it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error:
        raise TabularError(
            _l("Le fichier CSV est mal formé (guillemets non refermés ?).")
        ) from None


# --- XLSX -----------------------------------------------------------------------------------


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise TabularError(_not_a_sheet()) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names and "mimetype" in names:
            raise TabularError(
                _l(
                    "Ce classeur OpenDocument (.ods) n'est pas lu : "
                    "enregistrez-le au format .xlsx ou CSV."
                )
            )
        raise TabularError(_not_a_sheet())
    if unpacked > MAX_UNPACKED:
        raise TabularError(_l("Ce classeur est trop volumineux une fois décompressé."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise TabularError(_l("Ce classeur Excel est endommagé ou illisible.")) from None
    return _sheet_rows(workbook)


def _sheet_rows(workbook) -> Iterator[tuple[int, list[Any]]]:
    try:
        sheet = workbook.worksheets[0]
        # reset_dimensions: a sheet's declared size is often wrong; read what is there.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except TabularError:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet fails as it is read
        raise TabularError(_l("Ce classeur Excel est endommagé ou illisible.")) from None
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing ".0" (a SIRET typed as a number stays its
    digits), dates as ISO, control characters dropped, spaces stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    if isinstance(value, datetime):
        value = value.date().isoformat() if value.time() == time() else value.isoformat()
    elif isinstance(value, date | time):
        value = value.isoformat()
    text = str(value)
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()[:MAX_CELL]


# --- both -----------------------------------------------------------------------------------


def _rows(records, columns: Sequence[Column], *, max_rows: int):
    """(rows, headers, ignored headers) of the records that follow the header row."""
    records = iter(records)
    header: list[str] | None = None
    for _number, values in records:
        cells = [cell_text(v) for v in values[:MAX_COLUMNS]]
        if any(cells):
            header = cells
            break
    if header is None:
        raise TabularError(_l("Le fichier est vide."))
    wanted = {header_key(name): column for column in columns for name in column.names}
    position: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        column = wanted.get(header_key(title))
        if column is None:
            if title:
                ignored.append(title)
            continue
        if column.key in position:
            raise TabularError(
                _l(
                    "La colonne « %(name)s » figure deux fois (« %(first)s » et « %(second)s »).",
                    name=column.names[0],
                    first=headers[column.key],
                    second=title,
                )
            )
        position[column.key] = index
        headers[column.key] = title
    missing = [c.names[0] for c in columns if c.required and c.key not in position]
    if missing:
        found = ", ".join(f"« {t} »" for t in header if t) or "—"
        raise TabularError(
            _l(
                "Colonne(s) manquante(s) : %(missing)s. Colonnes trouvées sur la première "
                "ligne : %(found)s.",
                missing=", ".join(f"« {m} »" for m in missing),
                found=found,
            )
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in records:
        cells = [cell_text(v) for v in values[:MAX_COLUMNS]]
        if not any(cells):
            continue
        if len(rows) == max_rows:
            limit = f"{max_rows:,}".replace(",", " ")
            raise TabularError(
                _l(
                    "Le fichier dépasse %(n)s lignes : découpez-le.",
                    n=limit,
                )
            )
        row = {
            c.key: (cells[position[c.key]] if position.get(c.key, len(cells)) < len(cells) else "")
            for c in columns
        }
        rows.append((number, row))
    if not rows:
        raise TabularError(_l("Le fichier ne contient aucune ligne sous ses en-têtes."))
    return rows, headers, ignored
