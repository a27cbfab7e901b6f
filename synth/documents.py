"""Synthetic claim corpus: realistic Chinese claim documents with their ground truth (issue 3).

`generate_corpus(out, claims, seed)` writes what a batch folder holds (`claims.csv`, the policy
extract `policies.csv`, and one folder of documents per claim), which is what the ingest stage reads,
and the ground truth beside it in `.truth/` (`truth.jsonl`, one claim per line, and `summary.json`),
where the pipeline never looks (`jq 'select(.claim_id=="C0001")' .truth/truth.jsonl` shows one).
With `render=False` only the structured claims and truth are written (no pages), fast enough for
10,000+ claims in seconds. Same seed, same bytes.
"""

from __future__ import annotations

import csv
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from pipeline.records import DocType, LineItem
from synth import bills, cards, certificate, discharge, forms, provincial
from synth.book import ROWS_PER_PAGE, make_book
from synth.capture import stage
from synth.degrade import degrade, pick_severity
from synth.ebill import ebill
from synth.einvoice import write_pdf
from synth.render import Canvas
from synth.scan import is_scanned, scan, scan_rng
from synth.truth import ClaimTruth, DocumentTruth

log = logging.getLogger(__name__)

TRUTH_DIR = ".truth"
"""Ground truth lives beside the batch, hidden from intake (which ignores dot-folders)."""

E_INVOICE_SCALE = 2.0
"""Pixels of the e-invoice page image per PDF point."""
LONG_SIDE = 1280
"""Long side of a saved photo in pixels (hard photos may be smaller: low resolution)."""
CARD_LONG_SIDE = 1000
"""ID and bank cards: the app crops the photo to the card, so fewer pixels carry the same text."""
SHEET_LONG_SIDE = 1800
"""An e-bill printed on A4 and scanned or photographed whole: about 150 dpi, as scans of them come."""
TABLE_LONG_SIDE = 1800
GLASS_LONG_SIDE = 2339
"""A bill scanned on A4 at 200 dpi, as copy desks scan receipts (finer than the records' 144 dpi)."""
"""A bill photographed on a table: the frame holds the table too, so more pixels for the same text."""

CLAIM_COLUMNS = [
    "claim_id",
    "policy_number",
    "claimant",
    "claimant_id_number",
    "insured",
    "claim_type",
    "incident_date",
    "submitted_at",
    "channel",
    "amount_claimed",
    "documents",
]
POLICY_COLUMNS = [
    "policy_number",
    "product_id",
    "product_version",
    "policyholder",
    "insured",
    "insured_id_number",
    "effective_date",
    "expiry_date",
    "sum_insured",
    "social_insurance",
    "cumulative_annualised_premium",
    "star_tier",
    "prior_paid_this_year",
    "deductible_used_this_year",
    "prior_paid_total",
]


class CorpusSummary(BaseModel):
    """What a corpus holds: counts a caller can print or check, also written as summary.json."""

    out: Path
    seed: int
    rendered: bool
    claims: int
    documents: int = Field(description="files listed in claims.csv")
    doc_types: dict[str, int]
    claim_types: dict[str, int]
    decisions: dict[str, int]
    rule_sets: dict[str, int] = Field(default_factory=dict, description="claims per rule set in force")
    planted: dict[str, int]
    fraud_patterns: dict[str, int]
    layouts: dict[str, int]
    degradations: dict[str, int]
    severities: dict[str, int]
    bytes_written: int = 0


