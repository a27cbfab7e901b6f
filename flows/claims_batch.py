"""The batch claims flow: a folder in, every claim decided, paid once, or queued for a person.

A thin Prefect layer over `flows.steps`: one task per document for OCR (the engine is built once
per worker process), chunks of claims for the cheap stages, ids between tasks, never images. Each
step persists its output in the case store, so a rerun after a crash redoes nothing finished and
pays nothing twice. Retries are for transient faults (database, disk) only; bad input is recorded
on its claim and the batch goes on. The task runner (threads, or Dask) is chosen when a run starts,
from the environment then (`flows.runtime`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.futures import as_completed
from pydantic import BaseModel

from flows import steps
from flows.progress import ClaimDecided, DocumentRead, Planned, Report, ignore
from flows.runtime import DeferredTaskRunner, is_transient, models_for, store_for, transient
from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.kpi import Kpis, batch_kpis
from pipeline.records import DocStatus, Extraction
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore

log = logging.getLogger(__name__)


class BatchIncomplete(ClaimsError):
    """Some claims wait for a rerun: a fault that may pass (database, disk) outlasted its retries."""


WAITING = "waiting"
"""A claim's state in a batch result when a fault kept it from an outcome: a rerun finishes it."""

ClaimResult = steps.ClaimResult


class BatchResult(BaseModel):
    batch_id: str
    claims: list[ClaimResult]
    kpis: Kpis
    payment_files: list[str]
    ingest: dict[str, Any]


@task(name="ingest", retries=2, retry_delay_seconds=2, retry_condition_fn=transient, cache_policy=NONE)
def ingest_task(folder: str, settings: Settings) -> dict[str, Any]:
    return steps.ingest_step(Path(folder), store_for(settings), settings).summary()


@task(name="ocr-document", retries=2, retry_delay_seconds=2, retry_condition_fn=transient, cache_policy=NONE)
def ocr_task(document_id: str, key: str, settings: Settings) -> int:
    return steps.ocr_step(store_for(settings), settings, document_id, key)


@task(name="decide-claims", retries=2, retry_delay_seconds=2, retry_condition_fn=transient, cache_policy=NONE)
def decide_task(claim_ids: list[str], key: str, settings: Settings, issued_by: str) -> list[ClaimResult]:
    """Extraction, fraud, decision and payout for a chunk of claims (`steps.decide_claims`)."""
    return steps.decide_claims(
        store_for(settings),
        claim_ids,
        key,
        models_for(settings),
        settings,
        issued_by=issued_by,
        is_transient=is_transient,
    )


