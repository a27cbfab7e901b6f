"""Flash-pay instructions (闪赔闪付) and the ledger: a claim is never paid twice.

The idempotency key is the claim id plus the decision version. A rerun after a crash finds the
decision already stored (same version, same key), and the ledger's unique key refuses a second row.
A later decision on the same claim (an adjuster raising the amount) pays only the difference to what
the ledger already holds for the claim, so even a new key cannot pay a yuan twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import re
import tempfile
import unicodedata
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel

from pipeline.extract.checks import luhn_valid
from pipeline.records import Outcome, PaymentInstruction, money
from pipeline.store import CaseStore

log = logging.getLogger(__name__)

PAYMENT_COLUMNS = (
    "idempotency_key",
    "claim_id",
    "payee",
    "bank",
    "account",
    "amount",
    "decision_version",
    "rule_set_version",
    "model_versions",
    "created_at",
)


class Payee(BaseModel):
    name: str
    bank: str
    account: str
    corporate: bool = False
    """A hospital's corporate account (对公账户, 医疗直付): no card number, so no Luhn check digit."""


class PayoutResult(BaseModel):
    """What happened to one claim at payout: paid now, already paid, or held with the reasons."""

    claim_id: str
    instruction: PaymentInstruction | None = None
    already_paid: bool = False
    held: list[str] = []


def _name(s: str) -> str:
    return re.sub(r"[\s·•.]", "", unicodedata.normalize("NFKC", s))


def account_problems(payee: Payee | None, claimant: str) -> list[str]:
    """Why money must not go to this account: Luhn fails, or the holder is not the claimant.

    For direct settlement `claimant` is the hospital that is owed the money.
    """
    if payee is None or not payee.account:
        return ["no bank account: the claim form and bank card give none"]
    problems = []
    if not payee.corporate and not luhn_valid(payee.account):
        problems.append(f"bank account {mask_account(payee.account)} fails the Luhn check")
    if _name(payee.name) != _name(claimant):
        problems.append(f"account holder {payee.name} is not the claimant {claimant}")
    return problems


def mask_account(account: str) -> str:
    digits = re.sub(r"\D", "", account)
    return f"{digits[:4]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def idempotency_key(claim_id: str, decision_version: int) -> str:
    return f"{claim_id}:d{decision_version}"


def pay(
    store: CaseStore,
    outcome: Outcome,
    decision_version: int,
    payee: Payee | None,
    *,
    claimant: str,
    now: dt.datetime | None = None,
) -> PayoutResult:
    """Issue the payment instruction for a decided claim, exactly once."""
    result = PayoutResult(claim_id=outcome.claim_id)
    key = idempotency_key(outcome.claim_id, decision_version)
    paid_before = store.payments(outcome.claim_id)
    if any(p.idempotency_key == key for p in paid_before):
        result.already_paid = True
        return result
    due = money(outcome.payable - sum((p.amount for p in paid_before), Decimal(0)))
    if due <= 0:
        result.already_paid = bool(paid_before)
        if not paid_before:
            result.held.append("nothing payable")
        return result
    result.held = account_problems(payee, claimant)
    if result.held:
        return result
    assert payee is not None
    instruction = PaymentInstruction(
        idempotency_key=key,
        claim_id=outcome.claim_id,
        payee=payee.name,
        bank=payee.bank,
        account=re.sub(r"\D", "", payee.account),
        amount=due,
        decision_version=str(decision_version),
        rule_set_version=outcome.rule_set_version,
        model_versions=outcome.model_versions,
        created_at=now or dt.datetime.now(dt.UTC),
    )
    if store.add_payment(instruction):
        result.instruction = instruction
    else:  # another worker wrote the same key a moment ago: it is paid, by them
        result.already_paid = True
    return result


def write_payment_files(
    batch_id: str, instructions: list[PaymentInstruction], out_dir: Path
) -> tuple[Path, Path]:
    """The bank's payment file for a batch, as CSV and JSON, written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [
        {**p.model_dump(mode="json"), "model_versions": json.dumps(p.model_versions, sort_keys=True)}
        for p in sorted(instructions, key=lambda p: p.idempotency_key)
    ]
    csv_path = out_dir / f"payments-{batch_id}.csv"
    json_path = out_dir / f"payments-{batch_id}.json"
    _atomic_write(csv_path, _csv_text(rows))
    total = sum((p.amount for p in instructions), Decimal(0))
    doc = {
        "batch_id": batch_id,
        "count": len(instructions),
        "total": format(money(total), "f"),
        "payments": [
            p.model_dump(mode="json") for p in sorted(instructions, key=lambda p: p.idempotency_key)
        ],
    }
    _atomic_write(json_path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return csv_path, json_path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A payee called "=HYPERLINK(...)" stays text when the payment CSV is opened in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            Decimal(value)
        except ArithmeticError:
            return "'" + value
    return value


def _csv_text(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=PAYMENT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
