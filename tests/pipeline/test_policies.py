"""Which policy a claim is made under: the policy system's extract first (re-read when it changes),
then the policy the store holds from an earlier claim on the same number."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.errors import BadInputError
from pipeline.policies import PolicyBook, read_policy_file
from pipeline.records import Claim, Policy
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import open_store

COLUMNS = (
    "policy_number,product_id,policyholder,insured,effective_date,sum_insured,social_insurance,star_tier"
)


def _extract(path: Path, *rows: str) -> Path:
    path.write_text(COLUMNS + "\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    return path


def test_a_policy_file_is_read_by_number_and_a_bad_row_is_named(tmp_path: Path) -> None:
    f = _extract(
        tmp_path / "policies.csv",
        "P1,OPM01,张三,张三,2024-01-01,20000.00,True,",
        "P2,AM01,李四,李四,2025-03-01,500,False,2",
    )
    policies = read_policy_file(f)
    assert list(policies) == ["P1", "P2"]
    assert (
        policies["P1"].sum_insured == Decimal("20000.00") and policies["P1"].star_tier == 1
    )  # empty: default
    assert policies["P2"].effective_date == dt.date(2025, 3, 1) and not policies["P2"].social_insurance
    _extract(f, "P3,OPM01,王五,王五,2024-02-30,1000,True,1")
    with pytest.raises(BadInputError, match="row 2"):
        read_policy_file(f)


def test_paid_to_date_is_an_optional_column(tmp_path: Path) -> None:
    # 累计已给付 (a lump sum pays once in a policy's life): read when the extract has it, else this year's
    f = tmp_path / "policies.csv"
    f.write_text(
        COLUMNS + ",prior_paid_this_year,prior_paid_total\n"
        "P1,CI01,张三,张三,2022-01-01,100000,True,1,0,100000.00\n"
        "P2,CI01,李四,李四,2022-01-01,100000,True,1,5000,\n",
        encoding="utf-8-sig",
    )
    policies = read_policy_file(f)
    assert policies["P1"].paid_to_date == Decimal("100000.00") and policies["P1"].prior_paid_this_year == 0
    assert policies["P2"].prior_paid_total == 0 and policies["P2"].paid_to_date == Decimal("5000.00")
    assert read_policy_file(_extract(tmp_path / "old.csv", "P3,CI01,王五,王五,2022-01-01,1,True,1"))[
        "P3"
    ].paid_to_date == Decimal("0.00")


def test_the_extract_comes_first_then_the_store(tmp_path: Path) -> None:
    extract = _extract(tmp_path / "extract.csv", "P1,OPM01,张三,张三,2024-01-01,20000.00,True,1")
    settings = Settings(data_dir=tmp_path / "data", intake_policies=extract)
    store = open_store(settings)
    earlier = Policy(
        policy_number="P9", product_id="IPM01", policyholder="赵六", insured="赵六",
        effective_date=dt.date(2023, 5, 1), sum_insured=Decimal("50000"), social_insurance=True,
    )  # fmt: skip
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    store.save_claim(
        Claim(claim_id="C1", policy_number="P9", claimant="赵六", incident_date=now.date(), submitted_at=now)
    )
    store.put_result("C1", Stage.POLICY, earlier)
    book = PolicyBook(settings, store)
    assert book.find("P1").insured == "张三"  # type: ignore[union-attr]
    assert book.find("P9") == earlier  # not in the extract: the one an earlier claim brought
    assert book.find("P404") is None  # not an error at the door: the rules send it to a person
    _extract(extract, "P1,OPM01,张三,张三丰,2024-01-01,20000.00,True,1")
    os.utime(extract, (1, 1))  # another modification time: the extract is read again
    assert book.find("P1").insured == "张三丰"  # type: ignore[union-attr]
    store.engine.dispose()


def test_the_expiry_date_is_an_optional_column(tmp_path: Path) -> None:
    f = tmp_path / "policies.csv"
    f.write_text(
        COLUMNS + ",expiry_date\n"
        "P1,OPM01,张三,张三,2024-01-01,20000.00,True,1,2026-12-31\n"
        "P2,OPM01,李四,李四,2024-01-01,20000.00,True,1,\n",
        encoding="utf-8",
    )
    policies = read_policy_file(f)
    assert policies["P1"].expiry_date == dt.date(2026, 12, 31)
    assert policies["P2"].expiry_date is None  # left empty: not stated, cover open
    old = _extract(tmp_path / "old.csv", "P3,OPM01,王五,王五,2024-01-01,1000,True,1")  # no such column
    assert read_policy_file(old)["P3"].expiry_date is None
    f.write_text(
        COLUMNS + ",expiry_date\nP4,OPM01,赵六,赵六,2024-01-01,1000,True,1,2023-12-31\n", encoding="utf-8"
    )
    with pytest.raises(BadInputError, match=r"(?s)row 2.*before effective_date"):
        read_policy_file(f)  # an insurance period that ends before it starts


def test_the_store_keeps_the_expiry_date_and_reads_older_records(db_settings: Settings) -> None:
    from sqlalchemy import update

    from pipeline.store import StageResultRow

    store = open_store(db_settings)
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    policy = Policy(
        policy_number="P1", product_id="OPM01", policyholder="张三", insured="张三",
        effective_date=dt.date(2024, 3, 1), expiry_date=dt.date(2026, 2, 28),
        sum_insured=Decimal("10000"), social_insurance=True,
    )  # fmt: skip
    for cid in ("C1", "C2"):
        store.save_claim(
            Claim(
                claim_id=cid, policy_number="P1", claimant="张三", incident_date=now.date(), submitted_at=now
            )
        )
        store.put_result(cid, Stage.POLICY, policy)
    assert store.get_result("C1", Stage.POLICY, Policy) == policy
    before = policy.model_dump(mode="json", exclude={"expiry_date"})  # as stored before the field existed
    with store.session() as s:
        s.execute(update(StageResultRow).where(StageResultRow.claim_id == "C2").values(record=before))
    assert store.get_result("C2", Stage.POLICY, Policy) == policy.model_copy(update={"expiry_date": None})
    store.engine.dispose()
