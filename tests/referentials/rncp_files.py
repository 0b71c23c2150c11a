"""The committed extracts of France compétences' exports (tests/data/rncp/, see its README),
and the CSV export's zip built from them as the register publishes it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "rncp"
XML_2026 = DATA / "export_fiches_RNCP_V4_1_2026-12-01.xml"
XML_2027 = DATA / "export_fiches_RNCP_V4_1_2027-03-01.xml"
CSV_FILES = sorted(DATA.glob("export_fiches_CSV_*.csv"))


def csv_zip(files=CSV_FILES, replace: dict[str, str] | None = None) -> bytes:
    """export-fiches-csv-2026-12-01.zip: the CSV files at the zip's root, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            text = path.read_text(encoding="utf-8")
            for old, new in (replace or {}).items():
                text = text.replace(old, new)
            archive.writestr(path.name, text)
    return buffer.getvalue()


def xml_zip(path: Path = XML_2026) -> bytes:
    """export-fiches-rncp-v4-1-2026-12-01.zip: the XML export, zipped as published."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.name, path.read_bytes())
    return buffer.getvalue()


def renumbered(path: Path, old: str, new: str) -> bytes:
    """The export with one fiche under another number (a fiche the database does not hold)."""
    return path.read_bytes().replace(old.encode(), new.encode())
