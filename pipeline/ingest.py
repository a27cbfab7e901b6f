"""Intake (受理): a batch folder becomes stored claims, stored files and a report of what was wrong.

A batch is a folder with `claims.csv` (or `claims.json`), one row per claim, and the claims' files,
either named in the row's `documents` column (`a.jpg;b.pdf`) or kept in a sub-folder named after the
claim id. Every file is judged by its bytes, never by its name: the type is sniffed from the magic
bytes; size and pixel counts are read from the header before anything is decoded (a 30000x30000 PNG
is a decompression bomb, not a scan); then images are fully decoded and PDFs opened, so truncated,
corrupt and encrypted files are caught here and not deep inside OCR.

Nothing is dropped silently. Good files go to the content-addressed store (same bytes, stored once);
bad ones are copied to quarantine with the reason on their claim; a bad row is an error in the report;
a file no claim lists is reported as unclaimed. Only a manifest that cannot be read at all raises.
The checks of a file's bytes are in `pipeline.files`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic import Field as PField

from pipeline.errors import BadInputError
from pipeline.files import FileCheck, inspect_file, sha256_file
from pipeline.records import Claim, ClaimType, DocStatus, Document, money
from pipeline.settings import Settings
from pipeline.store import CaseStore

__all__ = ["ClaimSummary", "IngestReport", "ManifestRow", "RowError", "ingest_batch", "read_manifest"]

log = logging.getLogger(__name__)

MANIFEST_NAMES = ("claims.csv", "claims.json")
COMPANION_NAMES = ("policies.csv",)
"""Reference data that may travel with a batch (the policy extract); not documents, not unclaimed."""
REQUIRED_COLUMNS = ("claim_id", "policy_number", "claimant", "incident_date", "submitted_at", "channel")
OPTIONAL_COLUMNS = ("claimant_id_number", "insured", "claim_type", "amount_claimed", "documents")

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""Naive submission times are Beijing time (China has one zone and no daylight saving)."""
MAX_AMOUNT_CLAIMED = Decimal("100000000.00")
"""Above any sum insured we sell (1亿 yuan): such an amount is a typo or a unit mix-up, not a claim."""
EARLIEST_DATE = dt.date(1900, 1, 1)
"""Dates before this are typos (0001-01-01 is what an empty date cell becomes in some exports)."""

_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}  # with dotfiles: litter from Explorer and Finder


# --- records ------------------------------------------------------------------------------------


class ManifestRow(BaseModel):
    """One claim as listed in the manifest: raw text, checked later so a bad value is reported."""

    source: str = PField(description="the manifest's file name, for messages")
    row: int = PField(description="line in claims.csv (header is line 1) or 1-based item in claims.json")
    claim_id: str | None = None
    policy_number: str | None = None
    claimant: str | None = None
    incident_date: str | None = None
    submitted_at: str | None = None
    channel: str | None = None
    claimant_id_number: str | None = None
    insured: str | None = None
    claim_type: str | None = None
    amount_claimed: str | None = None
    documents: list[str] | None = PField(default=None, description="None: look in the claim's sub-folder")
    problems: list[str] = PField(default_factory=list, description="problems found reading the row")
    unusable: bool = PField(default=False, description="the row cannot be trusted: no claim is built")

    @property
    def where(self) -> str:
        return f"{self.source} {'item' if self.source.endswith('.json') else 'row'} {self.row}"


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


# --- the manifest -------------------------------------------------------------------------------


def read_manifest(folder: Path) -> list[ManifestRow]:
    """The rows of a batch's `claims.csv` or `claims.json`; raises BadInputError if it is unreadable."""
    return _load_manifest(folder)[2]


def _load_manifest(folder: Path) -> tuple[Path, bytes, list[ManifestRow]]:
    if not folder.is_dir():
        raise BadInputError(folder, "not a folder (a batch is a folder with claims.csv and the files)")
    found = [folder / name for name in MANIFEST_NAMES if (folder / name).is_file()]
    if not found:
        raise BadInputError(folder, "no claims.csv or claims.json in the batch folder")
    if len(found) > 1:
        raise BadInputError(folder, "both claims.csv and claims.json are present; keep only one")
    path = found[0]
    data = path.read_bytes()
    text = _decode(path, data)
    rows = _json_rows(path, text) if path.suffix == ".json" else _csv_rows(path, text)
    return path, data, rows


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), then GBK, which Excel on Chinese Windows writes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gbk", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInputError(
        path, "cannot decode the text: it is neither UTF-8 nor GBK (in Excel, save as 'CSV UTF-8')"
    )


def _column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().strip("\ufeff").lower())