def render_page(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random, *, keep_text: bool = False
) -> tuple[Canvas, list[LineItem], list[str]]:
    """Draw one page of a claim: its canvas (with the truth fields), items and planted edits.

    `keep_text`: a card photographed on a desk keeps its strings as text runs (`cards.on_table`).
    """
    n = int(doc.group.rsplit("_", 1)[1])
    bill = claim.bills[n - 1] if claim.bills else None
    match doc.doc_type:
        case DocType.OUTPATIENT_INVOICE | DocType.INPATIENT_INVOICE:
            assert bill is not None
            if bill.layout == "ebill":
                return ebill(claim, bill, doc, rng)
            if bill.electronic:
                return bills.e_invoice(claim, bill, doc, rng)
            if bill.layout in provincial.LAYOUTS:
                return provincial.draw(claim, bill, doc, rng)
            return bills.paper_invoice(claim, bill, doc, rng)
        case DocType.EXPENSE_LIST:
            assert bill is not None
            return bills.expense_list(claim, bill, doc, rng, ROWS_PER_PAGE)
        case DocType.DISCHARGE_SUMMARY:
            return discharge.draw(claim, doc, rng)
        case DocType.DIAGNOSIS_CERTIFICATE:
            return certificate.draw(claim, doc, rng)
        case DocType.CLAIM_FORM:
            return forms.claim_form(claim, doc, rng)
        case DocType.ID_CARD:
            return cards.id_card(claim, doc, rng, keep_text=keep_text)
        case DocType.BANK_CARD:
            return cards.bank_card(claim, doc, rng, keep_text=keep_text)
    raise ValueError(f"no layout for {doc.doc_type}")


def render_claim(claim: ClaimTruth, out: Path, seed: int) -> tuple[ClaimTruth, int]:
    """Draw, photograph and save every document of a claim; returns the truth with boxes filled in."""
    index = int(claim.claim_id[1:])
    rng = random.Random(f"{seed}:{claim.claim_id}:render")
    photo_rng = np.random.default_rng([seed, index])
    (out / claim.claim_id).mkdir(parents=True, exist_ok=True)
    docs: list[DocumentTruth] = []
    written = 0
    for doc in claim.documents:
        canvas, items, tampered = render_page(claim, doc, rng)
        done, data = _capture(claim, doc, canvas, items, tampered, photo_rng)
        (out / doc.file).write_bytes(data)
        docs.append(done)
        written += len(data)
    return claim.model_copy(update={"documents": docs}), written


def retake(
    claim: ClaimTruth, file: str, out: Path, seed: int, attempt: int = 1, severity: str | None = None
) -> DocumentTruth:
    """Another photo of one page, as the claimant asked for a clearer one sends it: the same page,
    photographed under a fresh draw of the severity mix (so it may be poor again) or at `severity`,
    saved beside the first as `<name>_retake<attempt>.<ext>`; returns its truth. Born-digital PDFs
    are never retaken."""
    position = next((i for i, d in enumerate(claim.documents) if d.file == file), None)
    if position is None:
        raise KeyError(f"{file} is not a document of claim {claim.claim_id}")
    rng = random.Random(f"{seed}:{claim.claim_id}:render")
    for doc in claim.documents[: position + 1]:  # pages come from one generator: replay up to this one
        canvas, items, tampered = render_page(claim, doc, rng)
    if doc.media_type == "application/pdf":
        raise ValueError(f"{file} is a born-digital PDF: there is nothing to photograph again")
    stem, ext = doc.file.rsplit(".", 1)
    again = doc.model_copy(update={"file": f"{stem}_retake{attempt}.{ext}"})
    photo_rng = np.random.default_rng([seed, int(claim.claim_id[1:]), position, attempt])
    done, data = _capture(claim, again, canvas, items, tampered, photo_rng, severity)
    (out / again.file).write_bytes(data)
    return done


