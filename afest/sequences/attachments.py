"""Files attached to a sequence: photos of the work done (JPEG, PNG, HEIC) and PDFs (a filled
grid, a scan of the paper protocol).

A file is judged by its content, never by its name: an image must open as one of the accepted
formats within a bounded number of pixels, a PDF must parse. Every image is decoded and saved
again (turned the right way up, at most 2,048 pixels a side, HEIC as JPEG) with none of its
metadata: a photo's GPS position, its camera, its date and anything hidden in its comments
are gone, and what is kept is a plain picture. This happens in the form, before the write.

Attached files belong to the sequence's signed content (afest.proof.signatures): their SHA-256,
type, size and name. A correction carries over the files chosen and adds new ones, in rows
of its own; the original's rows are never changed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from flask import Response, abort, request
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import delete, event
from sqlmodel import Session, select

from afest.core.errors import ServiceError
from afest.core.storage import MissingFile, Store
from afest.models import Sequence, SequenceAttachment, new_public_id, utcnow

register_heif_opener()

MAX_BYTES = 15 * 1024 * 1024  # a file as sent (a phone's photo is 2 to 8 MB)
MAX_FILES = 6  # on one sequence
MAX_PIXELS = 50_000_000  # a 50-megapixel photo; more is refused before it is decoded
LONG_SIDE = 2048  # what is kept: enough to read a filled grid, a few hundred kB
MAX_PDF_PAGES = 100
JPEG_QUALITY = 85

MAX_REQUEST = MAX_FILES * MAX_BYTES + 1024 * 1024  # an entry with all its files, and its text

FIELD = "attachments"
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
TYPE_LABELS = {JPEG: "photo JPEG", PNG: "image PNG", PDF: "PDF"}
IMAGE_FORMATS = ("JPEG", "PNG", "HEIF")  # a JPEG with a second picture (MPO) opens as JPEG
GPS_IFD = 0x8825


@dataclass(frozen=True)
class NewAttachment:
    """A file as it will be kept: checked, cleaned, named."""

    filename: str
    media_type: str
    data: bytes
    located: bool = False  # the photo held a GPS position, now removed
    resized: bool = False


def refused(message) -> ServiceError:
    return ServiceError(message, field=FIELD)


def clean_name(name: str, media_type: str) -> str:
    """The name shown and used in the ZIP: the sender's base name without its folders, its
    control characters or its extension, with the extension of what the file really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(
        c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C"
    )
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"\s+", " ", stem).strip(" .") or ("document" if media_type == PDF else "photo")
    return stem[:80] + EXTENSIONS[media_type]


def sent_name(name: str) -> str:
    """The name of a file as its sender knows it (without its folders), for a message."""
    base = re.split(r"[\\/]", name or "")[-1]
    return "".join(c for c in base if unicodedata.category(c)[0] != "C")[:80] or "?"


