"""The runner: the batch's steps as plain functions over ids, each idempotent through the case store.

A claim goes ingest → ocr → extract → fraud → decide → payout: `ingest_step` (pipeline.ingest),
`ocr_step` (ocr), `extract_step` (pipeline.extract: the claim's facts, with the payee
`pipeline.payout.settle_directly` names), `fraud_step` (fraud, a chunk against the history),
`decide_step` (adjudication.decide: rules → benefit → triage → ML gate → route; triage sits inside
because it classifies with the product's required documents and the prior claims adjudication finds,
and the gate reads it) and `payout_step` (pipeline.payout). The runner holds no rule of its own: it
reads each step's inputs from the store, calls the stage and writes its output.

Every step first asks the store whether its output exists and returns it if so; otherwise it does
the work and writes the output in one transaction at the end. That is what makes a batch safe to
rerun after a crash: whatever finished is not redone, whatever did not is done once. A decided claim
is final (`pipeline.decisions`): the runner only ever decides a claim with no decision yet, one whose
last run failed, or one resumed with new documents, and pays what a decision still owes, once
(`pipeline.payout`). The Prefect flows (`flows/claims_batch.py`, `flows/intake.py`) only map these
over documents and chunks of claims; `bench/flow.py` and the money-path state machine run the same
functions in a plain loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from adjudication.decide import DecisionBundle, index_and_decide
from adjudication.history import StoreInvoiceHistory
from adjudication.model import load_gate
from adjudication.rules import RuleBook, load_rule_book
from classifiers.doc_type import DocTypeModel, load_doc_type
from classifiers.triage import error_clock
from pipeline import decisions
from pipeline.errors import ClaimsError
from pipeline.extract.documents import extract
from pipeline.extract.facts import assemble_facts
from pipeline.ingest import IngestReport, ingest_batch
from pipeline.payout import PayoutResult, export_pending, pay, payee_of, settle_directly
from pipeline.records import (
    ClaimFacts,
    DirectSettlement,
    DocStatus,
    Extraction,
    FraudScore,
    Outcome,
    Policy,
)
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore

log = logging.getLogger(__name__)


# --- models, loaded once per process -----------------------------------------------------------


@dataclass
class Models:
    """The champion models a batch decides with; their versions go on every decision."""

    doc_type: DocTypeModel
    rules: RuleBook
    gate: Any | None
    fraud: Any | None
    versions: dict[str, str] = field(default_factory=dict)


def load_models(settings: Settings) -> Models:
    registry = ModelRegistry(settings.models_dir)
    if registry.champion("doc-type") is None:
        raise ClaimsError(
            "no doc-type model: run `claims models bootstrap` (or `claims run`, which trains missing models)"
        )
    doc_type = load_doc_type(registry)
    gate = load_gate(settings, registry)
    fraud = None
    if registry.champion("fraud") is not None:
        from fraud.scoring import FraudScorer

        fraud = FraudScorer.from_registry(registry, settings=settings)
    versions = {"doc-type": doc_type.version or ""}
    if gate is not None:
        versions["adjudication-gate"] = gate.version
    if fraud is not None:
        versions["fraud"] = fraud.version
    return Models(doc_type=doc_type, rules=load_rule_book(), gate=gate, fraud=fraud, versions=versions)


# --- ingest --------------------------------------------------------------------------------------


def ingest_step(folder: Path, store: CaseStore, settings: Settings) -> IngestReport:
    """Store the batch's claims and files, and the policy extract that travels with it."""
    return ingest_batch(folder, store, settings)


# --- OCR -----------------------------------------------------------------------------------------


def reader_key() -> str:
    """Engine, models and cleaning version: pages read under another key are read again."""
    from ocr.engine import get_engine
    from ocr.reader import ReadOptions, reader_ident

    engine = get_engine()
    return f"{engine.name}-{hashlib.sha256(reader_ident(engine, ReadOptions()).encode()).hexdigest()[:16]}"


def ocr_step(store: CaseStore, settings: Settings, document_id: str, key: str) -> int:
    """Read one document's pages (once: stored pages under the same key are kept). Returns pages."""
    if store.get_pages(document_id, key) is not None:
        return -1
    from ocr.reader import read_document

    path = store.files.path(document_id)
    if path is None:
        raise ClaimsError(f"document {document_id} is in the store but its file is missing")
    # the page images are kept beside the reading: the boxes refer to the cleaned page, which only
    # this reading produced (orientation and skew come from the engine), so the app cannot redo it
    pages = read_document(
        path, cache_dir=settings.data_dir / "ocr-cache", image_dir=settings.page_images(document_id, key)
    )
    store.save_pages(document_id, key, pages)
    return len(pages)


# --- extraction, facts ---------------------------------------------------------------------------


