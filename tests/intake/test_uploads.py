"""An upload judged before anything is stored: names made safe, every file checked by its bytes, the
form by the batch's own rules; the first problem refused with a 4xx naming the file or field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers.files import encrypted_pdf, gif_bytes, image_bytes, pdf_bytes

from intake.errors import IntakeError
from intake.uploads import FORM_FIELDS, Upload, check_uploads, claim_from_form, safe_filename
from pipeline.ingest import CHINA_TZ
from pipeline.records import ClaimType
from pipeline.settings import Settings

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=CHINA_TZ)


def upload(tmp_path: Path, name: str, data: bytes) -> Upload:
    path = tmp_path / f"spool-{len(list(tmp_path.glob('spool-*')))}"
    path.write_bytes(data)
    return Upload(filename=name, path=path)


@pytest.mark.parametrize(
    ("raw", "n", "safe"),
    [
        ("../../etc/发票.jpg", 1, "发票.jpg"),
        ("C:\\Users\\x\\清单.png", 2, "清单.png"),
        ("a\x00b\n.jpg", 1, "ab.jpg"),
        ("", 3, "document_3"),
        (None, 4, "document_4"),
        (" .. ", 5, "document_5"),
    ],
)
def test_safe_filename_keeps_only_a_printable_name(raw: str | None, n: int, safe: str) -> None:
    assert safe_filename(raw, n) == safe


def test_a_long_name_is_cut_to_200_characters_keeping_its_extension() -> None:
    name = safe_filename("票" * 300 + ".jpeg", 1)
    assert len(name) == 200 and name.endswith(".jpeg")


def test_good_files_are_received_with_their_checks(tmp_path: Path, settings: Settings) -> None:
    files = [
        upload(tmp_path, "invoice.jpg", image_bytes("JPEG", seed=1)),
        upload(tmp_path, "list.pdf", pdf_bytes(2)),
    ]
    received = check_uploads(files, settings)
    assert [r.filename for r in received] == ["invoice.jpg", "list.pdf"]
    assert [r.check.media_type for r in received] == ["image/jpeg", "application/pdf"]
    assert all(r.check.ok for r in received)


@pytest.mark.parametrize(
    ("data", "error", "status"),
    [
        (b"", "empty_file", 422),
        (gif_bytes(), "unsupported_file_type", 415),
        (encrypted_pdf(b"secret"), "encrypted_pdf", 422),
        (image_bytes("JPEG", seed=1)[:300], "truncated_file", 422),
    ],
)
def test_a_bad_file_is_refused_by_name(
    tmp_path: Path, settings: Settings, data: bytes, error: str, status: int
) -> None:
    files = [upload(tmp_path, "ok.jpg", image_bytes("JPEG", seed=1)), upload(tmp_path, "bad.bin", data)]
    with pytest.raises(IntakeError) as caught:
        check_uploads(files, settings)
    assert (caught.value.error, caught.value.status, caught.value.file) == (error, status, "bad.bin")
    assert caught.value.message.startswith("bad.bin: ")


def test_no_files_too_many_and_the_same_name_twice_are_refused(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(IntakeError) as caught:
        check_uploads([], settings)
    assert (caught.value.error, caught.value.field) == ("no_documents", "documents")
    one = [upload(tmp_path, "a.jpg", image_bytes("JPEG", seed=1))]
    with pytest.raises(IntakeError) as caught:
        check_uploads(one, settings, already=settings.max_documents_per_claim)
    assert caught.value.error == "too_many_documents" and "already has" in caught.value.message
    twice = [*one, upload(tmp_path, "dir/a.jpg", image_bytes("JPEG", seed=2))]
    with pytest.raises(IntakeError) as caught:
        check_uploads(twice, settings)
    assert (caught.value.error, caught.value.file) == ("duplicate_filename", "a.jpg")


def test_the_form_becomes_the_claim_by_the_batchs_rules() -> None:
    form = {"policy_number": " P-1 ", "claimant": "张三", "incident_date": "2026/2/20", "claim_type": "门诊"}
    claim = claim_from_form(form, "APP-1", "app", NOW)
    assert (claim.claim_id, claim.policy_number, claim.channel) == ("APP-1", "P-1", "app")
    assert claim.incident_date == dt.date(2026, 2, 20) and claim.claim_type is ClaimType.OUTPATIENT
    assert claim.submitted_at == NOW
    assert set(form) <= set(FORM_FIELDS)


def test_a_bad_form_is_a_422_naming_the_first_field() -> None:
    with pytest.raises(IntakeError) as caught:
        claim_from_form(
            {"policy_number": "P-1", "claimant": "张三", "incident_date": "soon"}, "APP-1", "app", NOW
        )
    assert (caught.value.error, caught.value.status, caught.value.field) == (
        "invalid_metadata",
        422,
        "incident_date",
    )
    assert caught.value.message.startswith("incident_date ")  # no "form row 1: " in front
