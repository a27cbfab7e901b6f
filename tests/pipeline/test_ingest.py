"""Intake: good files stored once by their bytes, every bad file, row and stray file reported by name.

Every file is made by `helpers.files` (Pillow, numpy, pypdfium2, or by hand for the hostile ones);
nothing binary is committed. The case store is the real one on a temporary SQLite file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from helpers.batch import COLUMNS, claim_row, put, sha, write_manifest
from helpers.files import (
    encrypted_pdf,
    gif_bytes,
    image_bytes,
    multipage_tiff,
    pdf_bytes,
    png_header_only,
    zip_bytes,
)

from pipeline import files
from pipeline.errors import BadInputError
from pipeline.files import inspect_file, sniff_media_type
from pipeline.ingest import CHINA_TZ, ingest_batch, read_manifest
from pipeline.records import Claim, ClaimType, DocStatus
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    yield s
    s.engine.dispose()


def stored_files(settings: Settings) -> list[Path]:
    root = settings.documents_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- sniffing and single files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (image_bytes("JPEG")[:64], "image/jpeg"),
        (image_bytes("PNG")[:64], "image/png"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (image_bytes("WEBP")[:64], "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\r\n  junk before the header %PDF-1.4\n", "application/pdf"),
        (b"GIF89a\x08\x00\x08\x00", "image/gif"),
        (b"PK\x03\x04\x14\x00\x00\x00", "application/zip"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00OFD.xml", "application/ofd"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"<!DOCTYPE html><html><body>", "text/html"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">', "image/svg+xml"),
        (b'<?xml version="1.0"?>\n<invoice/>', "application/xml"),
        ("门诊发票 金额 123.00\n".encode(), "text/plain"),
        (bytes(range(256)), None),
        (b"", None),
    ],
)
def test_sniff_media_type(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head) == expected


@pytest.mark.parametrize(
    ("name", "data", "media_type", "pages"),
    [
        ("a.jpg", image_bytes("JPEG"), "image/jpeg", 1),
        ("a.png", image_bytes("PNG"), "image/png", 1),
        ("a.tif", image_bytes("TIFF"), "image/tiff", 1),
        ("a.webp", image_bytes("WEBP"), "image/webp", 1),
        ("lossless.webp", image_bytes("WEBP", lossless=True), "image/webp", 1),
        ("three.tif", multipage_tiff(("red", "green", "blue")), "image/tiff", 3),
        ("three.pdf", pdf_bytes(3), "application/pdf", 3),
    ],
)
def test_inspect_file_accepts_good_files(
    tmp_path: Path, settings: Settings, name: str, data: bytes, media_type: str, pages: int
) -> None:
    check = inspect_file(put(tmp_path, name, data), settings)
    assert check.problem is None
    assert (check.media_type, check.page_count, check.size, check.sha256) == (
        media_type, pages, len(data), sha(data),
    )  # fmt: skip


def test_pixel_limits_are_checked_from_the_header_before_decoding(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pillow was asked to open a decompression bomb")

    monkeypatch.setattr(files.Image, "open", no_decoding)
    bomb = inspect_file(put(tmp_path, "bomb.png", png_header_only(30000, 30000)), settings)
    assert bomb.problem is not None and "decompression bomb" in bomb.problem and "30000x30000" in bomb.problem
    small = Settings(data_dir=settings.data_dir, max_image_pixels=1000)
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        check = inspect_file(put(tmp_path, f"x.{fmt}", image_bytes(fmt)), small)
        assert check.problem is not None and "64x48 = 3,072 pixels" in check.problem, fmt


# --- good batches ---------------------------------------------------------------------------------


def test_good_batch_is_stored_with_sniffed_types_and_page_counts(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    batch = tmp_path / "batch-2026-03-01"
    files = {
        "invoice.jpg": (image_bytes("JPEG", seed=1), "image/jpeg", 1),
        "list.png": (image_bytes("PNG", seed=2), "image/png", 1),
        "scan.tiff": (multipage_tiff(("red", "green")), "image/tiff", 2),
        "photo.webp": (image_bytes("WEBP", seed=3), "image/webp", 1),
        "summary.pdf": (pdf_bytes(4), "application/pdf", 4),
        "renamed.jpg": (image_bytes("PNG", seed=4), "image/png", 1),  # wrong extension, fine content
        "身份证.JPG": (image_bytes("JPEG", seed=5), "image/jpeg", 1),
    }
    for name, (data, _, _) in files.items():
        put(batch, name, data)
    write_manifest(batch, [claim_row("C1", list(files)[:4]), claim_row("C2", list(files)[4:])])
    calls: list[tuple[int, int]] = []

    report = ingest_batch(batch, store, settings, progress=lambda done, total: calls.append((done, total)))

    assert (report.claims, report.documents_stored, report.documents_quarantined) == (2, 7, 0)
    assert (report.duplicates, report.unclaimed, report.errors) == (0, [], [])
    assert calls == [(i, 7) for i in range(1, 8)]
    docs = {d.filename: d for c in store.list_claims(report.batch_id) for d in c.documents}
    assert set(docs) == set(files)
    for name, (data, media_type, pages) in files.items():
        doc = docs[name]
        assert (doc.status, doc.problem, doc.media_type, doc.page_count) == (
            DocStatus.STORED, None, media_type, pages,
        ), name  # fmt: skip
        assert (doc.id, doc.size_bytes) == (sha(data), len(data))
        assert store.files.path(doc.id) is not None and store.files.path(doc.id).read_bytes() == data
    claim = store.get_claim("C1")
    assert claim is not None and claim.problems == []
    assert claim.claimant == "张三" and claim.incident_date == dt.date(2026, 2, 20)
    assert claim.submitted_at == dt.datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)


def test_same_bytes_are_stored_once_even_across_claims(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    batch = tmp_path / "b"
    data = image_bytes("JPEG", seed=7)
    for name in ("a.jpg", "copy-of-a.jpg", "C2/again.jpg"):
        put(batch, name, data)
    put(batch, "other.png", image_bytes("PNG", seed=8))
    write_manifest(
        batch, [claim_row("C1", ["a.jpg", "copy-of-a.jpg", "other.png"]), claim_row("C2", ["again.jpg"])]
    )

    report = ingest_batch(batch, store, settings)

    assert (report.documents_stored, report.duplicates) == (2, 2)
    assert len(stored_files(settings)) == 2
    c1, c2 = store.get_claim("C1"), store.get_claim("C2")
    assert c1 is not None and c2 is not None
    assert [d.filename for d in c1.documents] == ["a.jpg", "copy-of-a.jpg", "other.png"]
    assert [d.filename for d in c2.documents] == ["C2/again.jpg"]  # found in the claim's own folder
    assert c1.documents[0].id == c1.documents[1].id == c2.documents[0].id == sha(data)


def test_reingesting_the_same_folder_is_idempotent(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    batch = tmp_path / "b"
    put(batch, "a.jpg", image_bytes("JPEG"))
    put(batch, "bad.jpg", b"<html>not an image</html>")
    write_manifest(batch, [claim_row("C1", ["a.jpg", "bad.jpg"])])

    first = ingest_batch(batch, store, settings)
    files_after_first = stored_files(settings)
    second = ingest_batch(batch, store, settings)

    assert second == first
    assert stored_files(settings) == files_after_first
    [claim] = store.list_claims(first.batch_id)
    assert len(claim.documents) == 2 and len(claim.problems) == 1
    assert store.get_batch(first.batch_id)["summary"] == first.summary()

    write_manifest(
        batch, [claim_row("C1", ["a.jpg"], amount_claimed="12.00")], columns=[*COLUMNS, "amount_claimed"]
    )
    assert ingest_batch(batch, store, settings).batch_id != first.batch_id
    assert first.batch_id.startswith("b-")


def test_documents_found_in_claim_sub_folders(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    batch = tmp_path / "b"
    put(batch, "C1/invoice.jpg", image_bytes("JPEG"))
    put(batch, "C1/pages/list.pdf", pdf_bytes(2))
    put(batch, "C1/.DS_Store", b"\0\0\0\1Bud1")
    put(batch, "C9/orphan.jpg", image_bytes("JPEG", seed=9))
    put(batch, "stray.png", image_bytes("PNG", seed=10))
    (batch / "C1" / "zz-link.jpg").symlink_to(
        put(tmp_path / "outside", "secret.jpg", image_bytes("JPEG", seed=11))
    )
    (batch / "C1" / "zz-dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    write_manifest(batch, [claim_row("C1"), claim_row("C2")], columns=COLUMNS[:-1])

    report = ingest_batch(batch, store, settings)

    c1 = store.get_claim("C1")
    assert c1 is not None and [d.filename for d in c1.documents] == ["C1/invoice.jpg", "C1/pages/list.pdf"]
    assert c1.documents[1].page_count == 2
    assert c1.problems == [
        "C1/zz-dir: points outside the batch folder (a symlink); not read",
        "C1/zz-link.jpg: points outside the batch folder (a symlink); not read",
    ]
    c2 = store.get_claim("C2")
    assert c2 is not None and c2.documents == []
    assert c2.problems == ["C2/: no documents listed and no such folder in the batch"]
    assert report.unclaimed == ["C9/orphan.jpg", "stray.png"]


def test_files_over_the_per_claim_limit_are_named_not_dropped(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    settings = Settings(data_dir=settings.data_dir, max_documents_per_claim=2)
    batch = tmp_path / "b"
    names = [put(batch, f"{i}.jpg", image_bytes("JPEG", seed=i)).name for i in range(3)]
    write_manifest(batch, [claim_row("C1", names)])

    report = ingest_batch(batch, store, settings)

    claim = store.get_claim("C1")
    assert claim is not None and [d.filename for d in claim.documents] == ["0.jpg", "1.jpg"]
    assert claim.problems == [
        "claims.csv row 2: claim C1 has 3 files, more than the limit of 2; only the first 2 were ingested"
    ]
    assert report.unclaimed == []


# --- bad files ------------------------------------------------------------------------------------


def test_every_bad_file_is_named_with_its_reason_and_every_good_file_kept(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    settings = Settings(data_dir=settings.data_dir, max_pdf_pages=3, max_file_bytes=200_000)
    batch = tmp_path / "batch"
    outside = tmp_path / "outside"
    secret = put(outside, "secret.jpg", image_bytes("JPEG", seed=99))
    put(tmp_path, "x.jpg", image_bytes("JPEG", seed=98))  # what ../x.jpg would reach

    good = {
        "ok.jpg": image_bytes("JPEG", seed=1),
        "ok.png": image_bytes("PNG", seed=2),
        "ok.pdf": pdf_bytes(3),
        "png-named.jpg": image_bytes("PNG", seed=3),
    }
    jpeg, png = image_bytes("JPEG", (200, 150), seed=4), image_bytes("PNG", (200, 150), seed=5)
    webp = image_bytes("WEBP", (200, 150), seed=6)
    bad_bytes = {
        "empty.jpg": b"",
        "cut.jpg": jpeg[: len(jpeg) // 2],
        "cut-end.jpg": jpeg[:-2],
        "cut.png": png[: len(png) // 2],
        "no-iend.png": png[:-12],
        "cut.webp": webp[: len(webp) // 2],
        "page.jpg": b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>",
        "drawing.jpg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        "notes.jpg": "发票号码 12345678\n金额 100.00\n".encode(),
        "bomb.png": png_header_only(30000, 30000),
        "dense.png": png_header_only(15000, 15000),
        "wide.png": png_header_only(25000, 1),
        "corrupt.pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog garbage\n%%EOF\n",
        "cut.pdf": pdf_bytes(2)[:-10],
        "locked.pdf": encrypted_pdf(b"secret"),
        "owner-locked.pdf": encrypted_pdf(b""),
        "long.pdf": pdf_bytes(5),
        "big.png": image_bytes("PNG", (400, 300), seed=7),
        "anim.gif": gif_bytes(),
        "archive.zip": zip_bytes(),
        "random.bin": bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8)),
    }
    expected = {
        "empty.jpg": "empty file (0 bytes)",
        "cut.jpg": "truncated JPEG (image data ends early)",
        "cut-end.jpg": "truncated JPEG (image data ends early)",
        "cut.png": "truncated PNG (image data ends early)",
        "no-iend.png": "truncated PNG (image data ends early)",
        "cut.webp": "truncated WebP (image data ends early)",
        "page.jpg": "unsupported file type: an HTML page (text/html)",
        "drawing.jpg": "unsupported file type: an SVG drawing (image/svg+xml)",
        "notes.jpg": "unsupported file type: a text file (text/plain)",
        "bomb.png": "PNG too large: header says 30000x30000 pixels, over the limit of 20000 per side",
        "dense.png": "header says 15000x15000 = 225,000,000 pixels, over the limit of 80,000,000",
        "wide.png": "PNG too large: header says 25000x1 pixels, over the limit of 20000 per side",
        "corrupt.pdf": "corrupt PDF (not a readable PDF structure)",
        "cut.pdf": "truncated PDF (no %%EOF marker at the end)",
        "locked.pdf": "password-protected PDF",
        "owner-locked.pdf": "encrypted PDF (opens without a password",
        "long.pdf": "PDF has 5 pages, more than the limit of 3",
        "big.png": "file too large (",
        "anim.gif": "unsupported file type: a GIF image (image/gif)",
        "archive.zip": "unsupported file type: a ZIP archive (application/zip)",
        "random.bin": "unrecognised file type",
    }
    assert set(expected) == set(bad_bytes) and len(good["ok.pdf"]) < 200_000 < len(bad_bytes["big.png"])
    for name, data in {**good, **bad_bytes}.items():
        put(batch, name, data)
    (batch / "escape.jpg").symlink_to(secret)
    (batch / "inside-link.jpg").symlink_to(batch / "ok.jpg")
    unreadable_names = {
        "../x.jpg": "path leaves the batch folder ('..' is not allowed); not read",
        str(secret): "absolute paths are not allowed",
        "escape.jpg": "points outside the batch folder (a symlink); not read",
        "missing.jpg": "listed but not found in the batch folder",
    }
    names = [*good, "inside-link.jpg", *bad_bytes, *unreadable_names]
    write_manifest(batch, [claim_row("C1", names[:12]), claim_row("C2", names[12:])])

    report = ingest_batch(batch, store, settings)

    claims = {c.claim_id: c for c in store.list_claims(report.batch_id)}
    problems = [p for c in claims.values() for p in c.problems]
    docs = {d.filename: d for c in claims.values() for d in c.documents}
    for name, reason in {**expected, **unreadable_names}.items():
        matching = [p for p in problems if p.startswith(f"{name}: ")]
        assert len(matching) == 1 and reason in matching[0], (name, matching)
    assert len(problems) == len(expected) + len(unreadable_names)
    for name, reason in expected.items():  # bad bytes are kept, in quarantine, with the reason
        doc = docs[name]
        assert doc.status is DocStatus.QUARANTINED and doc.problem is not None and reason in doc.problem
        quarantined = settings.quarantine_dir / doc.id[:2] / doc.id
        assert quarantined.read_bytes() == bad_bytes[name]
        assert store.files.path(doc.id) is None
    for name in unreadable_names:  # never read, so never copied
        assert name not in docs
    outside_shas = {sha(secret.read_bytes()), sha((tmp_path / "x.jpg").read_bytes())}
    assert not outside_shas & {p.name for p in settings.data_dir.rglob("*")}
    for name, data in good.items():
        assert docs[name].status is DocStatus.STORED and store.files.path(sha(data)) is not None
    assert docs["inside-link.jpg"].status is DocStatus.STORED and docs["inside-link.jpg"].id == sha(
        good["ok.jpg"]
    )
    assert docs["png-named.jpg"].media_type == "image/png"
    assert report.documents_stored == len(good)
    assert report.documents_quarantined == len(expected)
    assert report.duplicates == 1  # inside-link.jpg is ok.jpg again


# --- the manifest ---------------------------------------------------------------------------------


def test_missing_required_column_is_a_bad_input_error(tmp_path: Path) -> None:
    write_manifest(tmp_path, [claim_row("C1")], columns=["claim_id", "claimant", "incident_date"])
    with pytest.raises(BadInputError) as err:
        read_manifest(tmp_path)
    assert err.value.source.endswith("claims.csv")
    assert "missing required column(s): policy_number, submitted_at, channel" in str(err.value)


def test_gbk_and_bom_manifests_are_read(tmp_path: Path) -> None:
    rows = [claim_row("C1", ["发票.jpg"], claimant="李四", claim_type="门诊")]
    columns = [*COLUMNS, "claim_type"]
    for encoding in ("gbk", "utf-8-sig", "utf-8"):
        write_manifest(tmp_path, rows, columns, encoding=encoding)
        [row] = read_manifest(tmp_path)
        assert (row.claimant, row.documents, row.claim_type) == ("李四", ["发票.jpg"], "门诊"), encoding


def test_undecodable_manifest_is_a_bad_input_error(tmp_path: Path) -> None:
    (tmp_path / "claims.csv").write_bytes(
        b",".join(c.encode() for c in COLUMNS) + b"\r\nC1,\xff\xfe\x80,x\r\n"
    )
    with pytest.raises(
        BadInputError, match=r"claims\.csv: cannot decode the text: it is neither UTF-8 nor GBK"
    ):
        read_manifest(tmp_path)


def test_no_manifest_or_two_manifests(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"no claims\.csv or claims\.json"):
        read_manifest(tmp_path)
    write_manifest(tmp_path, [claim_row("C1")])
    (tmp_path / "claims.json").write_text("[]")
    with pytest.raises(BadInputError, match="keep only one"):
        read_manifest(tmp_path)


def test_extra_columns_are_ignored(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    put(tmp_path / "b", "a.jpg", image_bytes("JPEG"))
    rows = [claim_row("C1", ["a.jpg"], remarks="加急", agent="王五")]
    write_manifest(tmp_path / "b", rows, columns=["remarks", *COLUMNS, "agent"])
    report = ingest_batch(tmp_path / "b", store, settings)
    assert (report.claims, report.errors, report.documents_stored) == (1, [], 1)
    claim = store.get_claim("C1")
    assert claim is not None and claim.problems == []


def test_bad_rows_are_reported_never_dropped(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    batch = tmp_path / "b"
    for seed, name in enumerate(("a.jpg", "b.jpg", "c.jpg", "d.jpg")):
        put(batch, name, image_bytes("JPEG", seed=seed))
    columns = [*COLUMNS, "amount_claimed", "claim_type", "claimant_id_number"]
    rows = [
        claim_row("C1", ["a.jpg"], amount_claimed="¥1,234.5", claim_type="住院", submitted_at="2026/3/1"),
        claim_row("C2", ["b.jpg"], incident_date="2026-13-45"),  # row 3: no claim can be built
        claim_row("", ["c.jpg"]),  # row 4: no claim id
        claim_row("C3", ["d.jpg"], amount_claimed="-12.00", claim_type="牙科", claimant_id_number="x" * 40),
        claim_row("C1", ["a.jpg"]),  # row 6: duplicate id
        claim_row("C4", [], incident_date="2026-03-05", submitted_at="2026-03-01T10:00:00+08:00"),
    ]
    write_manifest(batch, rows, columns)

    report = ingest_batch(batch, store, settings)

    assert [(e.row, e.claim_id) for e in report.errors] == [(3, "C2"), (4, None), (6, "C1")]
    assert "claims.csv row 3: incident_date '2026-13-45' is not a date" in report.errors[0].message
    assert "claims.csv row 4: claim_id is missing" in report.errors[1].message
    assert "already appears on row 2" in report.errors[2].message
    assert store.get_claim("C2") is None
    assert report.unclaimed == ["b.jpg", "c.jpg"]
    c1 = store.get_claim("C1")
    assert c1 is not None and c1.problems == []
    assert (c1.amount_claimed, c1.claim_type) == (Decimal("1234.50"), ClaimType.INPATIENT)
    assert c1.submitted_at == dt.datetime(2026, 3, 1, tzinfo=CHINA_TZ)
    c3 = store.get_claim("C3")
    assert c3 is not None and (c3.amount_claimed, c3.claim_type, c3.claimant_id_number) == (None, None, None)
    assert c3.problems == [
        "claims.csv row 5: claimant_id_number 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is too long",
        "claims.csv row 5: claim_type '牙科' is not one of outpatient, inpatient, accident, critical_illness",
        "claims.csv row 5: amount_claimed '-12.00' is negative",
    ]
    c4 = store.get_claim("C4")
    assert c4 is not None and c4.problems == [
        "claims.csv row 7: incident_date 2026-03-05 is after submitted_at",
        "C4/: no documents listed and no such folder in the batch",
    ]
    summary = report.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert set(summary["problems"]) == {"C3", "C4"} and len(summary["errors"]) == 3


def test_json_manifest(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    batch = tmp_path / "b"
    put(batch, "a.jpg", image_bytes("JPEG"))
    item = {**claim_row("C1"), "documents": ["a.jpg"], "amount_claimed": 88.8}
    (batch / "claims.json").write_text(json.dumps({"claims": [item, "oops"]}, ensure_ascii=False))

    report = ingest_batch(batch, store, settings)

    claim = store.get_claim("C1")
    assert isinstance(claim, Claim) and claim.amount_claimed == Decimal("88.80")
    assert [d.filename for d in claim.documents] == ["a.jpg"]
    assert [e.message.split(";")[0] for e in report.errors] == ["claims.json item 2: not an object"]
    assert report.manifest == "claims.json"


def test_a_broken_pdf_after_a_locked_one_is_not_called_locked(tmp_path: Path, settings: Settings) -> None:
    """PDFium's last error outlives its file: a PDF with no pages reported the locked one's error."""
    locked = inspect_file(put(tmp_path, "locked.pdf", encrypted_pdf(b"secret")), settings)
    assert "password-protected" in str(locked.problem)
    from helpers.files import pages_pdf

    empty = pages_pdf(0)
    check = inspect_file(put(tmp_path, "empty.pdf", empty), settings)
    assert check.problem and "password" not in check.problem, check.problem