def _capture(
    claim: ClaimTruth,
    doc: DocumentTruth,
    canvas: Canvas,
    items: list[LineItem],
    tampered: list[str],
    photo_rng: np.random.Generator,
    severity: str | None = None,
) -> tuple[DocumentTruth, bytes]:
    """A drawn page as the claim receives it: a PDF of its text layer, or a phone photo of it (at
    `severity`, or a draw of the mix)."""
    if doc.media_type == "application/pdf":
        data = write_pdf(canvas, E_INVOICE_SCALE, title=f"e-invoice {claim.bills[0].invoice_number}")
        update = {
            "width": canvas.width,
            "height": canvas.height,
            "scale": E_INVOICE_SCALE,
            "fields": canvas.fields,
            "line_items": items,
            "tampered": tampered,
            "severity": "clean",
        }
        return doc.model_copy(update=update), data
    card = doc.doc_type in (DocType.ID_CARD, DocType.BANK_CARD)
    long_side = CARD_LONG_SIDE if card else SHEET_LONG_SIDE if doc.layout == "ebill" else LONG_SIDE
    fmt = "WEBP" if doc.media_type == "image/webp" else "JPEG"
    scanner = scan_rng(doc.file, claim.incident.hospital_number)
    staged = stage(
        f"{claim.claim_id}:{doc.group}:{doc.page_number}",
        doc.doc_type,
        canvas,
        items,
        severity is not None,
        doc.layout,
    )
    canvas, items = staged.canvas, staged.items
    if staged.mode == "scan":
        photo, move = scan(canvas.image, scanner, GLASS_LONG_SIDE)
    elif severity is None and is_scanned(doc.doc_type, scanner):  # A4 records often arrive scanned
        photo, move = scan(canvas.image, scanner)
    else:
        long_side = TABLE_LONG_SIDE if staged.mode == "table" else long_side
        photo, move = degrade(canvas.image, photo_rng, severity or pick_severity(photo_rng), long_side, fmt)
    update = {
        "width": photo.width,
        "height": photo.height,
        "rotation": photo.rotation,
        "degradations": photo.kinds
        + ([staged.mode] if staged.mode == "table" else [])
        + (["masked"] if staged.hidden else []),
        "hidden": staged.hidden,
        "severity": photo.severity,
        "fields": [f.model_copy(update={"box": move(f.box)}) for f in canvas.fields],
        "line_items": [i.model_copy(update={"box": move(i.box)}) for i in items],
        "tampered": tampered,
    }
    return doc.model_copy(update=update), photo.data


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate_corpus(
    out: Path,
    claims: int,
    seed: int,
    render: bool = True,
    *,
    problem_rate: float = 0.08,
    progress: Callable[[int, int], None] | None = None,
) -> CorpusSummary:
    """Write a synthetic claim corpus of `claims` claims into `out`; deterministic in `seed`.

    `problem_rate` is the share of claims with a planted problem (denial, referral, missing document
    or fraud pattern); the default follows a plausible book, tests raise it to see every kind.
    `progress(done, total)` is called after each claim is drawn.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    book = make_book(claims, seed, problem_rate)
    log.info("book of %d claims (seed %d); rendering: %s", len(book), seed, render)
    written = 0
    truth_dir = out / TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    finished: list[ClaimTruth] = []
    for claim in book:
        if render:
            claim, n = render_claim(claim, out, seed)
            written += n
        finished.append(claim)
        if progress is not None:
            progress(len(finished), len(book))

    claim_rows = []
    for c in finished:
        row = c.row.model_dump(mode="json")
        row["documents"] = ";".join(c.row.documents)
        claim_rows.append(row)
    _write_csv(out / "claims.csv", CLAIM_COLUMNS, claim_rows)
    policies = {c.policy.policy_number: c.policy.model_dump(mode="json") for c in finished}
    _write_csv(out / "policies.csv", POLICY_COLUMNS, list(policies.values()))
    with (truth_dir / "truth.jsonl").open("w", encoding="utf-8") as fh:
        for c in finished:
            fh.write(c.model_dump_json() + "\n")

    docs = [d for c in finished for d in c.documents]
    summary = CorpusSummary(
        out=out,
        seed=seed,
        rendered=render,
        claims=len(finished),
        documents=len(docs),
        doc_types=dict(Counter(d.doc_type.value for d in docs)),
        claim_types=dict(Counter(c.incident.claim_type.value for c in finished)),
        decisions=dict(Counter(c.expected.decision.value for c in finished)),
        rule_sets=dict(Counter(c.expected.rule_set for c in finished)),
        planted=dict(Counter(p for c in finished for p in c.planted)),
        fraud_patterns=dict(Counter(p for c in finished for p in c.expected.fraud_patterns)),
        layouts=dict(Counter(d.layout for d in docs)),
        degradations=dict(Counter(k for d in docs for k in d.degradations)),
        severities=dict(Counter(d.severity for d in docs)) if render else {},
        bytes_written=written,
    )
    (truth_dir / "summary.json").write_text(
        json.dumps(
            summary.model_dump(mode="json", exclude={"out"}), ensure_ascii=False, indent=1, sort_keys=True
        )
        + "\n",
        encoding="utf-8",
    )
    log.info("corpus %s: %d claims, %d documents, %d bytes", out, summary.claims, summary.documents, written)
    return summary
