"""Nightly retraining: challengers from the store's labels plus synthetic data, champion/challenger.

What each model learns from, beside its synthetic data (`synth/`):

- doc-type: documents whose type an adjuster corrected in the review app (a `doc_type` field row
  with `corrected_by`; the latest correction of a document, with the pages last read of it);
- adjudication gate: adjusters' review decisions (was the rules' outcome right?);
- fraud: nothing from the store. The store records no fraud confirmation: an adjuster approves,
  pays in part, denies or asks for documents, and none of these says "fraud" or "not fraud". The
  fraud challenger learns from a synthetic claims history with planted patterns only
  (`claims fraud train --table` trains on a labelled table of your own).

Field values an adjuster corrected are no model's labels: the field extractors are rules, so these
are their regression set (`extraction_check` reports how many today's code reads right). A young
store holds few labels or none; each `Retrained` says what every source gave (`summary`), and the
flow publishes that as the `retrain-summary` artifact. Each challenger is registered with its model
card (which counts its store labels) and replaces the champion only if it beats it on the model's
metric by `promotion_margin`, both scored now on the model's frozen holdout
(`flows.models.challenge`, as the CLI and training judge); the verdict is written into the card.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from pydantic import BaseModel
from sqlalchemy import select

from flows.runtime import store_for
from pipeline.records import ClaimFacts, Decision, Extraction, Page, ReviewAction, ReviewDecision
from pipeline.registry import ModelCard, ModelRegistry
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, FieldRow, PageRow

log = logging.getLogger(__name__)

_DECISIONS = {
    ReviewAction.APPROVE: Decision.APPROVE,
    ReviewAction.PARTIAL: Decision.PARTIAL,
    ReviewAction.DENY: Decision.DENY,
    ReviewAction.REQUEST_INFO: Decision.REQUEST_INFO,
}


class Retrained(BaseModel):
    """One model's retraining: the challenger, its metric against the champion's, who serves now,
    and what it learnt from."""

    name: str
    challenger: str
    metric: str
    challenger_value: float | None
    champion_before: str | None
    champion_value: float | None
    promoted: bool
    champion: str | None
    store_labels: int
    synthetic: int
    label_source: str
    """The store's labels this model learns from, or why it has none."""
    reason: str = ""
    """The champion/challenger verdict as the registry gave it (where both were scored)."""

    @property
    def summary(self) -> str:
        """One line for the run's log and summary: what it learnt from and the verdict."""
        if self.store_labels:
            labels = f"{self.store_labels} {self.label_source}"
        elif self.label_source.startswith("none"):
            labels = f"no store labels ({self.label_source.removeprefix('none: ')})"
        else:
            labels = f"no {self.label_source} in the store yet"
        verdict = "promoted" if self.promoted else f"not promoted, champion stays {self.champion}"
        return (
            f"{self.name} {self.challenger}: {labels}; {self.synthetic} synthetic examples;"
            f" {verdict}: {self.reason}"
        )


# --- labels from the store --------------------------------------------------------------------------


def gate_labels(store: CaseStore) -> list[tuple[ClaimFacts, Decision, Decimal]]:
    """(facts as read, the adjuster's decision, the amount they allowed) for every decided review."""
    out = []
    for t in store.review_tasks(status="done"):
        if not t.get("decision"):
            continue
        d = ReviewDecision.model_validate(t["decision"])
        facts = store.get_result(d.claim_id, Stage.FACTS, ClaimFacts)
        if facts is not None:
            out.append((facts, _DECISIONS[d.action], d.amount or Decimal("0.00")))
    return out


def doc_type_labels(store: CaseStore, key: str | None = None) -> list[tuple[list[Page], str]]:
    """Documents whose type a person corrected (a `doc_type` field row with `corrected_by`): the
    latest correction of each, with its pages as read under `key` (default: the latest reading)."""
    with store.session() as s:
        rows = s.execute(
            select(FieldRow.document_id, FieldRow.value)
            .where(FieldRow.name == "doc_type", FieldRow.corrected_by.is_not(None))
            .order_by(FieldRow.id)
        ).all()
    latest = {document_id: value for document_id, value in rows if value}
    out = []
    for document_id, value in latest.items():
        pages = stored_pages(store, document_id, key)
        if pages:
            out.append((pages, value))
        else:
            log.warning("document %s: type corrected to %s but no pages stored", document_id[:12], value)
    return out


def stored_pages(store: CaseStore, document_id: str, key: str | None = None) -> list[Page] | None:
    """A document's pages as read under `key`, or under the reading stored last."""
    if key is None:
        with store.session() as s:
            key = s.scalar(
                select(PageRow.ocr_key)
                .where(PageRow.document_id == document_id)
                .order_by(PageRow.id.desc())
                .limit(1)
            )
    return store.get_pages(document_id, key) if key else None


class FieldLabel(BaseModel):
    """A field value a person corrected in the review app, with what the extractor had read."""

    claim_id: str
    document_id: str
    doc_type: str | None
    name: str
    kind: str
    value: str | None
    read_as: str | None
    page: int
    box: list[Any] | None
    corrected_by: str
    corrected_at: dt.datetime


