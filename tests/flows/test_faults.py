"""Faults during a batch: the database going away, the document store's disk filling up, the OCR
engine crashing on one page, a worker lost after paying, a bug on one claim. Each batch ends with
every claim accounted for: decided as an uninterrupted run decides it, or named as an error (bad
input, a bug), or named as waiting for a rerun (a transient fault that outlasted its retries), which
then finishes it. Only transient faults are retried; nothing is paid twice.

The corpus is structured (`render=False`) with small stand-in files, OCR is a fake that sees no
text and extraction assembles the corpus truth's facts (`helpers.fake_reading`), so the decisions and
payments are real while no page is read. Killing the whole process is `test_crash.py`.
"""

from __future__ import annotations

import csv
import errno
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_reading import blank_pages, fake_ocr, structured_batch, truth_facts
from helpers.files import multipage_tiff
from helpers.ocr_engine import FakeEngine
from helpers.prefect_harness import link_shared
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import pipeline.store.files
from flows import steps
from flows.claims_batch import BatchIncomplete, BatchResult, claims_batch
from ocr.reader import read_document
from pipeline import decisions
from pipeline.records import DocStatus, Route
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, DecisionRow, PaymentRow, open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")

REAL_READ_DOCUMENT = read_document  # the fixtures replace ocr.reader's with a fake

CLAIMS = 4
SEED = 23

Expected = dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return structured_batch(tmp_path_factory.mktemp("faults") / "corpus", CLAIMS, SEED)


@pytest.fixture(scope="module")
def expected(
    corpus: Path,
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    ocr_cache: Path,
    prefect_harness: None,
) -> Expected:
    """Route and payable of every claim in an uninterrupted run; at least one claim is paid."""
    settings = link_shared(tmp_path_factory.mktemp("faults-ref") / "data", models_dir, ocr_cache)
    with pytest.MonkeyPatch.context() as mp:
        fake_ocr(mp)
        truth_facts(mp, corpus)
        result = claims_batch(str(corpus), str(settings.data_dir))
    routes = {r.claim_id: (r.route, r.payable) for r in result.claims}
    assert len(routes) == CLAIMS and Route.ERROR.value not in {r for r, _ in routes.values()}
    assert any(r.paid for r in result.claims), routes  # the worker-lost fault needs a payment
    return routes


@pytest.fixture
def settings(
    tmp_path: Path, models_dir: Path, ocr_cache: Path, monkeypatch: pytest.MonkeyPatch, batch: Path
) -> Settings:
    """A fresh case store, with the fake OCR and the truth's facts installed."""
    fake_ocr(monkeypatch)
    truth_facts(monkeypatch, batch)
    return link_shared(tmp_path / "data", models_dir, ocr_cache)


def run(batch: Path, settings: Settings) -> BatchResult:
    return claims_batch(str(batch), str(settings.data_dir))


def outcomes(settings: Settings) -> Expected:
    store = open_store(settings)
    try:
        return {
            c.claim_id: (o.route.value, format(o.payable, "f"))
            for c in store.list_claims()
            if (o := store.latest_outcome(c.claim_id))
        }
    finally:
        store.engine.dispose()


def assert_once(settings: Settings) -> None:
    """One outcome per claim, one payment per key and per claim."""
    store = open_store(settings)
    with store.session() as s:
        decisions = Counter(s.scalars(select(DecisionRow.claim_id)))
        payments = list(s.execute(select(PaymentRow.claim_id, PaymentRow.idempotency_key)).all())
    store.engine.dispose()
    assert set(decisions.values()) == {1}, decisions
    assert len({k for _, k in payments}) == len(payments) == len({c for c, _ in payments}), payments


def flaky(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    fails: Callable[[tuple[Any, ...]], BaseException | None],
) -> Counter[str]:
    """Wrap `owner.name`: a call raises what `fails(args)` returns, if anything. Counts the raises."""
    real = getattr(owner, name)
    calls: Counter[str] = Counter()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["calls"] += 1
        exc = fails(args)
        if exc is not None:
            calls["raised"] += 1
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def once(exc: Callable[[], BaseException], when: Callable[[tuple[Any, ...]], bool]) -> Callable[..., Any]:
    """Raise `exc()` the first time `when(args)` holds, never again (a blip)."""
    fired: list[bool] = []

    def fails(args: tuple[Any, ...]) -> BaseException | None:
        if not fired and when(args):
            fired.append(True)
            return exc()
        return None

    return fails


def db_gone() -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))


def document_ids(batch: Path, claim_id: str) -> set[str]:
    with (batch / "claims.csv").open(encoding="utf-8-sig", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["claim_id"] == claim_id)
    return {hashlib.sha256((batch / n).read_bytes()).hexdigest() for n in row["documents"].split(";") if n}


# --- the database ----------------------------------------------------------------------------------


