"""kill -9 the batch at random points, rerun after each, and check it ends as if never interrupted.

Runs on PostgreSQL (a fresh database per test; skipped with the reason where PostgreSQL is absent,
failed under CI=true). Each run is `claims run DIR` in its own process group, against the session's
Prefect test server, with models pre-trained and the OCR cache warm. A kill point is chosen by
progress, not by clock: after a random number (1-6) of new rows in the store, so kills land inside
ingest, OCR, extraction, decision and payout rather than in Python's start-up. Nothing here waits
on the clock: each run is killed when the store has grown by its number of rows (or finishes first,
when the batch is done), however long that takes on a busy machine.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from flows.claims_batch import claims_batch
from pipeline.payout import reconcile
from pipeline.records import DocStatus
from pipeline.settings import Settings
from pipeline.store import DecisionRow, PaymentRow, open_store

pytestmark = pytest.mark.usefixtures("prefect_harness")

KILLS = 10
PROGRESS_TABLES = (
    "claims",
    "claim_documents",
    "pages",
    "stage_results",
    "decisions",
    "payments",
    "review_tasks",
    "payment_exports",
)
CLAIMS = Path(sys.executable).parent / "claims"


def _rows(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return sum(conn.execute(text(f"select count(*) from {t}")).scalar_one() for t in PROGRESS_TABLES)


def _start(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CLAIMS), "run", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes every child with it
    )


def test_kill_minus_nine_at_random_points_loses_nothing_and_pays_nothing_twice(
    pg_url: str, tmp_path: Path, batch: Path, shared_data_dir: Callable[[Path], Settings]
) -> None:
    from prefect.settings import PREFECT_API_URL

    # the uninterrupted reference run (SQLite) also warms the OCR cache
    reference = claims_batch(str(batch), str(shared_data_dir(tmp_path / "ref").data_dir))
    expected = {r.claim_id: (r.route, r.payable) for r in reference.claims}

    settings = shared_data_dir(tmp_path / "pg")
    settings = Settings(data_dir=settings.data_dir, database_url=pg_url)
    env = {
        **os.environ,
        "CLAIMS_DATA_DIR": str(settings.data_dir),
        "CLAIMS_DATABASE_URL": pg_url,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
    }
    store = open_store(settings)  # schema first, so progress can be counted from the first run
    engine = create_engine(pg_url)
    rng = random.Random(int(os.environ.get("CLAIMS_CRASH_SEED", "8")))
    kills, finished = 0, False
    while kills < KILLS and not finished:
        target = _rows(engine) + rng.randint(1, 6)
        proc = _start(batch, env)
        while proc.poll() is None and _rows(engine) < target:
            time.sleep(0.02)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        else:  # the batch finished before this run's kill point: nothing left to interrupt
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
            finished = True
    assert kills >= 3, f"the batch finished after {kills} kills: too few rows to interrupt"

    final = subprocess.run([str(CLAIMS), "run", str(batch)], env=env, capture_output=True, timeout=300)
    assert final.returncode == 0, final.stderr.decode()[-2000:]

    claims = store.list_claims()
    assert {c.claim_id for c in claims} == set(expected)
    with store.session() as s:
        per_claim = Counter(s.scalars(select(DecisionRow.claim_id)))
        dup_keys = s.execute(
            select(PaymentRow.idempotency_key).group_by(PaymentRow.idempotency_key).having(func.count() > 1)
        ).all()
    assert per_claim == Counter({c: 1 for c in expected}), per_claim  # exactly one outcome each
    assert dup_keys == []
    result = reconcile(store, settings.payments_dir)
    assert result.ok, result.breaks  # every instruction in exactly one payment file
    got = {c: (o.route.value, format(o.payable, "f")) for c in expected if (o := store.latest_outcome(c))}
    assert got == expected  # as if never interrupted

    with (batch / "claims.csv").open(encoding="utf-8-sig") as fh:
        listed = {
            row["claim_id"]: {Path(p).name for p in row["documents"].split(";") if p}
            for row in csv.DictReader(fh)
        }
    for claim in claims:
        stored = {Path(d.filename).name for d in claim.documents if d.status is DocStatus.STORED}
        assert listed[claim.claim_id] <= stored, (claim.claim_id, listed[claim.claim_id] - stored)
        for d in claim.documents:
            if d.status is DocStatus.STORED:
                path = store.files.path(d.id)
                assert path is not None and path.exists(), d.filename
    engine.dispose()
    store.engine.dispose()
