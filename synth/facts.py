"""Claim facts (ClaimFacts) from a synthetic claim's truth, as its documents and rows would show them.

For benchmarks and backtests on generated corpora without OCR: the claim row (claims.csv), the policy
row (policies.csv), the invoices and expense lists as printed, the documents present, the bank card,
and the extraction checks those printed documents would fail. Never the generator's expected outcome,
its planted-problem labels or its `duplicate_of` links: those are what the engine must find itself.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from pipeline.extract.checks import check_items_sum, parse_amount_words
from pipeline.records import Check, Claim, ClaimFacts, Decision, DocType, Invoice, LineItem, Policy, money
from synth.truth import BillTruth, ClaimTruth

log = logging.getLogger(__name__)

TRUTH_FILE = Path(".truth") / "truth.jsonl"


def _checks(bill: BillTruth, n: int) -> list[Check]:
    """The extraction checks a correctly read invoice fails (altered figures, words vs figures)."""
    failed: list[Check] = []
    items = [i.to_line_item() for i in bill.items]
    c = check_items_sum(items, bill.printed_total)
    if c is not None and not c.passed:
        failed.append(c.model_copy(update={"message": f"invoice {n}: {c.message}"}))
    words = parse_amount_words(bill.printed_words)
    if words is None or words != bill.printed_total:
        failed.append(
            Check(
                name="words_vs_figures",
                passed=False,
                fields=["total_words", "total"],
                message=f"invoice {n}: amount in words {words} differs from the figures {bill.printed_total}",
            )
        )
    return failed


def _invoice(truth: ClaimTruth, bill: BillTruth, itemised: bool) -> Invoice:
    if itemised:
        items = [i.to_line_item() for i in bill.items]
    else:  # without the expense list only the invoice's fee categories show, not the 甲/乙/丙 class
        by_category: dict[str, Decimal] = {}
        for i in bill.items:
            by_category[i.category] = by_category.get(i.category, Decimal(0)) + i.amount
        items = [LineItem(name=k, category=k, amount=v) for k, v in by_category.items()]
    covered = sum((i.amount for i in bill.items if i.insurance_class != "丙"), Decimal(0))
    return Invoice(
        invoice_code=bill.invoice_code,
        invoice_number=bill.invoice_number,
        hospital=truth.incident.hospital,
        electronic=bill.electronic,
        issue_date=bill.issue_date,
        visit_date=truth.incident.incident_date,
        total=bill.printed_total,
        total_in_words=bill.printed_words,
        fund_paid=bill.fund_paid,
        account_paid=bill.account_paid,
        cash_paid=bill.cash_paid,
        self_pay=money(max(Decimal(0), covered - bill.fund_paid)),
        self_expense=bill.self_pay,  # the truth's 个人自费 (丙类 items) is the invoice's self_expense
        insurance_type=bill.printed_insurance_type,
        line_items=items,
    )


def facts_from_truth(truth: ClaimTruth) -> ClaimFacts:
    """What the claim's rows and documents show, consolidated as the pipeline would."""
    row, p = truth.row, truth.policy
    present = list(dict.fromkeys(d.doc_type for d in truth.documents))
    itemised = DocType.EXPENSE_LIST in present
    claim = Claim(
        claim_id=row.claim_id,
        policy_number=row.policy_number,
        claimant=row.claimant,
        claimant_id_number=row.claimant_id_number,
        insured=row.insured,
        claim_type=row.claim_type,
        incident_date=row.incident_date,
        submitted_at=row.submitted_at,
        channel=row.channel,
        amount_claimed=row.amount_claimed,
    )
    policy = Policy(
        policy_number=p.policy_number,
        product_id=p.product_id,
        product_version=p.product_version,
        policyholder=p.policyholder,
        insured=p.insured,
        insured_id_number=p.insured_id_number,
        effective_date=p.effective_date,
        expiry_date=p.expiry_date,
        sum_insured=p.sum_insured,
        social_insurance=p.social_insurance,
        cumulative_annualised_premium=p.cumulative_annualised_premium,
        star_tier=p.star_tier,
        prior_paid_this_year=p.prior_paid_this_year,
        deductible_used_this_year=p.deductible_used_this_year,
        prior_paid_total=p.prior_paid_total,
    )
    invoice_docs = {DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE}
    has_invoices = any(d in invoice_docs for d in present)
    bills = truth.bills if has_invoices else []
    failed = [c for n, b in enumerate(bills, 1) for c in _checks(b, n)]
    inc = truth.incident
    return ClaimFacts(
        claim=claim,
        policy=policy,
        claim_type=inc.claim_type,
        diagnoses=[code for code, _ in inc.diagnoses],
        hospital=inc.hospital,
        admission_date=inc.admission_date,
        discharge_date=inc.discharge_date,
        invoices=[_invoice(truth, b, itemised) for b in bills],
        documents_present=present,
        failed_checks=failed,
        payee_name=truth.bank_card.holder,
        payee_bank=truth.bank_card.bank,
        payee_account=truth.bank_card.number,
    )