def extract_step(store: CaseStore, claim_id: str, key: str, models: Models) -> ClaimFacts:
    """Extract every stored document of a claim and assemble the claim's facts."""
    done = store.get_result(claim_id, Stage.FACTS, ClaimFacts)
    if done is not None:
        return done
    claim = store.get_claim(claim_id)
    if claim is None:
        raise ClaimsError(f"no claim {claim_id}")
    extractions: list[Extraction] = []
    seen: set[str] = set()
    for doc in claim.documents:
        if doc.status is not DocStatus.STORED or doc.id in seen:
            continue  # the same file sent twice (two names, one SHA-256) is one document, paid once
        seen.add(doc.id)
        ex = store.get_result(claim_id, Stage.EXTRACT, Extraction, key=doc.id)
        if ex is None:
            pages = store.get_pages(doc.id, key)
            if pages is None:
                raise ClaimsError(f"claim {claim_id}: {doc.filename} has not been read")
            ex = extract(pages, models.doc_type, document_id=doc.id)
            store.put_result(claim_id, Stage.EXTRACT, ex, key=doc.id)
            store.set_doc_type(claim_id, doc.id, ex.doc_type.value)
        extractions.append(ex)
    policy = store.get_result(claim_id, Stage.POLICY, Policy)
    facts = assemble_facts(claim, extractions, policy)
    facts = settle_directly(facts, store.get_result(claim_id, Stage.DIRECT_SETTLEMENT, DirectSettlement))
    store.put_result(claim_id, Stage.FACTS, facts)
    return facts


# --- fraud, decision, payout -----------------------------------------------------------------------


def fraud_step(store: CaseStore, batch: list[ClaimFacts], models: Models) -> dict[str, FraudScore]:
    """Score a chunk of claims against every claim the store has facts for (the past as of each)."""
    scores: dict[str, FraudScore] = {}
    todo = []
    for facts in batch:
        done = store.get_result(facts.claim.claim_id, Stage.FRAUD, FraudScore)
        if done is not None:
            scores[facts.claim.claim_id] = done
        else:
            todo.append(facts)
    if not todo or models.fraud is None:
        return scores
    from fraud.rows import history_frame

    history = [f for f in _all_facts(store) if f.claim.claim_id not in {t.claim.claim_id for t in todo}]
    for score in models.fraud.score(history_frame(todo), history_frame(history) if history else None):
        store.put_result(score.claim_id, Stage.FRAUD, score)
        scores[score.claim_id] = score
    return scores


def _all_facts(store: CaseStore) -> list[ClaimFacts]:
    out = []
    for claim in store.list_claims():
        f = store.get_result(claim.claim_id, Stage.FACTS, ClaimFacts)
        if f is not None:
            out.append(f)
    return out


@dataclass(frozen=True)
class Decided:
    """A claim's decision as the runner leaves it: made now (`new`), or the one already recorded."""

    version: int
    outcome: Outcome
    new: bool
    bundle: DecisionBundle | None = None
    settled: str | None = None


