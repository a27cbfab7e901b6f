"""Nightly retraining: challengers from the store's labels plus synthetic data, champion/challenger.

Labels from the store are what people decided: adjusters' review decisions (for the adjudication
gate: was the rules' outcome right?), documents whose type an adjuster corrected (for the doc-type
classifier), and field values an adjuster corrected (the field extractors are rules, so these are
their regression set: `extraction_check` reports how many today's code reads right). A young store
holds few or none, so every model also learns from synthetic data (`synth/`), and the fraud model
from a synthetic history with planted patterns. Each challenger is registered with its model card
and replaces the champion only if it beats it on the model's metric by `promotion_margin`, both
scored on the frozen holdout where the model has one (`flows.models.challenge`, as the CLI and
training judge); the cards are published as Prefect markdown artifacts.
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
from flows.steps import reader_key
from pipeline.records import ClaimFacts, Decision, Extraction, Page, ReviewAction, ReviewDecision
from pipeline.registry import ModelCard, ModelRegistry, data_hash
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, FieldRow

log = logging.getLogger(__name__)

_DECISIONS = {
    ReviewAction.APPROVE: Decision.APPROVE,
    ReviewAction.PARTIAL: Decision.PARTIAL,
    ReviewAction.DENY: Decision.DENY,
    ReviewAction.REQUEST_INFO: Decision.REQUEST_INFO,
}


class Retrained(BaseModel):
    """One model's retraining: the challenger, its metric against the champion's, who serves now."""

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
    """Documents whose type a person corrected (a `doc_type` field row with `corrected_by`)."""
    with store.session() as s:
        rows = s.execute(
            select(FieldRow.document_id, FieldRow.value).where(
                FieldRow.name == "doc_type", FieldRow.corrected_by.is_not(None)
            )
        ).all()
    if not rows:
        return []
    key = key or reader_key()
    out = []
    for document_id, value in rows:
        pages = store.get_pages(document_id, key)
        if pages and value:
            out.append((pages, value))
    return out


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
    from pipeline.store import PageRow

    labels = field_labels(store)
    by_doc: dict[tuple[str, str], list[FieldLabel]] = {}
    for lb in labels:
        by_doc.setdefault((lb.claim_id, lb.document_id), []).append(lb)
    agree, misses = 0, []
    for (_, document_id), group in by_doc.items():
        with store.session() as s:
            key = s.scalar(
                select(PageRow.ocr_key)
                .where(PageRow.document_id == document_id)
                .order_by(PageRow.id.desc())
                .limit(1)
            )
        pages = store.get_pages(document_id, key) if key else None
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


def _outcome(
    settings: Settings,
    registry: ModelRegistry,
    card: ModelCard,
    before: str | None,
    labels: int,
    synthetic: int,
) -> Retrained:
    """Judged as every path judges (flows.models.challenge): on the frozen holdout where there is one."""
    from flows.models import challenge

    verdict = challenge(settings, card.name, card.version)
    return Retrained(
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
    )


def retrain_doc_type(store: CaseStore, settings: Settings, *, claims: int, seed: int) -> Retrained:
    from classifiers.doc_type import train_doc_type
    from synth.doc_samples import doc_type_training_set

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("doc-type")
    documents, snapshot = doc_type_training_set(claims=claims, seed=seed)
    labelled = doc_type_labels(store)
    card = train_doc_type(
        [*documents, *labelled],
        registry,
        data_hash=data_hash(snapshot, f"store-labels={len(labelled)}"),
        params={"corpora": f"generated:{claims}", "store_labels": len(labelled)},
        seed=seed,
        promote=False,
    )
    return _outcome(settings, registry, card, before, len(labelled), len(documents))


def retrain_gate(store: CaseStore, settings: Settings, *, claims: int, seed: int) -> Retrained:
    from adjudication.model import train_gate
    from synth.facts import gate_training_pairs

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("adjudication-gate")
    pairs, snapshot = gate_training_pairs(claims, seed)
    labelled = gate_labels(store)
    card = train_gate(
        settings,
        [*pairs, *labelled],
        data_hash=data_hash(snapshot, *(f.model_dump_json() for f, _, _ in labelled)),
        params={"claims": claims, "seed": seed, "misread_rate": 0.2, "store_labels": len(labelled)},
        notes="adjusters' decisions from the store plus synthetic labels (rules on misread facts vs truth)",
        registry=registry,
        promote=False,
    )
    return _outcome(settings, registry, card, before, len(labelled), len(pairs))


def retrain_fraud(settings: Settings, *, rows: int, seed: int) -> Retrained:
    from fraud.training import train_fraud_model
    from synth.history import generate_history

    registry = ModelRegistry(settings.models_dir)
    before = registry.champion("fraud")
    with tempfile.TemporaryDirectory(prefix="fraud-history-") as tmp:
        path = Path(tmp) / "history.parquet"
        generate_history(rows, path, seed=seed)
        _, report = train_fraud_model(
            path, registry=registry, promote="never", notes="synthetic history with planted patterns"
        )
    return _outcome(settings, registry, registry.card("fraud", report.version or ""), before, 0, rows)


def card_markdown(card: ModelCard, result: Retrained) -> str:
    """A model card as a page in the Prefect UI."""
    verdict = "promoted to champion" if result.promoted else f"not promoted; champion stays {result.champion}"
    lines = [
        f"# {card.name} {card.version}",
        "",
        f"**{verdict}** on `{result.metric}`: challenger {result.challenger_value}"
        f" vs champion {result.champion_value} ({result.champion_before or 'none'})",
        "",
        f"- labels from the store: {result.store_labels}; synthetic examples: {result.synthetic}",
        f"- data hash `{card.data_hash[:16]}`, code `{card.code_version}`,"
        f" created {card.created_at:%Y-%m-%d %H:%M} UTC",
        f"- libraries: {', '.join(f'{k} {v}' for k, v in card.libraries.items())}",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in card.metrics.items() if not isinstance(v, dict | list)]
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
    for r in results:
        logger.info(
            "%s %s: %s=%s promoted=%s", r.name, r.challenger, r.metric, r.challenger_value, r.promoted
        )
        create_markdown_artifact(
            key=f"model-card-{r.name}",
            markdown=card_markdown(registry.card(r.name, r.challenger), r),
            description=f"{r.name} challenger {r.challenger}",
        )
    return results
