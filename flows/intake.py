"""The intake batch flow: claims that came through the intake API, taken to an outcome.

The claims are already in the case store (the API stored them, their files and their policy); this
flow is the batch flow without ingest, over the claims the intake queue holds. The same tasks run
the same steps: OCR per document (`claims_batch.ocr_task`), then extraction, fraud, decision and
payout per chunk (`claims_batch.decide_task`). Documents whose extraction is already stored (a
hospital's structured submission, a document read in an earlier round) are not read again.

Claims are taken from the queue with a compare-and-set, so two runs (the API's own and the
deployment's schedule) never process the same claim; a run that fails puts its claims back.

Each decided claim's keys (invoice, visit, payee account, policy) are then indexed in the store, so
the same invoice sent again, by another upload or another hospital submission, is found by the
duplicate-invoice rule (DUPLICATE_INVOICE) before it can be paid twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from prefect import flow, get_run_logger, unmapped
from prefect.futures import as_completed

from flows import steps
from flows.claims_batch import BatchResult, ClaimResult, close_batch, decide_task, ocr_task, publish_batch
from flows.progress import ClaimDecided, DocumentRead, Planned, Report, ignore
from flows.runtime import DeferredTaskRunner, store_for
from pipeline.intake_tables import DONE, QUEUED, finish_claims, take_queued
from pipeline.records import DocStatus, Extraction
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore

log = logging.getLogger(__name__)


@flow(name="intake-batch", task_runner=DeferredTaskRunner(), log_prints=False)
def intake_batch(
    claim_ids: list[str] | None = None,
    data_dir: str | None = None,
    database_url: str | None = None,
    chunk_size: int = 50,
    report: Report | None = None,
) -> BatchResult | None:
    """Take the queued intake claims (all, or those named) to an outcome; None if none was queued.
    `report` hears of each document read and each claim decided (`flows.progress`)."""
    logger = get_run_logger()
    overrides: dict[str, object] = {}
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    if database_url:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)  # type: ignore[arg-type]
    store = store_for(settings)
    taken = take_queued(store, claim_ids)
    if not taken:
        logger.info("intake queue: nothing to do")
        return None
    started = dt.datetime.now(dt.UTC)
    batch_id = f"intake-{started:%Y%m%dT%H%M%S}-{hashlib.sha256(','.join(taken).encode()).hexdigest()[:8]}"
    store.start_batch(batch_id, "intake API")
    logger.info("intake batch %s: %d claims", batch_id, len(taken))
    try:
        results = _process(
            store, settings, taken, chunk_size, issued_by=f"intake {batch_id}", report=report or ignore
        )
    except BaseException:
        finish_claims(store, taken, status=QUEUED)  # back in the queue for the next run
        raise
    result = close_batch(
        store,
        settings,
        batch_id,
        results,
        {"source": "intake", "claims": len(taken)},
        started,
        source=f"intake {batch_id}",
    )
    finish_claims(store, taken, status=DONE)
    publish_batch(result)
    return result


def _process(
    store: CaseStore,
    settings: Settings,
    claim_ids: list[str],
    chunk_size: int,
    *,
    issued_by: str,
    report: Report,
) -> list[ClaimResult]:
    claims = [c for c in (store.get_claim(cid) for cid in claim_ids) if c is not None]
    key = steps.reader_key()
    to_read = sorted(
        {
            d.id
            for c in claims
            for d in c.documents
            if d.status is DocStatus.STORED
            and store.get_result(c.claim_id, Stage.EXTRACT, Extraction, key=d.id) is None
        }
    )
    report(Planned(documents=len(to_read), claims=len(claims)))
    failed: dict[str, str] = {}
    runs = list(ocr_task.map(to_read, key=unmapped(key), settings=unmapped(settings)))
    doc_of = dict(zip(runs, to_read, strict=True))
    for run in as_completed(runs):
        try:
            run.result()
        except Exception as exc:  # recorded on the claim below; the others go on
            failed[doc_of[run]] = f"{type(exc).__name__}: {exc}"
        report(DocumentRead(doc_of[run]))
    todo, results = [], []
    for c in claims:
        bad = [f"{d.filename}: could not be read ({failed[d.id]})" for d in c.documents if d.id in failed]
        if bad:
            outcome = steps.error_outcome(store, c.claim_id, "; ".join(bad))
            results.append(steps.claim_result(outcome, error="; ".join(bad)))
            report(ClaimDecided(c.claim_id, outcome.route.value))
        else:
            todo.append(c.claim_id)
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    decisions = list(
        decide_task.map(chunks, key=unmapped(key), settings=unmapped(settings), issued_by=unmapped(issued_by))
    )
    for chunk in as_completed(decisions):
        done = chunk.result()  # a chunk that fails fails the run: its claims go back in the queue
        results.extend(done)
        for r in done:
            report(ClaimDecided(r.claim_id, r.route))
    return results