def decide_step(
    store: CaseStore,
    facts: ClaimFacts,
    fraud: FraudScore | None,
    models: Models,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Decided:
    """Decide a claim unless it is settled, and record it once with its review task if it needs one.

    A settled claim (decided, waiting for a person or for documents) keeps its recorded decision:
    re-runs, retries and take-overs never change it nor reopen a decided review.
    """
    claim_id = facts.claim.claim_id
    settled = decisions.runner_may_decide(store, claim_id)
    if settled is None:
        bundle = index_and_decide(
            facts,
            rules=models.rules,
            history=StoreInvoiceHistory(store),
            gate=models.gate,
            fraud=fraud,
            settings=settings,
            now=now or dt.datetime.now(dt.UTC),
        )
        bundle.outcome.model_versions.update(models.versions)
        tri = bundle.triage
        rec = decisions.record_machine_decision(
            store,
            bundle.outcome,
            routing=decisions.Routing(tri.priority, tri.due_at, bundle.outcome.reasons),
            result=(Stage.DECISION, lambda v: bundle.model_copy(update={"decision_version": v})),
        )
    else:
        rec = decisions.latest(store, claim_id)
        if rec is None:  # pragma: no cover - settled means a decision exists
            raise ClaimsError(f"claim {claim_id}: {settled}")
    stored = store.get_result(claim_id, Stage.DECISION, DecisionBundle)
    mine = stored if stored is not None and stored.decision_version == rec.version else None
    return Decided(version=rec.version, outcome=rec.outcome, new=rec.new, bundle=mine, settled=rec.settled)


def payout_step(store: CaseStore, facts: ClaimFacts | None, claim_id: str, issued_by: str) -> PayoutResult:
    """Pay what the claim's latest decision still owes (nothing if it does not pay, or is paid)."""
    payee, entitled = payee_of(facts, facts.claim.claimant if facts else "")
    return pay(store, claim_id, payee, entitled=entitled, issued_by=issued_by)


def error_outcome(store: CaseStore, claim_id: str, problem: str, now: dt.datetime | None = None) -> Outcome:
    """Record that a claim could not be processed and give it to a person (`PROCESSING_ERROR`).

    A settled claim keeps its decision (a failing re-run never undoes one); a claim that fails again
    keeps its error version with the new problem.
    """
    claim = store.get_claim(claim_id)
    when = now or dt.datetime.now(dt.UTC)
    due, priority = error_clock(claim, when) if claim is not None else (None, 0)
    rec = decisions.record_error(store, claim_id, problem, routing=decisions.Routing(priority, due), now=when)
    return rec.outcome


# --- a chunk of claims, start to end -----------------------------------------------------------------


class ClaimResult(BaseModel):
    claim_id: str
    route: str
    payable: str
    reasons: list[str]
    decision_version: int | None = None
    paid: str | None = None
    error: str | None = None
    settled: str | None = None
    """Why the claim was left as it was (already decided, or waiting for someone)."""


def claim_result(outcome: Outcome, *, version: int | None = None, error: str | None = None) -> ClaimResult:
    return ClaimResult(
        claim_id=outcome.claim_id,
        route=outcome.route.value,
        payable=format(outcome.payable, "f"),
        reasons=[r.text for r in outcome.reasons],
        decision_version=version,
        error=error,
    )


def decide_claims(
    store: CaseStore,
    claim_ids: list[str],
    key: str,
    models: Models,
    settings: Settings,
    *,
    issued_by: str,
    is_transient: Callable[[BaseException], bool] = lambda exc: False,
) -> list[ClaimResult]:
    """Extraction, fraud, decision and payout for a chunk of claims; a bad claim does not stop it.

    Whatever fails on one claim is recorded on that claim (`error_outcome`), bug or bad input alike,
    and the chunk goes on; a transient fault (`is_transient`) fails the chunk instead, so that it is
    retried (every step is idempotent: what was done is not done twice, what was paid is not paid
    twice). A settled claim is not worked on again; what its decision still owes is paid.
    """
    facts: list[ClaimFacts] = []
    results: dict[str, ClaimResult] = {}
    settled: list[str] = []

    def failed(cid: str, stage: str, exc: Exception) -> None:
        if is_transient(exc):
            raise exc
        problem = str(exc) if isinstance(exc, ClaimsError | ValueError) else f"{type(exc).__name__}: {exc}"
        log.warning("claim %s: %s failed", cid, stage, exc_info=not isinstance(exc, ClaimsError | ValueError))
        outcome = error_outcome(store, cid, f"{stage} failed: {problem}")
        results[cid] = claim_result(outcome, error=problem)

    for cid in claim_ids:
        if decisions.runner_may_decide(store, cid) is not None:
            settled.append(cid)
            continue
        try:
            facts.append(extract_step(store, cid, key, models))
        except Exception as exc:
            failed(cid, "extraction", exc)
    try:
        scores = fraud_step(store, facts, models)
    except Exception as exc:  # no claim of the chunk is decided without its fraud score
        for f in facts:
            failed(f.claim.claim_id, "fraud scoring", exc)
        facts, scores = [], {}
    by_id = {f.claim.claim_id: f for f in facts}
    for cid in [*by_id, *settled]:
        f = by_id.get(cid) or store.get_result(cid, Stage.FACTS, ClaimFacts)
        try:
            if f is not None and cid in by_id:
                decided = decide_step(store, f, scores.get(cid), models, settings)
            else:
                rec = decisions.latest(store, cid)
                assert rec is not None
                decided = Decided(rec.version, rec.outcome, new=False, settled=rec.settled)
            paid = payout_step(store, f, cid, issued_by)
        except Exception as exc:
            failed(cid, "decision", exc)
            continue
        result = claim_result(decided.outcome, version=decided.version)
        result.settled = decided.settled or (None if decided.new else "decided before")
        if paid.instruction is not None:
            result.paid = format(paid.instruction.amount, "f")
        elif paid.held:
            result.reasons = [*result.reasons, *(f"PAYMENT_HELD: {h}" for h in paid.held)]
        results[cid] = result
    return [results[c] for c in claim_ids if c in results]


def export_payments(store: CaseStore, settings: Settings, source: str) -> list[Path]:
    """Every payment instruction not yet in a file, in a new one (none if nothing waits)."""
    export = export_pending(store, settings.payments_dir, source=source)
    return [] if export is None else [export.csv_path, export.json_path]
