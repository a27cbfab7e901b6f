"""The batch manifest: read from Excel's encodings and layouts, each row judged into a claim or problems."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.batch import COLUMNS, claim_row, write_manifest

from pipeline.errors import BadInputError
from pipeline.manifest import (
    CHINA_TZ,
    MANIFEST_NAMES,
    ManifestRow,
    claim_from_row,
    load_manifest,
    read_manifest,
)
from pipeline.records import ClaimType

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=CHINA_TZ)


def row(**values: str | None) -> ManifestRow:
    base = {k: v for k, v in claim_row("C1").items() if k in ManifestRow.model_fields}
    return ManifestRow(source="claims.csv", row=2, **{**base, **values})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_a_csv_in_any_of_excels_encodings_gives_the_same_rows(tmp_path: Path, encoding: str) -> None:
    write_manifest(tmp_path, [claim_row("C1", ["发票.jpg", "清单.png"])], encoding=encoding)
    [got] = read_manifest(tmp_path)
    assert (got.claim_id, got.claimant, got.documents) == ("C1", "张三", ["发票.jpg", "清单.png"])
    assert got.where == "claims.csv row 2"


def test_load_manifest_gives_the_path_and_bytes_a_batch_id_hashes(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, [claim_row("C1"), claim_row("C2")])
    found, data, rows = load_manifest(tmp_path)
    assert found == path and found.name in MANIFEST_NAMES
    assert data == path.read_bytes()
    assert [r.claim_id for r in rows] == ["C1", "C2"]


def test_a_json_manifest_numbers_its_items(tmp_path: Path) -> None:
    items = [claim_row("J1"), claim_row("J2", ["a.jpg"])]
    (tmp_path / "claims.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    rows = read_manifest(tmp_path)
    assert [(r.claim_id, r.where) for r in rows] == [
        ("J1", "claims.json item 1"),
        ("J2", "claims.json item 2"),
    ]
    assert rows[1].documents == ["a.jpg"]


def test_an_unreadable_manifest_raises_naming_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"no claims\.csv"):
        read_manifest(tmp_path)
    write_manifest(tmp_path, [claim_row("C1")], columns=[c for c in COLUMNS if c != "claimant"])
    with pytest.raises(BadInputError, match=r"missing required .*claimant"):
        read_manifest(tmp_path)
    (tmp_path / "claims.json").write_text("[]", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"both claims\.csv and claims\.json"):
        read_manifest(tmp_path)
    with pytest.raises(BadInputError, match="not a folder"):
        read_manifest(tmp_path / "claims.csv")


def test_a_good_row_builds_its_claim_with_chinese_dates_and_names_read() -> None:
    claim, problems = claim_from_row(
        row(
            submitted_at="2026年3月1日",
            incident_date="2026/2/20",
            claim_type="门诊",
            amount_claimed="¥1,234.50",
        ),
        now=NOW,
    )
    assert problems == []
    assert claim is not None
    assert claim.incident_date == dt.date(2026, 2, 20)
    assert claim.submitted_at == dt.datetime(2026, 3, 1, tzinfo=CHINA_TZ)  # naive times are Beijing time
    assert claim.claim_type is ClaimType.OUTPATIENT
    assert claim.amount_claimed == Decimal("1234.50")


def test_a_missing_or_unreadable_required_value_builds_no_claim() -> None:
    claim, problems = claim_from_row(row(claimant=None, incident_date="yesterday"), now=NOW)
    assert claim is None
    assert problems == [
        "claims.csv row 2: claimant is missing",
        "claims.csv row 2: incident_date 'yesterday' is not a date (use YYYY-MM-DD)",
    ]


def test_a_bad_optional_value_is_recorded_and_the_claim_still_built() -> None:
    claim, problems = claim_from_row(row(claim_type="dental", amount_claimed="-5"), now=NOW)
    assert claim is not None and claim.claim_type is None and claim.amount_claimed is None
    assert any("claim_type 'dental' is not one of" in p for p in problems)
    assert any("amount_claimed '-5' is negative" in p for p in problems)
    assert claim.problems == problems


def test_implausible_dates_are_problems() -> None:
    _, problems = claim_from_row(row(incident_date="2026-03-05", submitted_at="2026-03-01 09:30"), now=NOW)
    assert "claims.csv row 2: incident_date 2026-03-05 is after submitted_at" in problems
    assert "claims.csv row 2: incident_date 2026-03-05 is in the future" in problems
    _, problems = claim_from_row(row(incident_date="0001-01-01"), now=NOW)
    assert any("before 1900-01-01" in p for p in problems)