def _missing_columns(path: Path, present: set[str], what: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise BadInputError(
            path, f"missing required {what}: {', '.join(missing)} (found: {', '.join(sorted(present))})"
        )


def _csv_rows(path: Path, text: str) -> list[ManifestRow]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    # a cell can be no longer than the file: an overlong value is then one row's problem (the
    # claim's own length limits name it), not csv's field limit refusing the whole batch
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except StopIteration:
        raise BadInputError(path, "empty: no header row") from None
    except csv.Error as exc:
        raise BadInputError(path, f"not a readable CSV file ({exc})") from exc
    columns = [_column(c) for c in header]
    _missing_columns(path, set(columns) - {""}, "column(s)")
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    ignored = sorted(set(columns) - known - {""})
    if ignored:
        log.info("%s: ignoring columns %s", path.name, ", ".join(ignored))
    rows: list[ManifestRow] = []
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # Excel's trailing ",,,,," rows
            values: dict[str, Any] = {}
            for name, cell in zip(columns, cells, strict=False):
                if name in known and name not in values:
                    values[name] = cell
            problems = []
            swallowed = _swallowed_rows(cells, delimiter, len(REQUIRED_COLUMNS)) if line > start else 0
            if swallowed:
                problems.append(
                    f"{path.name} row {start}: a quote opened in this row is not closed, so lines"
                    f" {start}-{line} were read as one row ({swallowed} of them look like claims of"
                    " their own); fix the quotes and send the batch again"
                )
            if len(cells) > len(columns):
                problems.append(
                    f"{path.name} row {start}: {len(cells)} cells but the header has {len(columns)}"
                    " (an unquoted comma?); the extra cells were ignored"
                )
            rows.append(_row(path.name, start, values, problems, unusable=swallowed > 0))
    except csv.Error as exc:
        raise BadInputError(path, f"line {reader.line_num}: not readable as CSV ({exc})") from exc
    return rows


def _swallowed_rows(cells: list[str], delimiter: str, min_cells: int) -> int:
    """Lines inside the row's cells that look like manifest rows: an unclosed quote ate them.

    A quoted value may hold a line break (an address); it does not hold lines with a row's worth
    of delimiters.
    """
    inner = [ln for cell in cells if "\n" in cell for ln in cell.splitlines()[1:]]
    return sum(1 for ln in inner if ln.count(delimiter) >= min_cells - 1)


def _json_rows(path: Path, text: str) -> list[ManifestRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"not valid JSON ({exc})") from exc
    except RecursionError as exc:  # [[[[...]]]]: a nesting bomb, never a list of claims
        raise BadInputError(path, "not a list of claims (JSON nested too deeply)") from exc
    items = data.get("claims") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadInputError(path, "expected a list of claims (or an object with a 'claims' list)")
    present = {_column(k) for item in items if isinstance(item, dict) for k in item}
    if items:
        _missing_columns(path, present, "field(s) in every claim")
    rows = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(
                ManifestRow(source=path.name, row=i, problems=[f"{path.name} item {i}: not an object"])
            )
            continue
        rows.append(_row(path.name, i, {_column(k): v for k, v in item.items()}, []))
    return rows


def _row(
    source: str, row: int, values: dict[str, Any], problems: list[str], *, unusable: bool = False
) -> ManifestRow:
    where = f"{source} {'item' if source.endswith('.json') else 'row'} {row}"

    def text(value: Any, name: str = "") -> str | None:
        if value is None or isinstance(value, dict | list):
            return None
        s = str(value)
        hidden = sorted({c for c in s if unicodedata.category(c) in ("Cc", "Cf") and c not in " \t\r\n"})
        if hidden and name:
            # NUL breaks PostgreSQL, zero-width and bidi marks make "C1" and "C1\u200b" two claims
            shown = ", ".join(f"U+{ord(c):04X}" for c in hidden)
            problems.append(f"{where}: {name} held invisible or control characters ({shown}); removed")
        s = "".join(c for c in s if unicodedata.category(c) not in ("Cc", "Cf") or c in " \t")
        s = s.strip()
        return s or None

    docs = values.get("documents")
    documents: list[str] | None = None
    if isinstance(docs, list):
        documents = [str(d).strip() for d in docs if str(d).strip()]
    elif text(docs):
        documents = [d.strip() for d in re.split(r"[;；]", str(docs)) if d.strip()]
    fields = {k: text(values.get(k), k) for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if k != "documents"}
    return ManifestRow(
        source=source, row=row, documents=documents or None, problems=problems, unusable=unusable, **fields
    )


# --- rows to claims -----------------------------------------------------------------------------

_CLAIM_TYPES = {
    "门诊": ClaimType.OUTPATIENT,
    "住院": ClaimType.INPATIENT,
    "意外": ClaimType.ACCIDENT,
    "意外伤害": ClaimType.ACCIDENT,
    "重疾": ClaimType.CRITICAL_ILLNESS,
    "重大疾病": ClaimType.CRITICAL_ILLNESS,
}
_WHEN_FORMATS = tuple(
    f"{day}{time}"
    for day in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
    for time in ("", " %H:%M:%S", " %H:%M")
)


def _parse_when(s: str) -> dt.datetime:
    """ISO 8601, or what Chinese Excel writes: 2026/3/1 9:30, 2026年3月1日."""
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        pass
    for fmt in _WHEN_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a date: {s!r}")


def _submitted(s: str) -> dt.datetime:
    when = _parse_when(s)
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TZ)