def field_labels(store: CaseStore) -> list[FieldLabel]:
    """Adjusters' field corrections (`fields` rows with `corrected_by`), the latest per document and
    field, beside the value the extraction had. Document types are labels of their own
    (`doc_type_labels`)."""
    with store.session() as s:
        rows = s.scalars(
            select(FieldRow)
            .where(FieldRow.corrected_by.is_not(None), FieldRow.name != "doc_type")
            .order_by(FieldRow.id)
        ).all()
    latest = {(r.claim_id, r.document_id, r.name): r for r in rows}
    out = []
    for (claim_id, document_id, name), r in latest.items():
        ex = store.get_result(claim_id, Stage.EXTRACT, Extraction, key=document_id)
        read = ex.field(name) if ex else None
        out.append(
            FieldLabel(
                claim_id=claim_id,
                document_id=document_id,
                doc_type=ex.doc_type.value if ex else None,
                name=name,
                kind=r.kind,
                value=r.value,
                read_as=None if read is None or read.value is None else str(read.value),
                page=int(r.record.get("page") or 1),
                box=r.record.get("box"),
                corrected_by=r.corrected_by or "",
                corrected_at=r.created_at,
            )
        )
    return out


class ExtractionCheck(BaseModel):
    """Today's extractors against people's corrections."""

    labels: int
    documents: int
    agree: int
    misses: list[dict[str, str | None]]

    @property
    def share(self) -> float | None:
        return self.agree / self.labels if self.labels else None


def extraction_check(store: CaseStore) -> ExtractionCheck:
    """Re-extract every corrected document from its stored pages with today's code and count the
    corrected values it now reads. The field extractors are key dictionaries and rules
    (`pipeline/extract`), not a learned model, so corrections are their regression set: a miss
    listed here is a case to fix there; a corrected document type is retrained on instead."""
    from pipeline.extract.documents import extract_document
    from pipeline.records import DocType

    labels = field_labels(store)
    by_doc: dict[tuple[str, str], list[FieldLabel]] = {}
    for lb in labels:
        by_doc.setdefault((lb.claim_id, lb.document_id), []).append(lb)
    agree, misses = 0, []
    for (_, document_id), group in by_doc.items():
        pages = stored_pages(store, document_id)
        doc_type = group[0].doc_type
        ex = (
            extract_document(pages, DocType(doc_type), document_id=document_id)
            if pages and doc_type
            else None
        )
        for lb in group:
            got = ex.field(lb.name) if ex else None
            now = None if got is None or got.value is None else str(got.value)
            if now == lb.value:
                agree += 1
            else:
                misses.append(
                    {"document": document_id[:12], "field": lb.name, "label": lb.value, "read": now}
                )
    return ExtractionCheck(labels=len(labels), documents=len(by_doc), agree=agree, misses=misses)


# --- training, one plain function per model -----------------------------------------------------


DOC_TYPE_SOURCE = "adjusters' document-type corrections"
GATE_SOURCE = "adjusters' review decisions"
FRAUD_SOURCE = "none: the store records no fraud confirmations"


def _outcome(
    settings: Settings,
    registry: ModelRegistry,
    card: ModelCard,
    before: str | None,
    labels: int,
    synthetic: int,
    source: str,
) -> Retrained:
    """Judged as every path judges (flows.models.challenge): on the frozen holdout where there is one."""
    from flows.models import challenge

    verdict = challenge(settings, card.name, card.version)
    result = Retrained(
        name=card.name,
        challenger=card.version,
        metric=verdict.metric,
        challenger_value=verdict.challenger_value,
        champion_before=before,
        champion_value=verdict.champion_value,
        promoted=verdict.promoted,
        champion=registry.champion(card.name),
        store_labels=labels,
        synthetic=synthetic,
        label_source=source,
        reason=verdict.reason,
    )
    log.info("%s", result.summary)
    return result


def retrain_doc_type(store: CaseStore, settings: Settings, *, claims: int, seed: int) -> Retrained:
    from flows.models import train_doc_type_model

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("doc-type")
    labelled = doc_type_labels(store)
    card = train_doc_type_model(settings, claims=claims, seed=seed, labelled=labelled, promote=False)
    synthetic = int(card.params.get("synthetic", 0))
    return _outcome(settings, registry, card, before, len(labelled), synthetic, DOC_TYPE_SOURCE)


def retrain_gate(store: CaseStore, settings: Settings, *, claims: int, seed: int) -> Retrained:
    from flows.models import train_gate_model

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("adjudication-gate")
    labelled = gate_labels(store)
    card = train_gate_model(settings, claims=claims, seed=seed, labelled=labelled, promote=False)
    synthetic = int(card.params.get("synthetic", 0))
    return _outcome(settings, registry, card, before, len(labelled), synthetic, GATE_SOURCE)


