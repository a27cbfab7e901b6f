"""Intake (受理): a claim and its files enter the case store, from a batch folder or the intake API.

`register_claim` is the one way in for both doors: it stores a claim's files content-addressed
(same bytes, stored once) or copies them to quarantine with the reason on the claim, saves the
claim with its documents, and files its policy. The claim itself is built from a manifest row by
`claim_from_row` (`pipeline.manifest`); the intake API reads its form as such a row.

A batch (`ingest_batch`) is a folder with `claims.csv` (or `claims.json`), one row per claim, and
the claims' files, either named in the row's `documents` column (`a.jpg;b.pdf`) or kept in a
sub-folder named after the claim id. Every file is judged by its bytes, never by its name
(`pipeline.files`): the type is sniffed from the magic bytes; size and pixel counts are read from
the header before anything is decoded (a 30000x30000 PNG is a decompression bomb, not a scan);
then images are fully decoded and PDFs opened, so truncated, corrupt and encrypted files are caught
here and not deep inside OCR.

Nothing is dropped silently. Good files are stored; bad ones are quarantined; a bad row is an error
in the report; a file no claim lists is reported as unclaimed. Only a manifest that cannot be read
at all raises.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PField

from pipeline.files import FileCheck, inspect_file, sha256_file
from pipeline.manifest import CHINA_TZ, ManifestRow, claim_from_row, load_manifest, read_manifest
from pipeline.policies import POLICIES_FILE, read_policies
from pipeline.records import Claim, DocStatus, DocType, Document, Policy
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore

__all__ = [
    "CHINA_TZ",
    "ClaimSummary",
    "IngestReport",
    "ManifestRow",
    "Received",
    "RowError",
    "claim_from_row",
    "ingest_batch",
    "read_manifest",
    "register_claim",
]

log = logging.getLogger(__name__)

COMPANION_NAMES = (POLICIES_FILE,)
"""Reference data that may travel with a batch (the policy extract); not documents, not unclaimed."""

_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}  # with dotfiles: litter from Explorer and Finder


# --- records ------------------------------------------------------------------------------------


class RowError(BaseModel):
    """A manifest row that produced no stored claim, and why."""

    source: str
    row: int
    claim_id: str | None = None
    message: str


class ClaimSummary(BaseModel):
    claim_id: str
    row: int
    documents: int
    stored: int
    quarantined: int
    problems: list[str] = PField(default_factory=list)


class IngestReport(BaseModel):
    """What a batch produced; the same folder ingested twice gives the same report."""

    batch_id: str
    folder: str
    manifest: str
    claims: int = 0
    documents_stored: int = PField(default=0, description="distinct files written to the document store")
    documents_quarantined: int = PField(default=0, description="distinct files copied to quarantine")
    duplicates: int = PField(default=0, description="files whose bytes were already seen in this batch")
    unclaimed: list[str] = PField(default_factory=list, description="files in the folder no claim lists")
    errors: list[RowError] = PField(default_factory=list)
    claim_summaries: list[ClaimSummary] = PField(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """A compact, JSON-ready view for `claims ingest --json`: counts, then only what went wrong."""
        return {
            "batch_id": self.batch_id,
            "folder": self.folder,
            "manifest": self.manifest,
            "claims": self.claims,
            "documents_stored": self.documents_stored,
            "documents_quarantined": self.documents_quarantined,
            "duplicates": self.duplicates,
            "unclaimed": list(self.unclaimed),
            "errors": [e.message for e in self.errors],
            "problems": {c.claim_id: list(c.problems) for c in self.claim_summaries if c.problems},
        }


# --- registering a claim -----------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A file a claim brought, judged: the name people see, where its bytes are, what the check found.

    `problem` is what the claim records when the check refused the file (by default its name and the
    check's words); `doc_type` is known up front only for a hospital's structured parts.
    """

    filename: str
    path: Path
    check: FileCheck
    doc_type: DocType | None = None
    problem: str | None = None

    @property
    def refusal(self) -> str | None:
        """Why the file goes to quarantine; None when it is stored."""
        if self.check.ok:
            return None
        return self.problem or f"{self.filename}: {self.check.problem}"