def _fault(exc: BaseException) -> str:
    """An exception in one line for a claim's record: its type and the first line of its message
    (a database error's message goes on with the SQL and a link)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first.removeprefix('(builtins.Exception) ')}".rstrip(": ")


def read_documents(
    docs: list[str], key: str, settings: Settings, report: Report
) -> tuple[dict[str, str], dict[str, str]]:
    """OCR every document, one task each, reporting each as it finishes; returns the documents that
    could not be read (the file's fault, recorded on its claim) and those a fault of ours (database,
    disk) kept from being read past its retries (its claim waits for a rerun)."""
    runs = list(ocr_task.map(docs, key=unmapped(key), settings=unmapped(settings)))
    doc_of = dict(zip(runs, docs, strict=True))
    failed: dict[str, str] = {}
    waiting: dict[str, str] = {}
    for run in as_completed(runs):
        try:
            run.result()
        except Exception as exc:  # recorded by the caller; the batch goes on
            (waiting if is_transient(exc) else failed)[doc_of[run]] = _fault(exc)
        report(DocumentRead(doc_of[run]))
    return failed, waiting


def decide_chunks(
    chunks: list[list[str]], key: str, settings: Settings, issued_by: str, report: Report
) -> tuple[list[ClaimResult], dict[str, str]]:
    """Decide the chunks of claims, one task each, reporting each claim as its chunk finishes;
    returns the results and the claims a fault past its retries (or a crash) left for a rerun."""
    runs = list(
        decide_task.map(chunks, key=unmapped(key), settings=unmapped(settings), issued_by=unmapped(issued_by))
    )
    chunk_of = dict(zip(runs, chunks, strict=True))
    results: list[ClaimResult] = []
    waiting: dict[str, str] = {}
    for run in as_completed(runs):
        try:
            done = run.result()
        except Exception as exc:  # a fault past its retries, or a crash: the chunk waits for a rerun
            waiting.update(dict.fromkeys(chunk_of[run], _fault(exc)))
            continue
        results.extend(done)
        for r in done:
            report(ClaimDecided(r.claim_id, r.route))
    return results, waiting


@flow(name="claims-batch", task_runner=DeferredTaskRunner(), log_prints=False)
def claims_batch(
    folder: str, data_dir: str | None = None, chunk_size: int = 50, report: Report | None = None
) -> BatchResult:
    """Ingest a batch folder and take every claim in it to an outcome; `report` hears of each
    document read and each claim decided (`flows.progress`)."""
    report = report or ignore
    logger = get_run_logger()
    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    started = dt.datetime.now(dt.UTC)
    summary = ingest_task(folder, settings)
    batch_id = summary["batch_id"]
    store = store_for(settings)
    claims = store.list_claims(batch_id=batch_id)
    logger.info("batch %s: %d claims", batch_id, len(claims))

    key = steps.reader_key()
    # a claim already decided, or waiting for a person or for documents, is not read nor decided again
    open_claims = [c for c in claims if decisions.runner_may_decide(store, c.claim_id) is None]
    opened = {c.claim_id for c in open_claims}
    docs = sorted({d.id for c in open_claims for d in c.documents if d.status is DocStatus.STORED})
    report(Planned(documents=len(docs), claims=len(claims)))
    failed_docs, waiting_docs = read_documents(docs, key, settings, report)

    todo, results = [c.claim_id for c in claims if c.claim_id not in opened], []
    waiting: dict[str, str] = {}
    for c in open_claims:
        bad = [
            f"{d.filename}: could not be read ({failed_docs[d.id]})"
            for d in c.documents
            if d.id in failed_docs
        ]
        unread = [
            f"{d.filename}: not read ({waiting_docs[d.id]})" for d in c.documents if d.id in waiting_docs
        ]
        if bad:
            outcome = steps.error_outcome(store, c.claim_id, "; ".join(bad))
            results.append(steps.claim_result(outcome, error="; ".join(bad)))
            report(ClaimDecided(c.claim_id, outcome.route.value))
        elif unread:
            waiting[c.claim_id] = "; ".join(unread)
        else:
            todo.append(c.claim_id)
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    issued_by = f"batch {batch_id}"
    decided, left = decide_chunks(chunks, key, settings, issued_by, report)
    results += decided
    waiting.update(left)
    for cid in waiting:
        report(ClaimDecided(cid, WAITING))
    results += [
        ClaimResult(claim_id=cid, route=WAITING, payable="0.00", reasons=[why], error=why)
        for cid, why in waiting.items()
    ]

    result = close_batch(store, settings, batch_id, results, summary, started, source=issued_by)
    publish_batch(result)
    if waiting:
        listed = "; ".join(f"{cid}: {why}" for cid, why in sorted(waiting.items())[:5])
        raise BatchIncomplete(
            f"batch {batch_id}: {len(waiting)} of {len(claims)} claims not finished because of a fault"
            f" that outlasted its retries ({listed}{'; ...' if len(waiting) > 5 else ''}); every other"
            " claim is done and nothing was lost: run the batch again once the fault is cleared"
        )
    return result


def close_batch(
    store: CaseStore,
    settings: Settings,
    batch_id: str,
    results: list[ClaimResult],
    ingest: dict[str, Any],
    started: dt.datetime,
    *,
    source: str,
) -> BatchResult:
    claim_ids = [r.claim_id for r in results]
    outcomes = [o for o in (store.latest_outcome(c) for c in claim_ids) if o is not None]
    extractions = [ex for c in claim_ids for ex in store.results(c, Stage.EXTRACT, Extraction).values()]
    documents = sum(1 for c in claim_ids for d in (store.get_claim(c).documents))  # type: ignore[union-attr]
    files = steps.export_payments(store, settings, source)  # this run's instructions, and any left over
    wall = (dt.datetime.now(dt.UTC) - started).total_seconds()
    kpis = batch_kpis(
        outcomes,
        documents=documents,
        documents_needing_person=sum(1 for ex in extractions if ex.needs_review)
        + (documents - len(extractions)),
        times=store.claims.times(claim_ids).values(),
        wall_seconds=wall,
    )
    store.finish_batch(batch_id, {"kpis": kpis.model_dump(), "seconds": wall})
    return BatchResult(
        batch_id=batch_id,
        claims=sorted(results, key=lambda r: r.claim_id),
        kpis=kpis,
        payment_files=[str(p) for p in files],
        ingest=ingest,
    )


def publish_batch(result: BatchResult) -> None:
    """The run's artifacts: a table of claims and outcomes, and the KPI summary."""
    key = "".join(ch if ch.isalnum() else "-" for ch in result.batch_id.lower())[:60].strip("-")
    create_table_artifact(
        key=f"claims-{key}",
        table=[
            {
                "claim": r.claim_id,
                "route": r.route,
                "payable": r.payable,
                "paid": r.paid or "",
                "reasons": "; ".join(r.reasons)[:300],
            }
            for r in result.claims
        ],
        description=f"Claims and outcomes of batch {result.batch_id}",
    )
    lines = [f"# Batch {result.batch_id}", "", "| figure | value |", "| --- | --- |"]
    lines += [f"| {row['figure']} | {row['value']} |" for row in result.kpis.rows()]
    create_markdown_artifact(key=f"kpis-{key}", markdown="\n".join(lines), description="Batch KPIs")