def _claim_from_row(row: ManifestRow, now: dt.datetime | None = None) -> tuple[Claim | None, list[str]]:
    """The claim a row describes, and every problem with its values; None if no claim can be built.

    Required values that are missing or unreadable make the row unusable; a bad optional value is
    left empty and recorded, so the claim still reaches an adjuster.
    """
    where = row.where
    problems = list(row.problems)
    fatal = row.unusable
    values: dict[str, Any] = {}
    for name in ("claim_id", "policy_number", "claimant"):
        value = getattr(row, name)
        if value is None:
            problems.append(f"{where}: {name} is missing")
            fatal = True
        values[name] = value
    for name, parse in (("incident_date", lambda v: _parse_when(v).date()), ("submitted_at", _submitted)):
        raw = getattr(row, name)
        if raw is None:
            problems.append(f"{where}: {name} is missing")
            fatal = True
            continue
        try:
            values[name] = parse(raw)
        except ValueError:
            problems.append(f"{where}: {name} {raw!r} is not a date (use YYYY-MM-DD)")
            fatal = True
    values["channel"] = row.channel or "batch"
    values["insured"] = row.insured
    if row.claimant_id_number is not None:
        if len(row.claimant_id_number) > 32:
            problems.append(f"{where}: claimant_id_number {row.claimant_id_number[:40]!r} is too long")
        else:
            values["claimant_id_number"] = row.claimant_id_number.upper()
    if row.claim_type is not None:
        claim_type = _CLAIM_TYPES.get(row.claim_type) or next(
            (t for t in ClaimType if t.value == row.claim_type.lower()), None
        )
        if claim_type is None:
            known = ", ".join(t.value for t in ClaimType)
            problems.append(f"{where}: claim_type {row.claim_type!r} is not one of {known}")
        values["claim_type"] = claim_type
    if row.amount_claimed is not None:
        values["amount_claimed"] = _amount(row.amount_claimed, where, problems)
    incident, submitted = values.get("incident_date"), values.get("submitted_at")
    if incident and submitted and incident > submitted.astimezone(CHINA_TZ).date():
        problems.append(f"{where}: incident_date {incident} is after submitted_at")
    problems += _implausible_dates(where, incident, submitted, now or dt.datetime.now(CHINA_TZ))
    if fatal:
        return None, problems
    try:
        return Claim.model_validate({**values, "problems": problems}), problems
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"{where}: {field} {err['msg'].lower()}")
        return None, problems


def _amount(raw: str, where: str, problems: list[str]) -> Decimal | None:
    cleaned = re.sub(r"[\s,，¥￥元]", "", raw)
    try:
        value = money(cleaned)
    except (InvalidOperation, ValueError):
        problems.append(f"{where}: amount_claimed {raw!r} is not an amount")
        return None
    if value < 0:
        problems.append(f"{where}: amount_claimed {raw!r} is negative")
        return None
    if value > MAX_AMOUNT_CLAIMED:
        problems.append(
            f"{where}: amount_claimed {raw!r} is implausibly large (over {MAX_AMOUNT_CLAIMED:,} yuan;"
            " a typo or a unit mix-up?)"
        )
        return None
    return value


def _implausible_dates(
    where: str, incident: dt.date | None, submitted: dt.datetime | None, now: dt.datetime
) -> list[str]:
    """Dates no real claim has: in the future (beyond a day of clock skew) or before EARLIEST_DATE."""
    problems = []
    today = now.astimezone(CHINA_TZ).date()
    if incident is not None and incident > today:
        problems.append(f"{where}: incident_date {incident} is in the future")
    if submitted is not None and submitted > now + dt.timedelta(days=1):
        problems.append(f"{where}: submitted_at {submitted.isoformat()} is in the future")
    for name, value in (("incident_date", incident), ("submitted_at", submitted)):
        if value is not None and value.year < EARLIEST_DATE.year:
            problems.append(f"{where}: {name} {value.isoformat()} is before {EARLIEST_DATE}; a typo?")
    return problems


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


