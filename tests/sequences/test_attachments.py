"""Photos and documents attached to a sequence: judged by their content, cleaned of their
metadata, kept outside the database under their SHA-256, part of the signed content, carried
over or left out by a correction, in the proof pack and its ZIP; hostile files refused beside
the field with nothing saved."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image
from pillow_heif import from_pillow
from sqlmodel import select

from afest.core.storage import Store
from afest.models import AuditEntry, Sequence, SequenceAttachment, SignedKind, User
from afest.proof import signatures
from afest.sequences import attachments
from afest.sequences.attachments import MAX_BYTES, prepare
from tests.sequences.test_tablet import (
    LEARNER,
    TUTOR,
    demo_protocol,
    n_sequences,
    situation_form,
)
from tests.sequences.test_tablet_sign_now import PIN

GPS_IFD = 0x8825


def photo(width=640, height=480, *, gps=False, orientation=None, comment=b"", fmt="JPEG"):
    """A picture as a phone would send it, with a GPS position and an orientation if asked."""
    image = Image.new("RGB", (width, height), (180, 90, 40))
    for x in range(0, width, 7):  # some detail, so that it is not a flat colour
        image.putpixel((x, (x * 3) % height), (10, 200, 30))
    exif = image.getexif()
    if gps:
        position = exif.get_ifd(GPS_IFD)
        position.update({1: "N", 2: (43.0, 42.0, 12.5), 3: "E", 4: (7.0, 15.0, 0.0)})
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    if fmt == "HEIF":
        from_pillow(image).save(out, quality=80)
    else:
        image.save(out, fmt, exif=exif, comment=comment) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def small_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Grille d'observation remplie</p>").write_pdf()


# --- the content decides, and what is kept is clean -----------------------------------------


def test_a_photo_loses_its_gps_position_and_every_other_metadata():
    sent = photo(gps=True, comment=b"<?php system($_GET['c']); ?>")
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD)  # the position is there
    kept = prepare("IMG_0042.JPG", sent)
    assert kept.media_type == "image/jpeg" and kept.located
    assert kept.filename == "IMG_0042.jpg"
    again = Image.open(io.BytesIO(kept.data))
    assert not again.getexif().get_ifd(GPS_IFD)
    assert len(again.getexif()) == 0
    assert b"<?php" not in kept.data and b"43" not in again.info.get("comment", b"")


def test_a_photo_is_turned_the_right_way_up_and_bounded_in_size():
    kept = prepare("portrait.jpg", photo(3000, 2000, orientation=6))
    width, height = Image.open(io.BytesIO(kept.data)).size
    assert (width, height) == (1365, 2048)  # turned a quarter, then 2,048 pixels a side at most
    assert kept.resized


def test_heic_becomes_jpeg_and_png_stays_png():
    heic = prepare("IMG_1.HEIC", photo(fmt="HEIF"))
    assert heic.media_type == "image/jpeg" and heic.filename == "IMG_1.jpg"
    assert Image.open(io.BytesIO(heic.data)).format == "JPEG"
    drawing = Image.new("P", (200, 100))
    out = io.BytesIO()
    drawing.save(out, "PNG")
    png = prepare("grille.png", out.getvalue())
    assert png.media_type == "image/png" and Image.open(io.BytesIO(png.data)).format == "PNG"


def test_a_phone_photo_with_a_second_picture_inside_mpo_is_a_photo():
    first, second = Image.new("RGB", (320, 240), "red"), Image.new("RGB", (320, 240), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    kept = prepare("portrait.jpg", out.getvalue())
    assert kept.media_type == "image/jpeg"
    assert Image.open(io.BytesIO(kept.data)).format == "JPEG"  # the first picture only


def test_a_pdf_is_kept_as_sent_once_it_parses():
    body = small_pdf()
    kept = prepare("grille remplie.PDF", body)
    assert (kept.media_type, kept.filename, kept.data) == (
        "application/pdf",
        "grille remplie.pdf",
        body,
    )


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("shell.jpg", b"<?php system($_GET['c']); ?>", "« shell.jpg » n'est ni une photo"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100, "n'est ni une photo"),
        (
            "grille.pdf",
            b"%PDF-1.7\n garbage that is no PDF at all",
            "« grille.pdf » : PDF illisible",
        ),
        ("vide.jpg", b"", "« vide.jpg » est vide"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(name, body, message):
    with pytest.raises(attachments.ServiceError) as refused:
        prepare(name, body)
    assert message in str(refused.value.message)
    assert refused.value.field == "attachments"


def zip_bomb() -> bytes:
    """64 MB of zeros in a ZIP of some 60 kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("a.bin", b"\0" * (64 * 1024 * 1024))
    return out.getvalue()