def register_claim(
    store: CaseStore,
    claim: Claim,
    files: Sequence[Received] = (),
    *,
    batch_id: str | None = None,
    policy: Policy | None = None,
) -> Claim:
    """Store a claim's files and save the claim with them: the one way in, for a batch row or an upload.

    A file its check accepted goes to the content-addressed store, a refused one to quarantine with
    its reason; either way it becomes one of the claim's documents, after those it already has. The
    policy, when known, is filed under `Stage.POLICY`. Idempotent: files are kept by their hash and
    the claim, its documents and its policy are upserted. Returns the claim as saved.
    """
    documents = []
    for file in files:
        refusal = file.refusal
        if refusal is None:
            store.files.put(file.path, file.check.sha256, file.check.media_type)
        else:
            store.files.quarantine(file.path, file.check.sha256, refusal)
        documents.append(
            Document(
                id=file.check.sha256,
                claim_id=claim.claim_id,
                filename=file.filename,
                media_type=file.check.media_type or "application/octet-stream",
                size_bytes=file.check.size,
                page_count=file.check.page_count,
                status=DocStatus.STORED if refusal is None else DocStatus.QUARANTINED,
                problem=refusal,
                doc_type=file.doc_type,
            )
        )
    claim = claim.model_copy(update={"documents": [*claim.documents, *documents]})
    store.save_claim(claim, batch_id=batch_id)
    if policy is not None:
        store.put_result(claim.claim_id, Stage.POLICY, policy)
    return claim


# --- finding a claim's files --------------------------------------------------------------------


@dataclass
class _Entry:
    """A file a claim refers to: where it is if it may be read, else why not."""

    name: str
    path: Path | None = None
    problem: str | None = None


MAX_NAME_BYTES = 255
"""What Linux and Windows file systems allow for one name; a longer name cannot be a file here."""


def _unsafe_name(name: str) -> str | None:
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("\\"):
        return "absolute paths are not allowed (name the file relative to the batch folder); not read"
    if ".." in windows.parts:
        return "path leaves the batch folder ('..' is not allowed); not read"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "the name holds control characters (a NUL or a line break?); not read"
    longest = max((len(part.encode("utf-8", "surrogateescape")) for part in windows.parts), default=0)
    if longest > MAX_NAME_BYTES:
        return f"name too long ({longest} bytes in one part; file systems allow {MAX_NAME_BYTES}); not read"
    return None


def _shown(name: str, limit: int = 200) -> str:
    """A file name fit for messages, the case store and a person's screen.

    Names a Chinese Windows zip wrote in GBK arrive as undecodable bytes (surrogates) and are
    decoded as GBK; invisible and control characters (a right-to-left override makes
    `invoice<RLO>gpj.exe` look like `invoiceexe.jpg`) are written out as `\\u202e`.
    """
    if any("\udc80" <= c <= "\udcff" for c in name):
        raw = os.fsencode(name)
        try:
            name = raw.decode("gb18030")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
    name = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in name)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _same_name(a: str, b: str) -> bool:
    """Names a person would call the same: Unicode forms (macOS writes NFD) and case aside."""
    return unicodedata.normalize("NFC", a).casefold() == unicodedata.normalize("NFC", b).casefold()


_NOT_FOUND = "listed but not found in the batch folder"


def _resolve(root: Path, relative: str) -> _Entry:
    """The real path of `root/relative`, refusing anything that ends up outside the batch folder.

    A name not found as spelt is looked for once more among its folder's files in another Unicode
    form or case (`发票.JPG` for `发票.jpg`), if exactly one file matches.
    """
    try:
        resolved = (root / relative).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return _Entry(relative, problem="cannot be resolved (a symlink loop); not read")
    except ValueError as exc:  # a NUL the name checks did not see
        return _Entry(relative, problem=f"not a usable file name ({exc}); not read")
    if not resolved.is_relative_to(root):
        return _Entry(relative, problem="points outside the batch folder (a symlink); not read")
    try:
        if not resolved.exists():
            variant = _variant(root, relative)
            if variant is None:
                return _Entry(relative, problem=_NOT_FOUND)
            found = _resolve(root, variant)
            found.name = relative  # as the sender listed it
            return found
        if not resolved.is_file():
            return _Entry(relative, problem="not a regular file")
    except OSError as exc:  # a name too long for the file system, a folder we may not read
        return _Entry(relative, problem=f"cannot be looked up ({exc.strerror or exc}); not read")
    return _Entry(relative, path=resolved)


def _variant(root: Path, relative: str) -> str | None:
    """The one file in `relative`'s folder whose name is `relative`'s in another form or case."""
    parent, _, base = relative.rpartition("/")
    folder = root / parent if parent else root
    try:
        if not folder.resolve().is_relative_to(root) or not folder.is_dir():
            return None
        matches = [n for n in os.listdir(folder) if n != base and _same_name(_shown(n), base)]
    except (OSError, ValueError, RuntimeError):
        return None
    return (f"{parent}/{matches[0]}" if parent else matches[0]) if len(matches) == 1 else None