def ingest_batch(
    folder: Path,
    store: CaseStore,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Validate, store and quarantine a batch folder's files, save its claims, and report.

    Idempotent: the batch id comes from the folder name and the manifest's hash, files are stored by
    their hash and claims are upserted, so ingesting the same folder again changes nothing.
    `progress(done, total)` is called after each file.
    """
    folder = Path(folder)
    manifest_path, manifest_bytes, rows = _load_manifest(folder)
    root = folder.resolve()
    batch_id = _batch_id(root, manifest_bytes)
    report = IngestReport(batch_id=batch_id, folder=str(root), manifest=manifest_path.name)
    log.info("ingesting batch %s: %d rows from %s", batch_id, len(rows), manifest_path)
    store.start_batch(batch_id, str(root))

    # first every row and its files, so progress knows the total and ids are checked across rows
    plans: list[tuple[ManifestRow, Claim, list[_Entry], list[str]]] = []
    claimed: set[str] = {manifest_path.name}
    first_row: dict[str, int] = {}
    for row in rows:
        claim, problems = _claim_from_row(row)
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
        plans.append((row, claim, entries[:limit], extra))

    total = sum(len(entries) for _, _, entries, _ in plans)
    done = 0
    seen: dict[str, FileCheck] = {}
    for row, claim, entries, problems in plans:
        documents: list[Document] = []
        for entry in entries:
            document, problem = _ingest_file(entry, claim.claim_id, store, settings, seen, report)
            if document is not None:
                taken = {d.filename for d in documents}
                n, name = 1, document.filename
                while name in taken:  # two names shown alike (GBK and UTF-8, or cut short) stay two
                    n += 1
                    name = f"{document.filename} ({n})"
                documents.append(document.model_copy(update={"filename": name}))
            if problem is not None:
                problems.append(problem)
            done += 1
            if progress is not None:
                progress(done, total)
        claim = claim.model_copy(update={"documents": documents, "problems": [*claim.problems, *problems]})
        store.save_claim(claim, batch_id=batch_id)
        report.claims += 1
        report.claim_summaries.append(
            ClaimSummary(
                claim_id=claim.claim_id,
                row=row.row,
                documents=len(documents),
                stored=sum(d.status is DocStatus.STORED for d in documents),
                quarantined=sum(d.status is DocStatus.QUARANTINED for d in documents),
                problems=claim.problems,
            )
        )

    report.unclaimed = [
        _shown(rel) for rel in _walk(root, root) if rel not in claimed and rel not in COMPANION_NAMES
    ]
    for rel in report.unclaimed:
        log.warning("%s: in the batch folder but listed by no claim", rel)
    store.finish_batch(batch_id, report.summary())
    log.info(
        "batch %s: %d claims, %d stored, %d quarantined, %d duplicates, %d unclaimed, %d row errors",
        batch_id, report.claims, report.documents_stored, report.documents_quarantined,
        report.duplicates, len(report.unclaimed), len(report.errors),
    )  # fmt: skip
    return report


def _ingest_file(
    entry: _Entry,
    claim_id: str,
    store: CaseStore,
    settings: Settings,
    seen: dict[str, FileCheck],
    report: IngestReport,
) -> tuple[Document | None, str | None]:
    """Check one file and store or quarantine it once; returns its Document and its problem."""
    shown = _shown(entry.name)
    if entry.path is None:
        return None, f"{shown}: {entry.problem}"
    try:
        sha256 = sha256_file(entry.path)
        check = seen.get(sha256)
        if check is None:
            check = inspect_file(entry.path, settings, sha256)
    except OSError as exc:  # unreadable input is the sender's problem; a failing store (below) is ours
        return None, f"{shown}: cannot be read ({exc.strerror or exc})"
    problem = None if check.ok else f"{shown}: {check.problem}"
    if sha256 in seen:
        report.duplicates += 1
    elif problem is None:
        store.files.put(entry.path, sha256, check.media_type)
        report.documents_stored += 1
    else:
        store.files.quarantine(entry.path, sha256, problem)
        report.documents_quarantined += 1
    seen[sha256] = check
    if problem:
        log.warning("claim %s: quarantined %s", claim_id, problem)
    document = Document(
        id=check.sha256,
        claim_id=claim_id,
        filename=shown,
        media_type=check.media_type or "application/octet-stream",
        size_bytes=check.size,
        page_count=check.page_count,
        status=DocStatus.STORED if check.ok else DocStatus.QUARANTINED,
        problem=problem,
    )
    return document, problem