def test_database_blips_in_every_stage_are_retried_and_change_nothing(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = [
        flaky(monkeypatch, CaseStore, "save_claim", once(db_gone, lambda a: True)),  # ingest
        flaky(monkeypatch, CaseStore, "save_pages", once(db_gone, lambda a: True)),  # OCR
        flaky(monkeypatch, CaseStore, "put_result", once(db_gone, lambda a: a[2] == Stage.FACTS)),
        flaky(monkeypatch, decisions, "record_machine_decision", once(db_gone, lambda a: True)),  # decision
    ]

    result = run(batch, settings)

    assert [c["raised"] for c in counts] == [1, 1, 1, 1]  # each stage met the fault once, and retried
    assert {r.claim_id: (r.route, r.payable) for r in result.claims} == expected
    assert outcomes(settings) == expected
    assert_once(settings)


def test_database_down_for_one_claim_past_its_retries_leaves_it_waiting_for_a_rerun(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = sorted(expected)[0]
    docs = set(sorted(document_ids(batch, victim))[:1])  # one of its documents cannot be saved
    down = [True]
    calls = flaky(
        monkeypatch, CaseStore, "save_pages", lambda a: db_gone() if down and a[1] in docs else None
    )

    with pytest.raises(
        BatchIncomplete,
        match=rf"1 of {CLAIMS} claims not finished .*{victim}: .*not read \(OperationalError: server closed"
        r" the connection unexpectedly\).*run the batch",
    ):
        run(batch, settings)

    assert calls["raised"] == 3  # tried, retried twice, then left waiting
    assert victim not in outcomes(settings)  # not blamed on its files: no error outcome
    assert outcomes(settings) == {c: o for c, o in expected.items() if c != victim}

    down.clear()  # the database is back
    again = run(batch, settings)
    assert {r.claim_id: (r.route, r.payable) for r in again.claims} == expected
    assert_once(settings)


# --- the disk ----------------------------------------------------------------------------------------


def test_document_store_disk_full_fails_the_run_loudly_then_a_rerun_finishes(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = {"full": True, "blips": 0}

    def fails(args: tuple[Any, ...]) -> BaseException | None:
        if disk["full"] or disk["blips"] > 0:
            disk["blips"] -= 1
            return OSError(errno.ENOSPC, "No space left on device")
        return None

    copies = flaky(monkeypatch, pipeline.store.files, "_atomic_copy", fails)

    with pytest.raises(OSError, match="No space left on device"):
        run(batch, settings)

    assert copies["raised"] == 3  # the ingest task, tried and retried twice: the disk stayed full
    assert list(settings.data_dir.rglob(".incoming-*")) == []  # no half-written file
    assert outcomes(settings) == {}

    disk.update(full=False, blips=2)  # space is freed while the next run retries
    result = run(batch, settings)
    assert copies["raised"] == 5
    assert {r.claim_id: (r.route, r.payable) for r in result.claims} == expected
    assert_once(settings)
    store = open_store(settings)
    stored = [d for c in store.list_claims() for d in c.documents if d.status is DocStatus.STORED]
    assert stored and all(store.files.path(d.id) is not None for d in stored)
    store.engine.dispose()


# --- OCR, workers and bugs ---------------------------------------------------------------------------


def test_ocr_engine_crash_on_one_page_is_an_error_on_that_claim_only(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = sorted(expected)[1]
    (batch / victim / "scan.tif").write_bytes(multipage_tiff(("white", "black", "gray")))
    rows = list(csv.DictReader((batch / "claims.csv").open(encoding="utf-8-sig", newline="")))
    for row in rows:
        if row["claim_id"] == victim:
            row["documents"] += f";{victim}/scan.tif"
    with (batch / "claims.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    engine = FakeEngine(explode=lambda image: float(image.mean()) < 10)  # the black page

    def read(path: Path) -> list[Any]:
        if path.read_bytes()[:4] == b"II*\x00":  # the TIFF: the real reader, page by page
            return REAL_READ_DOCUMENT(path, engine)
        return blank_pages(path)

    fake_ocr(monkeypatch, engine, read)

    result = run(batch, settings)

    by_id = {r.claim_id: r for r in result.claims}
    bad = by_id[victim]
    assert bad.route == Route.ERROR.value and "scan.tif: could not be read" in (bad.error or "")
    assert "crashed on this page" in (bad.error or "")
    assert {c: (r.route, r.payable) for c, r in by_id.items() if c != victim} == {
        c: o for c, o in expected.items() if c != victim
    }
    assert_once(settings)
    assert engine.crashes == 1  # bad input: not retried


def test_worker_lost_after_paying_is_retried_without_paying_twice(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = steps.payout_step
    lost: Counter[str] = Counter()

    def payout_then_die(store: CaseStore, facts: Any, claim_id: str, issued_by: str) -> Any:
        paid = real(store, facts, claim_id, issued_by)
        if paid.instruction is not None and not lost:
            lost[claim_id] += 1
            raise ConnectionError("worker lost: connection to the Dask scheduler reset")
        return paid

    monkeypatch.setattr(steps, "payout_step", payout_then_die)

    result = run(batch, settings)

    assert sum(lost.values()) == 1
    assert {r.claim_id: (r.route, r.payable) for r in result.claims} == expected
    assert_once(settings)


def test_a_bug_on_one_claim_is_an_error_there_and_not_retried(
    batch: Path, settings: Settings, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = sorted(expected)[2]
    real = steps.decide_step
    calls: Counter[str] = Counter()

    def buggy(store: CaseStore, facts: Any, *args: Any, **kwargs: Any) -> Any:
        calls[facts.claim.claim_id] += 1
        if facts.claim.claim_id == victim:
            raise KeyError("benefit_line")
        return real(store, facts, *args, **kwargs)

    monkeypatch.setattr(steps, "decide_step", buggy)

    result = run(batch, settings)

    by_id = {r.claim_id: r for r in result.claims}
    assert by_id[victim].route == Route.ERROR.value
    assert by_id[victim].reasons == ["decision failed: KeyError: 'benefit_line'"]
    assert calls[victim] == 1
    assert {c: (r.route, r.payable) for c, r in by_id.items() if c != victim} == {
        c: o for c, o in expected.items() if c != victim
    }
    assert_once(settings)
