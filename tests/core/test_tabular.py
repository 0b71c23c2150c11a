"""The spreadsheet reader: French Excel CSV (Windows-1252, `;`), UTF-8 with or without BOM,
UTF-16, XLSX; headers matched as people write them; bad files refused with a reason."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from afest.core.tabular import (
    Column,
    TabularError,
    cell_text,
    header_key,
    read_limited,
    read_table,
)

COLUMNS = (
    Column("siret", ("SIRET", "N° SIRET")),
    Column("name", ("Nom", "Raison sociale")),
    Column("dept", ("Département", "Dept")),
    Column("branch", ("Branche",), required=False),
)
ROWS = [
    ("73282932000074", "EHPAD Les Mûriers", "2A"),
    ("35600000000048", "Aide à domicile « Côté Cœur »", "06"),
]


def csv_bytes(lines: list[str], encoding: str, newline: str = "\r\n") -> bytes:
    return newline.join(lines).encode(encoding) + newline.encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def as_list(table):
    return [(line, dict(row)) for line, row in table]


EXPECTED = [
    (2, {"siret": ROWS[0][0], "name": ROWS[0][1], "dept": "2A", "branch": ""}),
    (3, {"siret": ROWS[1][0], "name": ROWS[1][1], "dept": "06", "branch": ""}),
]


@pytest.mark.parametrize(
    ("encoding", "separator", "prefix"),
    [
        ("cp1252", ";", b""),  # Excel's "CSV (séparateur : point-virgule)" in France
        ("utf-8", ";", b"\xef\xbb\xbf"),  # Excel's "CSV UTF-8"
        ("utf-8", ",", b""),
        ("utf-16-le", "\t", b"\xff\xfe"),  # Excel's "Texte Unicode"
    ],
)
def test_csv_in_every_encoding_excel_writes(encoding, separator, prefix):
    lines = [separator.join(("N° SIRET", "Raison sociale", "Département"))]
    lines += [separator.join(row) for row in ROWS]
    table = read_table(prefix + csv_bytes(lines, encoding), COLUMNS)
    assert as_list(table) == EXPECTED
    assert table.format == "csv" and table.separator == separator
    assert table.headers == {"siret": "N° SIRET", "name": "Raison sociale", "dept": "Département"}


def test_cp1252_is_told_apart_from_utf8():
    data = csv_bytes(["SIRET;Nom;Dept", "73282932000074;Crèche Été;13"], "cp1252")
    table = read_table(data, COLUMNS)
    assert table.encoding == "cp1252"
    assert as_list(table)[0][1]["name"] == "Crèche Été"


def test_headers_are_matched_without_case_accents_or_punctuation():
    assert header_key("  N° SIRET ") == header_key("n siret") == header_key("Nº-Siret")
    assert header_key("DÉPARTEMENT") == "departement"
    data = csv_bytes(["siret;NOM;departement;BRANCHE;Commentaire", "1;a;75;Aide;x"], "utf-8")
    table = read_table(data, COLUMNS)
    assert as_list(table) == [(2, {"siret": "1", "name": "a", "dept": "75", "branch": "Aide"})]
    assert table.ignored == ["Commentaire"]


def test_quoted_cells_keep_their_separators_and_line_breaks():
    data = b'SIRET;Nom;Dept\n1;"EHPAD ; La Treille";83\n2;"Sur\ndeux lignes";83\n3;c;83\n'
    table = read_table(data, COLUMNS)
    assert [row["name"] for _line, row in table] == ["EHPAD ; La Treille", "Sur\ndeux lignes", "c"]
    assert [line for line, _row in table] == [2, 3, 4]


def test_blank_rows_are_skipped_but_keep_their_line_numbers():
    data = b"\n;;\nSIRET;Nom;Dept\n1;a;75\n;;\n\n2;b;13\n"
    assert [line for line, _row in read_table(data, COLUMNS)] == [4, 7]


def test_short_rows_read_as_empty_cells():
    data = b"SIRET;Nom;Dept\n1;seulement le nom\n"
    assert as_list(read_table(data, COLUMNS))[0][1] == {
        "siret": "1",
        "name": "seulement le nom",
        "dept": "",
        "branch": "",
    }


def test_xlsx_first_sheet_numbers_and_dates_as_text():
    data = xlsx_bytes(
        [
            [None],
            ["SIRET", "Nom", "Dept", "Branche"],
            [73282932000074, "EHPAD Les Mûriers", "2A", None],
            [35600000000048.0, "  Côté Cœur  ", 6, datetime(2026, 1, 31)],
            [None, None, None, None],
            ["1", "c", "13", "x"],
        ]
    )
    table = read_table(data, COLUMNS)
    assert table.format == "xlsx"
    assert as_list(table) == [
        (3, {"siret": "73282932000074", "name": "EHPAD Les Mûriers", "dept": "2A", "branch": ""}),
        (4, {"siret": "35600000000048", "name": "Côté Cœur", "dept": "6", "branch": "2026-01-31"}),
        (6, {"siret": "1", "name": "c", "dept": "13", "branch": "x"}),
    ]


def test_cell_text():
    assert cell_text(None) == ""
    assert cell_text(12.0) == "12" and cell_text(12.5) == "12.5"
    assert cell_text(date(2026, 2, 1)) == "2026-02-01"
    assert cell_text(" a\x00b\x07 ") == "ab"
    assert cell_text(True) == "VRAI"


def reason(data: bytes, **kwargs) -> str:
    with pytest.raises(TabularError) as caught:
        read_table(data, COLUMNS, **kwargs)
    return str(caught.value.message)


def test_a_missing_column_is_named_with_the_columns_found():
    message = reason(b"SIRET;Raison;Dept\n1;a;75\n")
    assert "« Nom »" in message and "« Raison »" in message
    assert "« Branche »" not in message  # optional


def test_a_column_given_twice_is_refused():
    assert "deux fois" in reason(b"SIRET;Nom;N SIRET;Dept\n1;a;2;75\n")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "vide"),
        (b"  \r\n \n", "vide"),
        (b"SIRET;Nom;Dept\n", "aucune ligne"),
        (b"SIRET;Nom;Dept\n;;\n", "aucune ligne"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "pas un tableau"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "pas un tableau"),
        (bytes(range(256)) * 4, "pas un tableau"),
        (b"SIRET;Nom\x00;Dept\n", "pas un tableau"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "97-2003"),
        (b"PK\x03\x04 not really a zip", "pas un tableau"),
        (b'SIRET;Nom;Dept\n1;"jamais referme;75\n', "mal formé"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, words):
    assert words in reason(data)


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_other_zips_are_refused_by_name():
    ods = zip_of(
        {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""}
    )
    assert "OpenDocument" in reason(ods)
    assert "pas un tableau" in reason(zip_of({"word/document.xml": b"<w/>"}))
    damaged = zip_of({"xl/workbook.xml": b"<not-a-workbook", "[Content_Types].xml": b""})
    assert "endommagé" in reason(damaged)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    from afest.core import tabular

    monkeypatch.setattr(tabular, "MAX_UNPACKED", 1000)
    assert "décompressé" in reason(xlsx_bytes([["SIRET", "Nom", "Dept"], ["1", "a" * 2000, "75"]]))


def test_too_many_rows():
    data = b"SIRET;Nom;Dept\n" + b"1;a;75\n" * 11
    assert "10 lignes" in reason(data, max_rows=10)
    assert len(read_table(b"SIRET;Nom;Dept\n" + b"1;a;75\n" * 10, COLUMNS, max_rows=10)) == 10


def test_read_limited():
    assert read_limited(io.BytesIO(b"x" * 10), 10) == b"x" * 10
    with pytest.raises(TabularError) as caught:
        read_limited(io.BytesIO(b"x" * 2_000_000), 1024 * 1024)
    assert str(caught.value.message) == "Le fichier dépasse 1 Mo."
