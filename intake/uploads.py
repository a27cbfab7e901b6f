"""What a multipart upload brings: the claim's form fields and its files, judged before anything is stored.

The form is read as a manifest row and judged by the batch's own rules (`pipeline.ingest.claim_from_row`);
every file by the batch's own byte checks (`pipeline.files.inspect_file`: type sniffed from the bytes,
size, pixels, pages, truncation, encryption), the count against the claim's limit. The first problem
found is refused with a 4xx naming the file or field.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from intake.errors import IntakeError
from pipeline.files import FileCheck, inspect_file
from pipeline.ingest import ManifestRow, Received, claim_from_row
from pipeline.records import Claim
from pipeline.settings import Settings

__all__ = ["FORM_FIELDS", "Upload", "check_uploads", "claim_from_form", "safe_filename"]

FORM_FIELDS = (
    "policy_number",
    "claimant",
    "incident_date",
    "claimant_id_number",
    "insured",
    "claim_type",
    "amount_claimed",
)
"""The claim's metadata as the form names it (the manifest's columns, less what the API knows)."""


@dataclass
class Upload:
    """A file as received: the name the client gave it and where its bytes were spooled."""

    filename: str
    path: Path


def safe_filename(raw: str | None, n: int) -> str:
    """The name shown to people: no folders, no control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = PureWindowsPath(PurePosixPath(name).name).name  # "../../a.jpg" or "C:\\x\\a.jpg" -> "a.jpg"
    name = "".join(c for c in name if c.isprintable()).strip(" .")
    if not name:
        name = f"document_{n}"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _file_error(name: str, problem: str) -> IntakeError:
    """The 4xx for a file `inspect_file` refused, by the kind of problem its message states."""
    p = problem
    if p.startswith("empty file"):
        error, status = "empty_file", 422
    elif p.startswith("file too large"):
        error, status = "file_too_large", 413
    elif p.startswith(("unrecognised file type", "unsupported file type")):
        error, status = "unsupported_file_type", 415
    elif "password-protected" in p or p.startswith("encrypted PDF"):
        error, status = "encrypted_pdf", 422
    elif "more than the limit" in p and "pages" in p:
        error, status = "too_many_pages", 422
    elif "too large" in p:  # pixel limits: a decompression bomb or an absurd scan
        error, status = "image_too_large", 422
    elif p.startswith("truncated"):
        error, status = "truncated_file", 422
    else:
        error, status = "corrupt_file", 422
    return IntakeError(error, f"{name}: {problem}", status, file=name)


def check_uploads(uploads: list[Upload], settings: Settings, *, already: int = 0) -> list[Received]:
    """Every file named and checked, ready to register; the first problem is an IntakeError."""
    if not uploads:
        raise IntakeError(
            "no_documents",
            "no documents: attach the claim's files as multipart parts named `documents`",
            422,
            field="documents",
        )
    limit = settings.max_documents_per_claim
    if already + len(uploads) > limit:
        have = f" (the claim already has {already})" if already else ""
        raise IntakeError(
            "too_many_documents",
            f"{len(uploads)} files sent{have}, more than the limit of {limit} per claim",
            422,
            field="documents",
        )
    names: list[str] = []
    for n, up in enumerate(uploads, 1):
        name = safe_filename(up.filename, n)
        if name in names:
            raise IntakeError(
                "duplicate_filename",
                f"{name}: sent twice in one request; give each file its own name",
                422,
                file=name,
            )
        names.append(name)
    out = []
    for name, up in zip(names, uploads, strict=True):
        check: FileCheck = inspect_file(up.path, settings)
        if not check.ok:
            raise _file_error(name, check.problem or "not acceptable")
        out.append(Received(name, up.path, check))
    return out


def claim_from_form(form: dict[str, str | None], claim_id: str, channel: str, now: dt.datetime) -> Claim:
    """The claim the form describes, judged by the batch's own rules; any problem is a 422."""
    row = ManifestRow(
        source="form",
        row=1,
        claim_id=claim_id,
        submitted_at=now.isoformat(),
        channel=channel,
        **{k: (form.get(k) or "").strip() or None for k in FORM_FIELDS},
    )
    claim, problems = claim_from_row(row)
    if problems or claim is None:
        cleaned = [p.removeprefix(f"{row.where}: ") for p in problems] or ["the claim's fields are invalid"]
        first = cleaned[0].split(" ", 1)[0]
        raise IntakeError(
            "invalid_metadata",
            "; ".join(cleaned),
            422,
            field=first if first in FORM_FIELDS else None,
        )
    return claim
