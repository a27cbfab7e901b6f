"""Load part (c), hospitals' claims end to end: structured submissions (医疗信息直连, no OCR) sent to
/api/claims/hospital, taken to an outcome by the intake-batch Prefect flow (small models trained
here) or by the same steps in a plain loop (no models: what the tests run). Then: an outcome for
every accepted claim, no claim twice, no payment twice, no invoice paid twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.loadtest.harness import Calls, latency, running_server, timed
from pipeline.settings import Settings
from pipeline.stages import Stage
from synth import documents

__all__ = [
    "POLICY_COLUMNS",
    "check_batch",
    "hospital_book",
    "process_steps",
    "run_batch",
    "submission",
    "submit_hospitals",
    "train_models",
]

POLICY_COLUMNS = tuple(documents.POLICY_COLUMNS)
"""The policy extract's header, as the generator writes it."""


def _hospital_account(name: str) -> str:
    return "02" + str(int(hashlib.sha256(name.encode()).hexdigest(), 16))[:17]


def submission(truth: Any) -> dict[str, Any]:
    """A synthetic claim as its hospital's billing system would send it (医疗信息直连): the first bill
    as the e-invoice with its fee categories, its items as the expense list, the visit's diagnoses."""
    bill, inc, row = truth.bills[0], truth.incident, truth.row
    inpatient = inc.admission_date is not None and inc.discharge_date is not None
    categories: dict[str, Decimal] = defaultdict(Decimal)
    for item in bill.items:
        categories[item.category] += item.amount
    dates = (
        {"admission_date": inc.admission_date, "discharge_date": inc.discharge_date}
        if inpatient
        else {"visit_date": inc.incident_date}
    )
    when = {k: v.isoformat() for k, v in dates.items()}
    hospital_number = inc.hospital_number
    if not re.fullmatch(r"[A-Za-z]{0,3}\d{4,}", hospital_number):
        hospital_number = "ZY" + (re.sub(r"\D", "", hospital_number) or "0000").rjust(4, "0")
    return {
        "policy_number": row.policy_number,
        "claimant": row.claimant,
        "claimant_id_number": row.claimant_id_number,
        "insured": row.insured,
        "claim_type": row.claim_type.value,
        "incident_date": row.incident_date.isoformat(),
        "amount_claimed": str(bill.printed_total),
        "invoice": {
            "kind": "inpatient" if inpatient else "outpatient",
            "invoice_code": bill.invoice_code,
            "invoice_number": bill.invoice_number,
            "check_code": bill.check_code or hashlib.sha256(bill.invoice_number.encode()).hexdigest()[:8],
            "issue_date": bill.issue_date.isoformat(),
            "hospital": inc.hospital,
            "patient_name": truth.insured.name,
            "patient_id_number": truth.insured.id_number,
            "sex": truth.insured.sex,
            "hospital_number": hospital_number,
            "total": str(bill.printed_total),
            "total_in_words": bill.printed_words,
            "fund_paid": str(bill.fund_paid),
            "account_paid": str(bill.account_paid),
            "cash_paid": str(bill.cash_paid),
            "self_pay": str(bill.self_pay),
            "fee_items": [{"category": c, "amount": str(a)} for c, a in categories.items()],
            **when,
        },
        "expense_list": {
            "hospital_number": hospital_number,
            "patient_name": truth.insured.name,
            "department": inc.department,
            "items": [
                {
                    "date": item.date.isoformat(),
                    "code": item.code,
                    "name": item.name,
                    "category": item.category,
                    "insurance_class": item.insurance_class,
                    "unit": item.unit,
                    "quantity": str(item.quantity),
                    "unit_price": str(item.unit_price),
                    "amount": str(item.amount),
                }
                for item in bill.items
            ],
            "total": str(bill.items_total),
            **when,
        },
        "visit": {
            "department": inc.department,
            "doctor": inc.doctor,
            "diagnoses": [{"code": code, "name": name} for code, name in inc.diagnoses],
            **when,
        },
    }


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def hospital_book(claims: int, seed: int, policies: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(hospital, Idempotency-Key, submission) for `claims` synthetic claims with a bill, and their
    policies written as the policy extract the API matches claims against."""
    import csv

    from synth.book import make_book

    # the book runs to the end of next year's books: a hospital submits only what has happened by now
    # (everything a claim carries is dated on or before its submission)
    now, n = dt.datetime.now(dt.UTC), int(claims * 1.15) + 10
    while True:
        book = [t for t in make_book(n, seed) if t.bills and _utc(t.row.submitted_at) <= now][:claims]
        if len(book) == claims or n > 10 * claims + 100:
            break
        n *= 2
    with policies.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, POLICY_COLUMNS)
        w.writeheader()
        seen = set()
        for t in book:
            if t.policy.policy_number not in seen:
                seen.add(t.policy.policy_number)
                w.writerow(t.policy.model_dump(mode="json"))
    return [(t.incident.hospital, f"his-{seed}-{t.claim_id}", submission(t)) for t in book]


def submit_hospitals(
    base: str, work: list[tuple[str, str, dict[str, Any]]], keys: dict[str, str], clients: int
) -> tuple[Calls, dict[str, str], list[str], float]:
    """Every submission, `clients` at a time; the calls, key -> claim id, refusals, wall time."""
    calls, claims, refused = Calls(), {}, []
    lock = threading.Lock()

    def lane(items: list[tuple[str, str, dict[str, Any]]]) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            for hospital, key, body in items:
                headers = {"X-API-Key": keys[hospital], "Idempotency-Key": key}

                def post(h: dict[str, str] = headers, b: dict[str, Any] = body) -> httpx.Response:
                    return client.post("/api/claims/hospital", headers=h, json=b)

                r = timed(calls, "hospital", post)
                with lock:
                    if r is not None and r.status_code == 201:
                        claims[key] = r.json()["claim_id"]
                    else:
                        refused.append(f"{key}: {r.status_code if r else 0} {r.text[:200] if r else ''}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=lane, args=(work[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls, claims, refused, time.perf_counter() - t0


def train_models(settings: Settings) -> dict[str, float]:
    """Small champions for the flow: doc-type, gate and fraud, trained here from synthetic data."""
    from flows.models import train_doc_type_model, train_fraud_on_synthetic, train_gate_model
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(settings.models_dir)
    took = {}
    for name, train in (
        # champions for the flow to use, not to measure: small frozen holdouts
        ("doc-type", lambda: train_doc_type_model(settings, claims=20, holdout_claims=10)),
        ("adjudication-gate", lambda: train_gate_model(settings, claims=1000, holdout_claims=400)),
        ("fraud", lambda: train_fraud_on_synthetic(settings, rows=20_000)),
    ):
        t0 = time.perf_counter()
        registry.promote(name, train().version)
        took[name] = round(time.perf_counter() - t0, 1)
    return took


def process_steps(store: Any, settings: Settings, chunk: int = 50) -> None:
    """The intake batch's steps in a plain loop, without Prefect and without models (a hospital's
    claims need no doc-type model; with no gate and no fraud model every claim goes the cautious way)."""
    from adjudication.rules import load_rule_book
    from flows import steps
    from pipeline.intake_tables import DONE, finish_claims, take_queued

    models = steps.Models(doc_type=None, rules=load_rule_book(), gate=None, fraud=None)  # type: ignore[arg-type]
    taken = take_queued(store)
    for i in range(0, len(taken), chunk):
        facts = []
        for cid in taken[i : i + chunk]:
            try:
                facts.append(steps.extract_step(store, cid, "none", models))
            except Exception as exc:  # recorded on the claim, as the flow does
                steps.error_outcome(store, cid, f"extraction failed: {exc}")
        scores = steps.fraud_step(store, facts, models)
        for f in facts:
            steps.decide_step(store, f, scores.get(f.claim.claim_id), models, settings)
            steps.payout_step(store, f, f.claim.claim_id, issued_by="bench.load")
    finish_claims(store, taken, status=DONE)


def check_batch(store: Any, claims: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Anomalies, and the routes the claims took."""
    from pipeline.intake_tables import DONE, IntakeClaimRow
    from pipeline.records import ClaimFacts
    from pipeline.store import ClaimRow, PaymentRow

    accepted = set(claims.values())
    with store.session() as s:
        stored = set(s.scalars(select(ClaimRow.claim_id)))
        not_done = s.scalar(select(func.count()).where(IntakeClaimRow.status != DONE)) or 0
        paid = Counter(s.scalars(select(PaymentRow.claim_id)))
    outcomes = {cid: store.latest_outcome(cid) for cid in accepted}
    by_invoice: dict[tuple[str, str], set[str]] = defaultdict(set)
    overpaid = 0
    for cid in paid:
        facts = store.get_result(cid, Stage.FACTS, ClaimFacts)
        if facts is None:
            continue
        for inv in facts.invoices:
            by_invoice[(inv.invoice_code or "", inv.invoice_number or "")].add(cid)
        amount = sum((p.amount for p in store.payments(cid)), Decimal(0))
        if amount > facts.total_claimed:
            overpaid += 1
    anomalies = {
        "lost_claims": sum(1 for o in outcomes.values() if o is None) + not_done,
        "duplicate_claims": len(stored - accepted) + abs(len(claims) - len(accepted)),
        "paid_twice": sum(1 for n in paid.values() if n > 1),
        "invoice_paid_twice": sum(1 for ids in by_invoice.values() if len(ids) > 1),
        "overpaid": overpaid,
    }
    routes = Counter(o.route.value for o in outcomes.values() if o is not None)
    return anomalies, dict(sorted(routes.items()))


