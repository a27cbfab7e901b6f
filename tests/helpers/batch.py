"""A batch folder as a test writes it: manifest rows (claims.csv) and the files they list."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

COLUMNS = ["claim_id", "policy_number", "claimant", "incident_date", "submitted_at", "channel", "documents"]


def claim_row(claim_id: str, documents: list[str] | None = None, **values: str) -> dict[str, str]:
    """One manifest row of a valid claim; `values` override or add columns."""
    row = {
        "claim_id": claim_id,
        "policy_number": "P-2026-0001",
        "claimant": "张三",
        "incident_date": "2026-02-20",
        "submitted_at": "2026-03-01 09:30:00",
        "channel": "app",
    }
    if documents is not None:
        row["documents"] = ";".join(documents)
    row.update(values)
    return row


def write_manifest(
    folder: Path, rows: list[dict[str, str]], columns: list[str] | None = None, encoding: str = "utf-8"
) -> Path:
    """`folder/claims.csv` with `columns` (COLUMNS by default; values of other keys are left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / "claims.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def put(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` at `folder/name`, making the folders on the way."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha(data: bytes) -> str:
    """The document id intake gives these bytes."""
    return hashlib.sha256(data).hexdigest()
