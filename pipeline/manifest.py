"""The manifest (理赔清单) of a batch, and the claim each of its rows describes.

A batch is a folder with `claims.csv` (or `claims.json`), one row per claim; the intake API's form is
read as a row of the same shape, so a claim is judged by one set of rules whichever door it came
through. CSV from Chinese Excel is welcome: UTF-8 with or without BOM, GBK, UTF-16 "Unicode text",
tab-separated, dates such as 2026/3/1 9:30 or 2026年3月1日. A bad value is a problem recorded on the
row (or, for a required value, a row that builds no claim); only a manifest that cannot be read at
all raises.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic import Field as PField

from pipeline.errors import BadInputError
from pipeline.records import Claim, ClaimType, money

__all__ = [
    "CHINA_TZ",
    "MANIFEST_NAMES",
    "ManifestRow",
    "claim_from_row",
    "load_manifest",
    "read_manifest",
]

log = logging.getLogger(__name__)

MANIFEST_NAMES = ("claims.csv", "claims.json")
REQUIRED_COLUMNS = ("claim_id", "policy_number", "claimant", "incident_date", "submitted_at", "channel")
OPTIONAL_COLUMNS = ("claimant_id_number", "insured", "claim_type", "amount_claimed", "documents")

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""Naive submission times are Beijing time (China has one zone and no daylight saving)."""
MAX_AMOUNT_CLAIMED = Decimal("100000000.00")
"""Above any sum insured we sell (1亿 yuan): such an amount is a typo or a unit mix-up, not a claim."""
EARLIEST_DATE = dt.date(1900, 1, 1)
"""Dates before this are typos (0001-01-01 is what an empty date cell becomes in some exports)."""


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


# --- the manifest -------------------------------------------------------------------------------


def read_manifest(folder: Path) -> list[ManifestRow]:
    """The rows of a batch's `claims.csv` or `claims.json`; raises BadInputError if it is unreadable."""
    return load_manifest(folder)[2]


def load_manifest(folder: Path) -> tuple[Path, bytes, list[ManifestRow]]:
    """The manifest's path, its bytes (a batch's id hashes them) and its rows."""
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


def claim_from_row(row: ManifestRow, now: dt.datetime | None = None) -> tuple[Claim | None, list[str]]:
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