def run_batch(
    pg_url: str,
    root: Path,
    *,
    claims: int,
    clients: int,
    runner: str,
    in_process: bool,
    models: Path | None = None,
) -> dict[str, Any]:
    """Part (c): hospitals' keys and policies, serve, submit, process, check."""
    from intake.keys import create_key
    from pipeline.intake_tables import IntakeClaimRow
    from pipeline.store import open_store

    data = root / "batch"
    data.mkdir(parents=True, exist_ok=True)
    policies = data / "policies.csv"
    work = hospital_book(claims, 23, policies)
    settings = Settings(data_dir=data, database_url=pg_url, intake_dispatch="queue", intake_policies=policies)
    store = open_store(settings)
    keys = {
        h: create_key(
            store,
            "hospital",
            h,
            rate_per_minute=1e6,
            burst=1_000_000,
            settlement_bank="中国工商银行",
            settlement_account=_hospital_account(h),
        )[0]
        for h in sorted({h for h, _, _ in work})
    }
    trained: dict[str, float] = {}
    if runner == "flow":
        if models is not None:
            settings.models_dir.symlink_to(models.resolve(), target_is_directory=True)
        else:
            trained = train_models(settings)
    with running_server(settings, in_process=in_process) as base:
        calls, accepted, refused, submit_wall = submit_hospitals(base, work, keys, clients)
    t0 = time.perf_counter()
    if runner == "flow":
        from flows.intake import intake_batch

        intake_batch(data_dir=str(settings.data_dir), database_url=pg_url, chunk_size=50)
    else:
        process_steps(store, settings)
    process_wall = time.perf_counter() - t0
    anomalies, routes = check_batch(store, accepted)
    with store.session() as s:
        direct = s.scalar(select(func.count()).where(IntakeClaimRow.structured.is_(True))) or 0
    store.engine.dispose()
    anomalies["unexpected_status"] = calls.unexpected()
    return {
        "claims": len(work),
        "runner": runner,
        "path": "hospital structured submissions (POST /api/claims/hospital, no OCR) -> "
        + ("intake-batch Prefect flow with trained models" if runner == "flow" else "batch steps, no models"),
        "accepted": len(accepted),
        "refused": len(refused),
        "refusals": refused[:5],
        "structured_claims": direct,
        "submit_seconds": round(submit_wall, 1),
        "submit_per_second": round(len(work) / submit_wall, 1),
        "latency_submit": latency([s for _, st, s in calls.items if st == 201]),
        "process_seconds": round(process_wall, 1),
        "claims_per_minute": round(len(accepted) / process_wall * 60, 1) if process_wall else None,
        "models_trained_seconds": trained,
        "routes": routes,
        "anomalies": anomalies,
    }
