"""Adjusters' decisions become outcomes once: approve pays through the ledger, deny and request_info
send notices in plain Chinese, and a rerun applies nothing twice."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.apply_review import Applied, apply_decision, apply_review, pending_decisions
from pipeline.payout import reconcile
from pipeline.records import Route
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, DecisionRow

pytestmark = pytest.mark.usefixtures("prefect_harness")

QueueFactory = Callable[[Path, Settings], tuple[CaseStore, list[str]]]

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _versions(store: CaseStore) -> Counter[str]:
    with store.session() as s:
        return Counter(s.scalars(select(DecisionRow.claim_id)))


def test_apply_review_records_pays_and_notifies_once(tmp_path: Path, review_queue: QueueFactory) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store, ids = review_queue(tmp_path, settings)
    assert len(pending_decisions(store)) == 3

    applied = {a.claim_id: a for a in apply_review(str(settings.data_dir))}
    assert set(applied) == set(ids)
    assert _versions(store) == Counter({c: 2 for c in ids})  # batch outcome + the adjuster's

    approve, deny, info = (applied[c] for c in ids)
    assert store.latest_outcome(ids[0]).route is Route.AUTO_APPROVE  # type: ignore[union-attr]
    assert store.latest_outcome(ids[0]).payable == Decimal("812.40")  # type: ignore[union-attr]
    payments = store.payments(ids[0])
    assert [(p.idempotency_key, p.amount) for p in payments] == [(f"{ids[0]}:d2", Decimal("812.40"))]
    assert approve.paid == "812.40" and approve.decision_version == 2
    assert "812.40元" in approve.notice
    # the adjuster's payment leaves in a payment file, as the batch's do
    [csv_file] = sorted(settings.payments_dir.glob("payments-*.csv"))
    assert [r["idempotency_key"] for r in csv.DictReader(csv_file.open(encoding="utf-8"))] == [f"{ids[0]}:d2"]

    assert store.latest_outcome(ids[1]).route is Route.DENY  # type: ignore[union-attr]
    assert "不予赔付" in deny.notice and "就诊日期在保单生效前" in deny.notice and "人工复核" in deny.notice
    assert store.latest_outcome(ids[2]).route is Route.REQUEST_INFO  # type: ignore[union-attr]
    assert "费用清单" in info.notice
    assert store.payments(ids[1]) == [] and store.payments(ids[2]) == []

    # a rerun applies nothing twice
    assert pending_decisions(store) == []
    assert apply_review(str(settings.data_dir)) == []
    assert _versions(store) == Counter({c: 2 for c in ids})
    assert len(store.payments()) == 1
    assert len(list(settings.payments_dir.glob("payments-*.csv"))) == 1
    assert reconcile(store, settings.payments_dir).ok
    assert store.get_result(
        ids[0], Stage.REVIEW_APPLIED, Applied, key=(T0 + dt.timedelta(hours=1)).isoformat()
    )


def test_crash_between_outcome_and_mark_reuses_the_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, review_queue: QueueFactory
) -> None:
    """A crash after the outcome is recorded but before it is marked applied: no second outcome."""
    settings = Settings(data_dir=tmp_path / "data")
    store, ids = review_queue(tmp_path, settings)
    pending = next(p for p in pending_decisions(store) if p.decision.claim_id == ids[0])

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store, "put_result", crash)
    with pytest.raises(KeyboardInterrupt):
        apply_decision(store, pending.decision, pending.routed_version)
    monkeypatch.undo()
    again = apply_decision(store, pending.decision, pending.routed_version)
    assert again.decision_version == 2
    assert _versions(store)[ids[0]] == 2
    assert len(store.payments(ids[0])) == 1