def _listed_entries(root: Path, row: ManifestRow, claim_id: str) -> list[_Entry]:
    entries: list[_Entry] = []
    seen: set[str] = set()
    for raw in row.documents or []:
        name = raw.replace("\\", "/")
        if name in seen:
            continue
        seen.add(name)
        if (problem := _unsafe_name(raw)) is not None:
            entries.append(_Entry(name, problem=problem))
            continue
        entry = _resolve(root, name)
        if entry.problem == _NOT_FOUND and _unsafe_name(claim_id) is None:
            in_claim_folder = _resolve(root, f"{claim_id}/{name}")  # names may be relative to C123/
            if in_claim_folder.path is not None:
                entry = in_claim_folder
        entries.append(entry)
    return entries


def _folder_entries(root: Path, claim_id: str) -> list[_Entry]:
    if _unsafe_name(claim_id) is not None or claim_id == "." or "/" in claim_id or "\\" in claim_id:
        return [_Entry(claim_id, problem="claim_id cannot name a folder; list the files in `documents`")]
    folder = root / claim_id
    if not folder.is_dir():
        return [_Entry(f"{claim_id}/", problem="no documents listed and no such folder in the batch")]
    if not folder.resolve().is_relative_to(root):
        return [_Entry(f"{claim_id}/", problem="points outside the batch folder (a symlink); not read")]
    entries = [_resolve(root, rel) for rel in _walk(root, folder)]
    if not entries:
        return [_Entry(f"{claim_id}/", problem="the claim's folder holds no files")]
    return entries


def _walk(root: Path, top: Path) -> list[str]:
    """Relative names of the files under `top`, sorted, without litter and without following links."""
    names = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        here = Path(dirpath)
        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]  # listed, never entered
        for name in filenames + linked_dirs:
            if not name.startswith(".") and name.lower() not in _IGNORED_NAMES:
                names.append((here / name).relative_to(root).as_posix())
    return sorted(names)


# --- the batch ----------------------------------------------------------------------------------


def _batch_id(folder: Path, manifest: bytes) -> str:
    slug = re.sub(r"[^\w.-]+", "-", folder.name).strip("-.")[:64] or "batch"
    return f"{slug}-{hashlib.sha256(manifest).hexdigest()[:12]}"


@dataclass
class _Plan:
    """A manifest row that builds a claim, the files it names (up to the limit) and its problems."""

    row: ManifestRow
    claim: Claim
    entries: list[_Entry]
    problems: list[str]


