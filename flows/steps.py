"""The batch's steps as plain functions over ids, each idempotent through the case store.

Every step first asks the store whether its output exists and returns it if so; otherwise it does
the work and writes the output in one transaction at the end. That is what makes a batch safe to
rerun after a crash: whatever finished is not redone, whatever did not is done once. The Prefect
flow (`flows/claims_batch.py`) only maps these over documents and chunks of claims; `bench/flow.py`
runs the same functions in a plain loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adjudication.backtest import FACTS_STAGE
from adjudication.decide import DecisionBundle, decide
from adjudication.model import load_gate
from adjudication.rules import RuleBook, StoreInvoiceHistory, load_rule_book
from classifiers.doc_type import DocTypeModel, load_doc_type
from intake.policies import read_policy_file
from pipeline.errors import ClaimsError
from pipeline.extract.documents import extract
from pipeline.extract.facts import assemble_facts
from pipeline.ingest import IngestReport, ingest_batch
from pipeline.payout import Payee, PayoutResult, pay
from pipeline.records import (
    ClaimFacts,
    DirectSettlement,
    DocStatus,
    Extraction,
    FraudScore,
    Outcome,
    Policy,
    Route,
)
from pipeline.registry import ModelRegistry
from pipeline.settings import Settings
from pipeline.store import CaseStore

log = logging.getLogger(__name__)

POLICY_STAGE = "policy"
EXTRACT_STAGE = "extract"
FRAUD_STAGE = "fraud"
DECISION_STAGE = "decision"
SETTLEMENT_STAGE = "direct_settlement"
"""A hospital's direct-settlement request with its account (医疗直付), recorded at intake."""


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
        from fraud.model import FraudScorer

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
    report = ingest_batch(folder, store, settings)
    policies = read_policies(folder)
    for claim in store.list_claims(batch_id=report.batch_id):
        policy = policies.get(claim.policy_number)
        if policy is not None:
            store.put_result(claim.claim_id, POLICY_STAGE, policy)
    return report


def read_policies(folder: Path) -> dict[str, Policy]:
    """`policies.csv`: the policy administration system's extract for the batch (may be absent)."""
    path = folder / "policies.csv"
    return read_policy_file(path) if path.exists() else {}


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
    done = store.get_result(claim_id, FACTS_STAGE, ClaimFacts)
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
        ex = store.get_result(claim_id, EXTRACT_STAGE, Extraction, key=doc.id)
        if ex is None:
            pages = store.get_pages(doc.id, key)
            if pages is None:
                raise ClaimsError(f"claim {claim_id}: {doc.filename} has not been read")
            ex = extract(pages, models.doc_type, document_id=doc.id)
            store.put_result(claim_id, EXTRACT_STAGE, ex, key=doc.id)
            store.set_doc_type(claim_id, doc.id, ex.doc_type.value)
        extractions.append(ex)
    policy = store.get_result(claim_id, POLICY_STAGE, Policy)
    facts = assemble_facts(claim, extractions, policy)
    settlement = store.get_result(claim_id, SETTLEMENT_STAGE, DirectSettlement)
    if settlement is not None:  # 医疗直付: the hospital, not the claimant, is paid
        facts = facts.model_copy(
            update={
                "direct_settlement": True,
                "payee_name": settlement.account_name,
                "payee_bank": settlement.bank,
                "payee_account": settlement.account,
            }
        )
    store.put_result(claim_id, FACTS_STAGE, facts)
    return facts


# --- fraud, decision, payout -----------------------------------------------------------------------


def fraud_step(store: CaseStore, batch: list[ClaimFacts], models: Models) -> dict[str, FraudScore]:
    """Score a chunk of claims against every claim the store has facts for (the past as of each)."""
    scores: dict[str, FraudScore] = {}
    todo = []
    for facts in batch:
        done = store.get_result(facts.claim.claim_id, FRAUD_STAGE, FraudScore)
        if done is not None:
            scores[facts.claim.claim_id] = done
        else:
            todo.append(facts)
    if not todo or models.fraud is None:
        return scores
    from fraud.rows import history_frame

    history = [f for f in _all_facts(store) if f.claim.claim_id not in {t.claim.claim_id for t in todo}]
    for score in models.fraud.score(history_frame(todo), history_frame(history) if history else None):
        store.put_result(score.claim_id, FRAUD_STAGE, score)
        scores[score.claim_id] = score
    return scores


def _all_facts(store: CaseStore) -> list[ClaimFacts]:
    out = []
    for claim in store.list_claims():
        f = store.get_result(claim.claim_id, FACTS_STAGE, ClaimFacts)
        if f is not None:
            out.append(f)
    return out


def decide_step(
    store: CaseStore,
    facts: ClaimFacts,
    fraud: FraudScore | None,
    models: Models,
    settings: Settings,
    now: dt.datetime | None = None,
) -> DecisionBundle:
    """Decide a claim once, record the outcome, queue it for a person or pay it (exactly once)."""
    claim_id = facts.claim.claim_id
    bundle = store.get_result(claim_id, DECISION_STAGE, DecisionBundle)
    if bundle is None:
        history = StoreInvoiceHistory(store)
        # indexed first, so every later claim (in this batch or the next) sees this one's invoices and
        # account; the rules only hold a key against a claim that came earlier (rules._earlier)
        history.record(facts)
        bundle = decide(
            facts,
            rules=models.rules,
            history=history,
            gate=models.gate,
            fraud=fraud,
            settings=settings,
            now=now or dt.datetime.now(dt.UTC),
        )
        bundle.outcome.model_versions.update(models.versions)
        store.put_result(claim_id, DECISION_STAGE, bundle)
    latest = store.latest_outcome(claim_id)
    # recorded once; a claim resumed with new documents (电子照会 answered) is decided anew, later
    if latest is None or latest.decided_at < bundle.outcome.decided_at:
        store.record_outcome(bundle.outcome)
    route = bundle.outcome.route
    if route is Route.ADJUSTER:
        store.open_review(claim_id, bundle.triage.priority, bundle.triage.due_at, bundle.outcome.reasons)
    return bundle


def payout_step(store: CaseStore, facts: ClaimFacts, outcome: Outcome) -> PayoutResult | None:
    """Pay a flash-pay or auto-approved claim; the ledger's key makes a second payment impossible."""
    if outcome.route not in (Route.FLASH_PAY, Route.AUTO_APPROVE):
        return None
    version = store.latest_decision_version(facts.claim.claim_id) or 1
    payee = (
        Payee(
            name=facts.payee_name or facts.claim.claimant,
            bank=facts.payee_bank or "",
            account=facts.payee_account,
            corporate=facts.direct_settlement,
        )
        if facts.payee_account
        else None
    )
    # 医疗直付 pays the hospital that issued the invoices; everything else pays the claimant
    entitled = (facts.hospital or "") if facts.direct_settlement else facts.claim.claimant
    return pay(store, outcome, version, payee, claimant=entitled)


def error_outcome(store: CaseStore, claim_id: str, problem: str) -> Outcome:
    """Record that a claim could not be processed, with the problem, once.

    An earlier outcome that is not an error (a claim resumed after a request for documents) does
    not hide the new problem.
    """
    existing = store.latest_outcome(claim_id)
    if existing is not None and existing.route is Route.ERROR:
        return existing
    outcome = Outcome(
        claim_id=claim_id, route=Route.ERROR, reasons=[problem], decided_at=dt.datetime.now(dt.UTC)
    )
    store.record_outcome(outcome)
    return outcome