def retrain_fraud(settings: Settings, *, rows: int, seed: int) -> Retrained:
    """The fraud challenger from a synthetic history only: the store has no fraud labels to add."""
    from fraud.training import train_fraud_model
    from synth.history import generate_history

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("fraud")
    with tempfile.TemporaryDirectory(prefix="fraud-history-") as tmp:
        path = Path(tmp) / "history.parquet"
        generate_history(rows, path, seed=seed)
        _, report = train_fraud_model(
            path,
            registry=registry,
            promote="never",
            notes="synthetic history with planted patterns; no store labels (the store records no"
            " fraud confirmations)",
        )
    card = registry.card("fraud", report.version or "")
    return _outcome(settings, registry, card, before, 0, rows, FRAUD_SOURCE)


def card_markdown(card: ModelCard, result: Retrained) -> str:
    """A model card as a page in the Prefect UI."""
    verdict = "promoted to champion" if result.promoted else f"not promoted; champion stays {result.champion}"
    lines = [
        f"# {card.name} {card.version}",
        "",
        f"**{verdict}** on `{result.metric}`: challenger {result.challenger_value}"
        f" vs champion {result.champion_value} ({result.champion_before or 'none'})",
        "",
        f"- {result.reason}",
        f"- labels from the store ({result.label_source}): {result.store_labels};"
        f" synthetic examples: {result.synthetic}",
        f"- frozen holdout `{(card.holdout_hash or 'none')[:16]}`",
        f"- data hash `{card.data_hash[:16]}`, code `{card.code_version}`,"
        f" created {card.created_at:%Y-%m-%d %H:%M} UTC",
        f"- libraries: {', '.join(f'{k} {v}' for k, v in card.libraries.items())}",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in card.metrics.items() if not isinstance(v, dict | list)]
    holdout = card.metrics.get("holdout")
    if isinstance(holdout, dict):
        flat = {k: v for k, v in holdout.items() if not isinstance(v, dict | list)}
        lines += [f"| holdout {k} | {_fmt(v)} |" for k, v in flat.items()]
    if card.notes:
        lines += ["", card.notes]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


# --- the flow ------------------------------------------------------------------------------------


@task(name="retrain-doc-type", cache_policy=NONE)
def doc_type_task(settings: Settings, claims: int, seed: int) -> Retrained:
    return retrain_doc_type(store_for(settings), settings, claims=claims, seed=seed)


@task(name="retrain-gate", cache_policy=NONE)
def gate_task(settings: Settings, claims: int, seed: int) -> Retrained:
    return retrain_gate(store_for(settings), settings, claims=claims, seed=seed)


@task(name="retrain-fraud", cache_policy=NONE)
def fraud_task(settings: Settings, rows: int, seed: int) -> Retrained:
    return retrain_fraud(settings, rows=rows, seed=seed)


@task(name="extraction-check", cache_policy=NONE)
def extraction_task(settings: Settings) -> ExtractionCheck:
    return extraction_check(store_for(settings))


def extraction_markdown(check: ExtractionCheck) -> str:
    """The extraction check as a page in the Prefect UI."""
    if not check.labels:
        return "# Extraction vs adjusters' corrections\n\nNo field has been corrected yet."
    lines = [
        "# Extraction vs adjusters' corrections",
        "",
        f"{check.agree} of {check.labels} corrected fields ({check.share:.1%}) on {check.documents}"
        " documents are now read as the adjusters corrected them.",
        "",
        "| document | field | corrected to | read now |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {m['document']} | {m['field']} | {m['label']} | {m['read']} |" for m in check.misses[:50]]
    return "\n".join(lines)


def summary_markdown(results: list[Retrained]) -> str:
    """The run in a few lines: each model's store labels (or that there were none) and verdict."""
    return "\n".join(["# Nightly retrain", "", *(f"- {r.summary}" for r in results)])


@flow(name="retrain", log_prints=False)
def retrain(
    data_dir: str | None = None,
    doc_claims: int = 160,
    gate_claims: int = 3000,
    fraud_rows: int = 200_000,
    seed: int = 2028,
) -> list[Retrained]:
    """Train a challenger for each model, promote the better, publish the cards."""
    logger = get_run_logger()
    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    # one after another: each trainer already uses the machine's cores
    results = [
        doc_type_task(settings, doc_claims, seed),
        gate_task(settings, gate_claims, seed),
        fraud_task(settings, fraud_rows, seed),
    ]
    check = extraction_task(settings)
    logger.info("extraction vs corrections: %d of %d fields agree", check.agree, check.labels)
    create_markdown_artifact(
        key="extraction-corrections",
        markdown=extraction_markdown(check),
        description="Field extractors against adjusters' corrections",
    )
    registry = ModelRegistry(settings.models_dir)
    create_markdown_artifact(
        key="retrain-summary",
        markdown=summary_markdown(results),
        description="What each challenger learnt from, and whether it was promoted",
    )
    for r in results:
        logger.info("%s", r.summary)
        create_markdown_artifact(
            key=f"model-card-{r.name}",
            markdown=card_markdown(registry.card(r.name, r.challenger), r),
            description=f"{r.name} challenger {r.challenger}",
        )
    return results