def _too_large():
    return _l("image trop grande (%(n)s mégapixels au plus)", n=MAX_PIXELS // 1_000_000)


def _image(data: bytes) -> Image.Image | None:
    """The picture, opened within the pixel bound, or None when the bytes are no accepted
    image. Larger pictures are refused before their pixels are decoded (a "decompression
    bomb": a small file that would fill the memory)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise refused(_too_large())
            image.load()
            return image
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise refused(_too_large()) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _clean_image(name: str, image: Image.Image) -> NewAttachment:
    exif = image.getexif()
    located = bool(exif.get_ifd(GPS_IFD))
    upright = ImageOps.exif_transpose(image)
    resized = max(upright.size) > LONG_SIDE
    if resized:
        upright.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    # nothing of what came with the pixels is written again (a JPEG's comment, a PNG's text,
    # a colour profile): only what a transparent picture needs to stay so
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    out = io.BytesIO()
    if image.format == "PNG":  # a drawing, a screenshot, a scan: kept without loss
        upright.save(out, format="PNG")
        media_type = PNG
    else:  # a photo, HEIC included
        upright.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        media_type = JPEG
    return NewAttachment(clean_name(name, media_type), media_type, out.getvalue(), located, resized)


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise refused(_l("PDF protégé par un mot de passe : joignez-le sans protection"))
        pages = int(reader.root["/Pages"]["/Count"])
    except ServiceError:
        raise
    except Exception:  # noqa: BLE001 (whatever a broken file makes the parser raise)
        raise refused(_l("PDF illisible ou endommagé")) from None
    if not 1 <= pages <= MAX_PDF_PAGES:
        raise refused(_l("PDF de plus de %(n)s pages", n=MAX_PDF_PAGES))


def prepare(name: str, data: bytes) -> NewAttachment:
    """Check and clean one file as sent, or refuse it with the reason (ServiceError on the
    attachments field). The type comes from the bytes, not from the name."""
    if not data:
        raise refused(_l("Le fichier « %(name)s » est vide.", name=sent_name(name)))
    if len(data) > MAX_BYTES:
        raise refused(
            _l(
                "Le fichier « %(name)s » dépasse %(mb)s Mo.",
                name=sent_name(name),
                mb=MAX_BYTES // (1024 * 1024),
            )
        )
    try:
        if data.startswith(b"%PDF-"):
            _check_pdf(data)
            return NewAttachment(clean_name(name, PDF), PDF, data)
        image = _image(data)
    except ServiceError as problem:
        raise refused(
            _l("« %(name)s » : %(problem)s.", name=sent_name(name), problem=problem.message)
        ) from None
    if image is None:
        raise refused(
            _l(
                "« %(name)s » n'est ni une photo (JPEG, PNG, HEIC) ni un PDF.",
                name=sent_name(name),
            )
        )
    return _clean_image(name, image)


def of_sequences(
    session: Session, sequence_ids: Iterable[int]
) -> dict[int, list[SequenceAttachment]]:
    """The attachments of these sequences, in their order, by sequence id."""
    ids = list(sequence_ids)
    found: dict[int, list[SequenceAttachment]] = {i: [] for i in ids}
    if ids:
        rows = session.exec(
            select(SequenceAttachment)
            .where(SequenceAttachment.sequence_id.in_(ids))
            .order_by(SequenceAttachment.sequence_id, SequenceAttachment.position)
        )
        for row in rows:
            found[row.sequence_id].append(row)
    return found


def content(session: Session, sequence_id: int) -> list[list]:
    """What the sequence's signed content says of its attachments."""
    rows = of_sequences(session, [sequence_id])[sequence_id]
    return [[a.position, a.filename, a.media_type, a.size, a.sha256] for a in rows]


def attach(
    session: Session,
    sequence: Sequence,
    *,
    new: Seq[NewAttachment] = (),
    kept: Seq[SequenceAttachment] = (),
) -> list[SequenceAttachment]:
    """Rows for the files of a sequence just inserted: those carried over from the version it
    corrects (`kept`, in their order), then the new ones, whose bytes are stored first."""
    if len(kept) + len(new) > MAX_FILES:
        raise refused(_l("%(n)s fichiers au plus par séquence.", n=MAX_FILES))
    store = Store.current() if new else None
    files = [(a.filename, a.media_type, a.size, a.sha256) for a in kept]
    files += [(f.filename, f.media_type, len(f.data), store.put(f.data)) for f in new]
    rows = [
        SequenceAttachment(
            public_id=new_public_id(),
            sequence_id=sequence.id,
            position=position,
            filename=filename,
            media_type=media_type,
            size=size,
            sha256=sha256,
            created_at=utcnow(),
        )
        for position, (filename, media_type, size, sha256) in enumerate(files, start=1)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def carried_over(
    session: Session, original: Sequence, ids: Iterable[int]
) -> tuple[list[SequenceAttachment], list[SequenceAttachment]]:
    """The original's attachments a correction carries over (those chosen), and those it
    leaves out, each in their order; an id of another sequence's file is refused."""
    chosen = set(ids)
    mine = of_sequences(session, [original.id])[original.id]
    if chosen - {a.id for a in mine}:
        raise refused(_l("Un fichier choisi n'est pas joint à cette séquence."))
    return [a for a in mine if a.id in chosen], [a for a in mine if a.id not in chosen]


def forget(session: Session, sequence_ids) -> None:
    """Delete the attachments of these sequences (the purge: `sequence_ids` a list or a
    SELECT), and, once the caller has committed, the files no row names any more."""
    hashes = set(
        session.exec(
            select(SequenceAttachment.sha256).where(
                SequenceAttachment.sequence_id.in_(sequence_ids)
            )
        )
    )
    session.exec(delete(SequenceAttachment).where(SequenceAttachment.sequence_id.in_(sequence_ids)))
    if not hashes:
        return
    store = Store.current()
    bind = session.get_bind()

    def remove_files(_session: Session) -> None:
        with Session(bind=bind) as fresh:
            named = set(
                fresh.exec(
                    select(SequenceAttachment.sha256).where(
                        SequenceAttachment.sha256.in_(sorted(hashes))
                    )
                )
            )
        for digest in hashes - named:
            store.delete(digest)

    event.listen(session, "after_commit", remove_files, once=True)


def read(attachment: SequenceAttachment) -> bytes:
    return Store.current().get(attachment.sha256)


def accepts_files(view):
    """Of a view whose form takes attachments: its request may be as large as an entry with
    all its files (the app's limit, for every other form, is 2 MB). A larger one is answered
    413; the tablet's script warns of a file too heavy before it is sent."""

    @wraps(view)
    def with_files(*args, **kwargs):
        request.max_content_length = MAX_REQUEST
        return view(*args, **kwargs)

    return with_files


def find(session: Session, sequence: Sequence, public_id: str) -> SequenceAttachment:
    found = session.exec(
        select(SequenceAttachment).where(
            SequenceAttachment.sequence_id == sequence.id,
            SequenceAttachment.public_id == public_id,
        )
    ).first()
    if found is None:
        abort(404)
    return found


def response(attachment: SequenceAttachment) -> Response:
    """The file as kept, under its name: a photo shown in the page, a PDF downloaded; never
    run or sniffed as anything else (its bytes come from a visitor)."""
    try:
        body = read(attachment)
    except MissingFile:
        abort(410)
    shown = "inline" if attachment.media_type != PDF else "attachment"
    out = Response(body, mimetype=attachment.media_type)
    out.headers["Content-Disposition"] = f"{shown}; filename*=UTF-8''{quote(attachment.filename)}"
    out.headers["X-Content-Type-Options"] = "nosniff"
    out.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # the bytes under a name never change: the browser keeps them, for this person only
    out.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return out