def test_a_zip_bomb_named_pdf_is_refused_without_being_opened():
    body = zip_bomb()
    assert len(body) < 200_000
    with pytest.raises(attachments.ServiceError) as refused:
        prepare("scan.pdf", body)
    assert "n'est ni une photo" in str(refused.value.message)


def test_a_picture_too_large_to_decode_is_refused_before_its_pixels_are():
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 megapixels in a small file
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(attachments.ServiceError) as refused:
        prepare("plan.png", out.getvalue())
    message = str(refused.value.message)
    assert message == "« plan.png » : image trop grande (50 mégapixels au plus)."


def test_a_file_over_the_size_limit_is_refused():
    with pytest.raises(attachments.ServiceError) as refused:
        prepare("gros.jpg", photo() + b"\0" * MAX_BYTES)
    assert "dépasse 15 Mo" in str(refused.value.message)


def test_names_keep_no_folder_nor_control_character():
    assert attachments.clean_name("C:\\Users\\x\\..\\photo\x00 1.php.jpg", "image/jpeg") == (
        "photo 1.php.jpg"
    )
    assert attachments.clean_name("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert attachments.clean_name("...", "image/png") == "photo.png"


# --- on the tablet -----------------------------------------------------------------------------


def post_with_files(client, url, form, files):
    data = {**form, "attachments": [(io.BytesIO(body), name) for name, body in files]}
    return client.post(url, data=data, content_type="multipart/form-data")


def situation_url(protocol) -> str:
    return f"/tablette/protocoles/{protocol.public_id}/situation"


def test_a_situation_saved_and_signed_with_a_photo_and_a_pdf(app, session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    form = {**situation_form(session, protocol, client_id="att-1"), "secret": PIN, "sign": "1"}
    files = [("IMG_0042.JPG", photo(gps=True)), ("grille.pdf", small_pdf())]
    response = post_with_files(tutor, situation_url(protocol), form, files)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-1")).one()
    rows = attachments.of_sequences(session, [saved.id])[saved.id]
    assert [(a.position, a.filename, a.media_type) for a in rows] == [
        (1, "IMG_0042.jpg", "image/jpeg"),
        (2, "grille.pdf", "application/pdf"),
    ]
    with app.app_context():
        store = Store.of(app)
        assert store.get(rows[1].sha256) == files[1][1]  # a PDF as sent
        kept_photo = store.get(rows[0].sha256)
    assert not Image.open(io.BytesIO(kept_photo)).getexif().get_ifd(GPS_IFD)

    # the files are in what the tutor signed: their hashes are in the signed content
    content = signatures.sequence_content(session, saved)
    assert content["attachments"] == [
        [1, "IMG_0042.jpg", "image/jpeg", rows[0].size, rows[0].sha256],
        [2, "grille.pdf", "application/pdf", rows[1].size, rows[1].sha256],
    ]
    assert all(c.intact for c in signatures.verify(session, SignedKind.SEQUENCE, saved))

    page = tutor.get(f"/sequences/{saved.public_id}").get_data(as_text=True)
    assert "IMG_0042.jpg" in page and "grille.pdf" in page
    shown = tutor.get(f"/sequences/{saved.public_id}/pieces/{rows[0].public_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.data == kept_photo
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    pdf = tutor.get(f"/sequences/{saved.public_id}/pieces/{rows[1].public_id}")
    assert pdf.headers["Content-Disposition"].startswith("attachment;")


def test_a_file_is_shown_to_those_who_read_the_sequence_only(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    form = situation_form(session, protocol, client_id="att-scope")
    post_with_files(tutor, situation_url(protocol), form, [("a.jpg", photo())])
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-scope")).one()
    (row,) = attachments.of_sequences(session, [saved.id])[saved.id]
    url = f"/sequences/{saved.public_id}/pieces/{row.public_id}"
    assert login_as(LEARNER).get(url).status_code == 200  # the learner of the protocol
    assert login_as("apprenant@azur-aide.demo").get(url).status_code == 404  # another learner
    assert login_as("conseil@opco-sante.demo").get(url).status_code == 404  # not its funder
    other = session.exec(select(SequenceAttachment).where(SequenceAttachment.id != row.id)).first()
    if other is not None:  # a file of another sequence is not reached through this one
        assert (
            tutor.get(f"/sequences/{saved.public_id}/pieces/{other.public_id}").status_code == 404
        )


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("shell.jpg", b"<?php system($_GET['c']); ?>", "n'est ni une photo"),
        ("big.jpg", b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), "dépasse 15 Mo"),  # 50 MB
        ("scan.pdf", "zip bomb", "n'est ni une photo"),
    ],
)
def test_a_hostile_file_is_refused_beside_the_field_and_nothing_is_saved(
    app, session, login_as, name, body, message
):
    if body == "zip bomb":
        body = zip_bomb()
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    before = n_sequences(session, protocol)
    files_before = session.exec(select(SequenceAttachment.id)).all()
    form = {**situation_form(session, protocol, client_id="att-bad"), "secret": PIN, "sign": "1"}
    response = post_with_files(
        tutor, situation_url(protocol), form, [("ok.jpg", photo()), (name, body)]
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split('id="attachments-error"', 1)[1].split("</p>", 1)[0]
    assert message in error.replace("&#39;", "'")
    assert n_sequences(session, protocol) == before
    assert session.exec(select(SequenceAttachment.id)).all() == files_before


def test_too_many_files_are_refused(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    form = situation_form(session, protocol, client_id="att-many")
    files = [(f"p{n}.jpg", photo(64, 48)) for n in range(attachments.MAX_FILES + 1)]
    response = post_with_files(tutor, situation_url(protocol), form, files)
    assert response.status_code == 422
    assert "6 fichiers au plus" in response.get_data(as_text=True)


def test_a_correction_carries_over_leaves_out_and_adds_files_and_says_so(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    form = situation_form(session, protocol, client_id="att-orig")
    files = [("avant.jpg", photo(gps=True)), ("grille.pdf", small_pdf())]
    assert post_with_files(tutor, situation_url(protocol), form, files).status_code == 302
    original = session.exec(select(Sequence).where(Sequence.client_id == "att-orig")).one()
    before_hash = signatures.content_hash(session, SignedKind.SEQUENCE, original)
    first, second = attachments.of_sequences(session, [original.id])[original.id]

    page = tutor.get(f"/sequences/{original.public_id}/corriger").get_data(as_text=True)
    assert "avant.jpg" in page and "grille.pdf" in page  # both offered, to keep or not

    form = {
        **situation_form(session, protocol, client_id="att-fix", observations="Corrigé"),
        "reason": "Mauvaise grille jointe",
        "kept_attachments": [str(first.id)],
    }
    response = post_with_files(
        tutor, f"/sequences/{original.public_id}/corriger", form, [("après.png", photo(fmt="PNG"))]
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    fixed = session.exec(select(Sequence).where(Sequence.client_id == "att-fix")).one()
    now = attachments.of_sequences(session, [fixed.id])[fixed.id]
    assert [(a.position, a.filename, a.sha256) for a in now] == [
        (1, "avant.jpg", first.sha256),
        (2, "après.png", now[1].sha256),
    ]
    # the original and its files are as they were
    assert attachments.of_sequences(session, [original.id])[original.id] == [first, second]
    assert signatures.content_hash(session, SignedKind.SEQUENCE, original) == before_hash
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "sequence.amend", AuditEntry.subject_id == fixed.id
        )
    ).one()
    before = json.loads(entry.before) if isinstance(entry.before, str) else entry.before
    assert before["attachments_removed"] == [["grille.pdf", second.sha256]]


def test_a_correction_cannot_carry_over_a_file_of_another_sequence(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    post_with_files(
        tutor,
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-a"),
        [("a.jpg", photo())],
    )
    post_with_files(
        tutor,
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-b"),
        [("b.jpg", photo(320, 200))],
    )
    a, b = (
        session.exec(select(Sequence).where(Sequence.client_id == c)).one()
        for c in ("att-a", "att-b")
    )
    (foreign,) = attachments.of_sequences(session, [b.id])[b.id]
    form = {
        **situation_form(session, protocol, client_id="att-a-fix"),
        "reason": "Essai",
        "kept_attachments": [str(foreign.id)],
    }
    response = tutor.post(f"/sequences/{a.public_id}/corriger", data=form)
    assert response.status_code == 422
    errors = re.findall(r'class="error[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert "Un fichier choisi n&#39;est pas joint à cette séquence." in errors
    assert session.exec(select(Sequence).where(Sequence.client_id == "att-a-fix")).first() is None


# --- in the proof pack ---------------------------------------------------------------------------


def test_the_proof_pack_lists_the_files_and_its_zip_holds_them_in_its_manifest(session, login_as):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    form = {**situation_form(session, protocol, client_id="att-pack"), "secret": PIN, "sign": "1"}
    body = small_pdf()
    post_with_files(tutor, situation_url(protocol), form, [("grille.pdf", body)])
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-pack")).one()
    (row,) = attachments.of_sequences(session, [saved.id])[saved.id]

    manager = login_as("direction@azur-aide.demo")
    response = manager.get(f"/protocoles/{protocol.public_id}/preuve.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    name = f"pieces-jointes/{saved.occurred_at:%Y-%m-%d}_{saved.public_id}_1_grille.pdf"
    assert archive.read(name) == body
    assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert listed[name] == row.sha256
    from openpyxl import load_workbook

    workbook_name = next(n for n in archive.namelist() if n.endswith(".xlsx"))
    book = load_workbook(io.BytesIO(archive.read(workbook_name)))
    values = [list(r) for r in book["Pièces jointes"].iter_rows(values_only=True)]
    assert [saved.public_id, name, "application/pdf", len(body), row.sha256] == [
        values[1][0],
        *values[1][2:],
    ]


def test_the_purge_removes_the_files_that_no_row_names_any_more(app, session, login_as):
    from datetime import timedelta

    import sqlalchemy as sa

    from afest.cli import group
    from afest.models import Protocol, ProtocolStatus, utcnow

    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    shared, alone = small_pdf(), photo(300, 200)
    post_with_files(
        tutor,
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-purge"),
        [("grille.pdf", shared), ("seule.jpg", alone)],
    )
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-purge")).one()
    pdf_row, photo_row = attachments.of_sequences(session, [saved.id])[saved.id]
    # the same PDF attached to a sequence of a protocol that stays
    elsewhere = session.exec(select(Sequence).where(Sequence.protocol_id != protocol.id)).first()
    session.add(
        SequenceAttachment(
            sequence_id=elsewhere.id,
            position=99,
            filename="grille.pdf",
            media_type="application/pdf",
            size=pdf_row.size,
            sha256=pdf_row.sha256,
        )
    )
    session.execute(
        sa.update(Protocol)
        .where(Protocol.id == protocol.id)
        .values(status=ProtocolStatus.COMPLETED, ended_at=utcnow() - timedelta(days=365 * 7))
    )
    session.commit()
    with app.app_context():
        store = Store.of(app)
        assert store.exists(photo_row.sha256) and store.exists(pdf_row.sha256)

    result = app.test_cli_runner().invoke(group, ["purge"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (
        session.exec(
            select(SequenceAttachment).where(SequenceAttachment.sequence_id == saved.id)
        ).all()
        == []
    )
    with app.app_context():
        assert not store.exists(photo_row.sha256)  # named by nothing now
        assert store.get(pdf_row.sha256) == shared  # still attached elsewhere


def test_verify_finds_an_attached_file_replaced_or_removed_outside_afest(app, session, login_as):
    from afest.cli import group

    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    post_with_files(
        tutor,
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-verify"),
        [("a.jpg", photo(200, 100)), ("b.jpg", photo(100, 200))],
    )
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-verify")).one()
    first, second = attachments.of_sequences(session, [saved.id])[saved.id]
    session.commit()

    def findings() -> str:
        result = app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)
        return result.output

    assert "attachment" not in findings()
    with app.app_context():
        store = Store.of(app)
        kept = store.get(first.sha256)
        path = store.path(first.sha256)
        store.fs.pipe_file(path, kept[:-1] + b"\0")  # one byte changed
        store.delete(second.sha256)
    try:
        report = findings()
        where = f"(protocol {protocol.id})"
        assert f"attachment #{first.id} {where}: attached file changed" in report
        assert f"attachment #{second.id} {where}: attached file is missing" in report
    finally:
        store.fs.pipe_file(path, kept)


def test_a_pack_whose_file_was_removed_outside_afest_still_downloads_with_a_note(
    app, session, login_as
):
    protocol = demo_protocol(session)
    tutor = login_as(TUTOR)
    body = photo(120, 90)
    post_with_files(
        tutor,
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-gone"),
        [("partie.jpg", body)],
    )
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-gone")).one()
    (row,) = attachments.of_sequences(session, [saved.id])[saved.id]
    with app.app_context():
        store = Store.of(app)
        kept = store.get(row.sha256)
        store.delete(row.sha256)
    try:
        response = login_as("direction@azur-aide.demo").get(
            f"/protocoles/{protocol.public_id}/preuve.zip"
        )
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        name = f"pieces-jointes/{saved.occurred_at:%Y-%m-%d}_{saved.public_id}_1_partie.jpg"
        assert name not in archive.namelist()
        note = archive.read(f"{name}.manquant.txt").decode()
        assert row.sha256 in note and "flask afest verify" in note
    finally:
        with app.app_context():
            store.put(kept)


def test_the_learners_data_export_names_the_files_of_her_sequences(session, login_as):
    protocol = demo_protocol(session)
    post_with_files(
        login_as(TUTOR),
        situation_url(protocol),
        situation_form(session, protocol, client_id="att-export"),
        [("plateau.jpg", photo(160, 120))],
    )
    saved = session.exec(select(Sequence).where(Sequence.client_id == "att-export")).one()
    (row,) = attachments.of_sequences(session, [saved.id])[saved.id]
    learner = login_as(LEARNER)
    me = session.get(User, protocol.learner_id)
    data = learner.get(f"/parcours/{me.public_id}/donnees.json").get_json()
    found = [
        a
        for p in data["protocols"]
        for s in p["sequences"]
        if s["id"] == saved.public_id
        for a in s["attachments"]
    ]
    assert found == [
        {
            "filename": "plateau.jpg",
            "media_type": "image/jpeg",
            "size": row.size,
            "sha256": row.sha256,
        }
    ]
    page = learner.get(f"/parcours/{me.public_id}/donnees").get_data(as_text=True)
    assert "plateau.jpg" in page and "Photos et documents joints" in page