def read_truth(corpus: Path) -> Iterator[ClaimTruth]:
    """Every claim's truth from a corpus folder's `.truth/truth.jsonl`."""
    path = Path(corpus) / TRUTH_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no truth file; generate the corpus with synth.documents.generate_corpus"
        )
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield ClaimTruth.model_validate(json.loads(line))


def load_facts(corpus: Path) -> list[ClaimFacts]:
    """The facts of every claim in a generated corpus (for backtests and benchmarks)."""
    return [facts_from_truth(t) for t in read_truth(corpus)]


# --- training data for the adjudication gate -------------------------------------------------------

BENIGN_FIELDS = ("address", "doctor", "department", "phone", "hospital_number")


def misread(facts: ClaimFacts, rng: random.Random, rate: float = 0.2, flag: float = 0.9) -> ClaimFacts:
    """The facts as a photographed invoice might be read: with probability `rate`, one misreading.

    Misreadings no sum check catches: an item's 甲/乙/丙 class, or the social-insurance payment.
    Each is flagged as a low-confidence field with probability `flag`. E-invoices (born digital, read
    from their text layer) are never misread. Some clean claims get harmless low-confidence flags.
    """
    paper = [n for n, inv in enumerate(facts.invoices) if not inv.electronic]
    low = list(facts.low_confidence_fields)
    if rng.random() < 0.08:
        low.append(rng.choice(BENIGN_FIELDS))
    if not paper or rng.random() >= rate:
        return facts.model_copy(update={"low_confidence_fields": low}) if low else facts
    n = rng.choice(paper)
    inv = facts.invoices[n]
    checks = list(facts.failed_checks)
    if inv.line_items and (rng.random() < 0.6 or not inv.fund_paid):
        k = rng.randrange(len(inv.line_items))
        item = inv.line_items[k]
        swap = {"甲": "丙", "乙": "丙", "丙": "乙", None: "乙"}[item.insurance_class]
        items = list(inv.line_items)
        items[k] = item.model_copy(update={"insurance_class": swap})
        new: Invoice = inv.model_copy(update={"line_items": items})
        what = f"line_items[{k}].insurance_class"
    else:
        factor = rng.choice([Decimal("10"), Decimal("0.1"), Decimal("1.1"), Decimal("0.9")])
        new = inv.model_copy(update={"fund_paid": money(inv.fund_paid * factor)})
        what = "fund_paid"
        if rng.random() < 0.5:
            checks.append(
                Check(name="payer_split", passed=False, severity="warning", message="misread split")
            )
    if rng.random() < flag:
        low.append(what)
    invoices = list(facts.invoices)
    invoices[n] = new
    return facts.model_copy(
        update={"invoices": invoices, "low_confidence_fields": low, "failed_checks": checks}
    )


def gate_training_pairs(
    claims: int, seed: int, *, misread_rate: float = 0.2
) -> tuple[list[tuple[ClaimFacts, Decision, Decimal]], str]:
    """A synthetic book read with simulated misreadings, labelled by the generator's own outcomes;
    returns the (facts, decision, payable) pairs and the data hash for the model card."""
    from pipeline.registry import data_hash
    from synth.book import make_book

    rng = random.Random(seed)
    book = make_book(claims, seed)
    pairs = [
        (misread(facts_from_truth(t), rng, rate=misread_rate), t.expected.decision, t.expected.payable)
        for t in book
    ]
    return pairs, data_hash("\n".join(t.model_dump_json(exclude={"documents"}) for t in book))


GATE_HOLDOUT_CLAIMS = 1500
"""Claims in the gate's holdout: some 1,300 of them rule-approved (what the gate judges), 130 unsafe."""


def gate_holdout_pairs(
    claims: int = GATE_HOLDOUT_CLAIMS,
) -> tuple[list[tuple[ClaimFacts, Decision, Decimal]], str]:
    """The gate's frozen holdout: a synthetic book from `HOLDOUT_SEED` (no trainer uses it), read with
    the training set's misreadings; the registry saves it once, on the first training."""
    from synth import HOLDOUT_SEED

    return gate_training_pairs(claims, HOLDOUT_SEED)