def ingest_batch(
    folder: Path,
    store: CaseStore,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Validate, store and quarantine a batch folder's files, save its claims with the policies of
    the batch's extract (`policies.csv`), and report.

    Idempotent: the batch id comes from the folder name and the manifest's hash, files are stored by
    their hash and claims are upserted, so ingesting the same folder again changes nothing.
    `progress(done, total)` is called after each file.
    """
    folder = Path(folder)
    manifest_path, manifest_bytes, rows = load_manifest(folder)
    root = folder.resolve()
    batch_id = _batch_id(root, manifest_bytes)
    report = IngestReport(batch_id=batch_id, folder=str(root), manifest=manifest_path.name)
    log.info("ingesting batch %s: %d rows from %s", batch_id, len(rows), manifest_path)
    store.start_batch(batch_id, str(root))

    # first every row and its files, so progress knows the total and ids are checked across rows
    plans, claimed = _plan(rows, root, settings, report)
    claimed.add(manifest_path.name)
    total = sum(len(plan.entries) for plan in plans)
    done = 0
    seen: dict[str, FileCheck] = {}
    for plan in plans:
        received: list[Received] = []
        for entry in plan.entries:
            file, problem = _judge(entry, plan.claim.claim_id, settings, seen, report)
            if file is not None:
                received.append(_named_apart(file, received))
            if problem is not None:
                plan.problems.append(problem)
            done += 1
            if progress is not None:
                progress(done, total)
        claim = plan.claim.model_copy(update={"problems": [*plan.claim.problems, *plan.problems]})
        claim = register_claim(store, claim, received, batch_id=batch_id)
        report.claims += 1
        report.claim_summaries.append(
            ClaimSummary(
                claim_id=claim.claim_id,
                row=plan.row.row,
                documents=len(claim.documents),
                stored=sum(d.status is DocStatus.STORED for d in claim.documents),
                quarantined=sum(d.status is DocStatus.QUARANTINED for d in claim.documents),
                problems=claim.problems,
            )
        )

    report.unclaimed = [
        _shown(rel) for rel in _walk(root, root) if rel not in claimed and rel not in COMPANION_NAMES
    ]
    for rel in report.unclaimed:
        log.warning("%s: in the batch folder but listed by no claim", rel)
    store.finish_batch(batch_id, report.summary())
    # the policy extract that travels with the batch, read once every claim is safely stored: a bad
    # row there is the extract's error (BadInputError naming the file), never a lost claim
    policies = read_policies(root)
    for claim in store.list_claims(batch_id=batch_id):
        policy = policies.get(claim.policy_number)
        if policy is not None:
            store.put_result(claim.claim_id, Stage.POLICY, policy)
    log.info(
        "batch %s: %d claims, %d stored, %d quarantined, %d duplicates, %d unclaimed, %d row errors",
        batch_id, report.claims, report.documents_stored, report.documents_quarantined,
        report.duplicates, len(report.unclaimed), len(report.errors),
    )  # fmt: skip
    return report


def _plan(
    rows: list[ManifestRow], root: Path, settings: Settings, report: IngestReport
) -> tuple[list[_Plan], set[str]]:
    """The claims the rows build with their files, and every name some claim lists; bad rows reported."""
    plans: list[_Plan] = []
    claimed: set[str] = set()
    first_row: dict[str, int] = {}
    for row in rows:
        claim, problems = claim_from_row(row)
        if claim is None:
            message = "; ".join(problems) + " (no claim stored; its files count as unclaimed)"
            report.errors.append(
                RowError(source=row.source, row=row.row, claim_id=row.claim_id, message=message)
            )
            log.warning("%s", message)
            continue
        if claim.claim_id in first_row:
            message = (
                f"{row.where}: claim_id {claim.claim_id!r} already appears on row"
                f" {first_row[claim.claim_id]}; this row was not ingested"
            )
            if problems:  # an invisible character removed from the id is why two rows met
                message = "; ".join([message, *problems])
            report.errors.append(
                RowError(source=row.source, row=row.row, claim_id=claim.claim_id, message=message)
            )
            log.warning("%s", message)
            continue
        first_row[claim.claim_id] = row.row
        if row.documents is not None:
            entries = _listed_entries(root, row, claim.claim_id)
        else:
            entries = _folder_entries(root, claim.claim_id)
        extra: list[str] = []
        limit = settings.max_documents_per_claim
        if len(entries) > limit:
            extra.append(
                f"{row.where}: claim {claim.claim_id} has {len(entries)} files, more than the limit of"
                f" {limit}; only the first {limit} were ingested"
            )
        for entry in entries:
            claimed.add(entry.name)
            if entry.path is not None:
                claimed.add(entry.path.relative_to(root).as_posix())
        plans.append(_Plan(row, claim, entries[:limit], extra))
    return plans, claimed


def _named_apart(file: Received, received: list[Received]) -> Received:
    """Two files shown alike (GBK and UTF-8 names, or names cut short) stay two documents."""
    taken = {f.filename for f in received}
    n, name = 1, file.filename
    while name in taken:
        n += 1
        name = f"{file.filename} ({n})"
    return replace(file, filename=name)


def _judge(
    entry: _Entry,
    claim_id: str,
    settings: Settings,
    seen: dict[str, FileCheck],
    report: IngestReport,
) -> tuple[Received | None, str | None]:
    """Check one file once per batch (by hash) and count it; returns it as received, and its problem."""
    shown = _shown(entry.name)
    if entry.path is None:
        return None, f"{shown}: {entry.problem}"
    try:
        sha256 = sha256_file(entry.path)
        check = seen.get(sha256)
        if check is None:
            check = inspect_file(entry.path, settings, sha256)
    except OSError as exc:  # unreadable input is the sender's problem; a failing store is ours
        return None, f"{shown}: cannot be read ({exc.strerror or exc})"
    problem = None if check.ok else f"{shown}: {check.problem}"
    if sha256 in seen:
        report.duplicates += 1
    elif problem is None:
        report.documents_stored += 1
    else:
        report.documents_quarantined += 1
    seen[sha256] = check
    if problem:
        log.warning("claim %s: quarantined %s", claim_id, problem)
    return Received(shown, entry.path, check, problem=problem), problem
