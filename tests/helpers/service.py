"""A small case store with known times, for the service indicators computed by hand.

Every claim goes through the store's own writers with the times given: saved when its documents
arrived (`received_at`), decided by the machine (`record_machine_decision`, the decision's time) or by
an adjuster (`record_review_decision`, recorded — and notified — at `now`), resumed with documents
(`resume`), paid (`pay`). Only the claimant's rating is written straight to its intake row, as the
intake API's `rate` does. Base time T0 is Monday 2026-03-02 09:00 Beijing time, or any other `t0` given
(the review app's page shows the last 30 days); the incident is three calendar days before it.

| claim | route (by) | product, channel | submitted | documents complete | decided | paid / notified |
| P1 | flash pay (machine) | OP-BASIC, app | T0-2h | T0 | T0+10min | paid T0+10min |
| P2 | auto approve | OP-BASIC, batch | T0-1d | T0 | T0+1d | paid T0+1d+1h |
| P3 | adjuster approves | IP-PLUS, agent | T0-1d | T0 | T0+40d (complex) | paid T0+40d+2h |
| D1 | deny (machine) | OP-BASIC, app | T0-1d | T0 | T0+5min | notice T0+5min |
| D2 | adjuster denies | IP-PLUS, agent | T0-1d | T0 | T0+10d (complex) | notice T0+15d |
| R1 | asked T0+1h, approved | OP-BASIC, batch | T0-1d | T0+3d | T0+3d+1h | paid T0+3d+2h |
| H1 | auto approve, held | OP-BASIC, app | T0-1d | T0 | T0+2h | payment held |
| X1 | flash pay, before the period | OP-BASIC, app | T0-10d | T0-10d | T0-10d+1h | paid T0-10d+1h |
| O1 | waiting for an adjuster | OP-BASIC, app | | | | |
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from functools import partial

from adjudication.decide import DecisionBundle
from helpers import money
from pipeline import decisions
from pipeline.intake_tables import IntakeClaimRow
from pipeline.payout import Payee, pay
from pipeline.reasons import FRAUD_SUSPECTED, Reason, adjuster_source, model_source, rule_source
from pipeline.records import (
    Adjudication,
    Claim,
    ClaimFacts,
    ClaimType,
    Complexity,
    Decision,
    DocType,
    Document,
    Extraction,
    Invoice,
    Outcome,
    Policy,
    Route,
    TriageResult,
)
from pipeline.stages import Stage
from pipeline.store import CaseStore

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
H, D, M = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(minutes=1)
CARD = Payee(name="张三", bank="中国工商银行", account="4111111111111111")
FRAUD_MODEL = model_source("fraud", "v0001", band="high", score=0.61)
WATCH_LIST = rule_source("watched_provider", "provider on watch list")
DOCUMENTS_RULE = rule_source("required_documents", "required documents")
DECIDED_IN_PERIOD = ("P1", "P2", "P3", "D1", "D2", "R1", "H1")


def _new_claim(
    store: CaseStore,
    cid: str,
    *,
    incident: dt.date,
    channel: str,
    submitted: dt.datetime,
    received: dt.datetime,
    amount: str | None,
    documents: list[bool | None],
    product: str | None = "OP-BASIC",
) -> None:
    """A claim and its documents: True read and flagged for a person, False read clean, None unread."""
    docs = [
        Document(
            id=hashlib.sha256(f"{cid}-{i}".encode()).hexdigest(),
            claim_id=cid,
            filename=f"doc{i}.png",
            media_type="image/png",
            size_bytes=100,
            page_count=1,
        )
        for i in range(len(documents))
    ]
    claim = Claim(
        claim_id=cid,
        policy_number=f"POL-{cid}",
        claimant="张三",
        claim_type=ClaimType.OUTPATIENT,
        incident_date=incident,
        submitted_at=submitted,
        channel=channel,
        amount_claimed=Decimal(amount) if amount else None,
        documents=docs,
    )
    store.claims.save(claim, received_at=received)
    for doc, flagged in zip(docs, documents, strict=True):
        if flagged is not None:
            ex = Extraction(document_id=doc.id, doc_type=DocType.OTHER, needs_review=flagged)
            store.put_result(cid, Stage.EXTRACT, ex, key=doc.id)
    if product is not None:
        store.put_result(cid, Stage.POLICY, _policy(claim, product))


def _policy(claim: Claim, product: str) -> Policy:
    return Policy(
        policy_number=claim.policy_number,
        product_id=product,
        policyholder="张三",
        insured="张三",
        effective_date=dt.date(2024, 1, 1),
        sum_insured=Decimal("100000"),
        social_insurance=True,
    )


def _machine(
    store: CaseStore,
    cid: str,
    route: Route,
    at: dt.datetime,
    *,
    payable: str = "0",
    complexity: Complexity = Complexity.STANDARD,
    eligible: bool = False,
    reasons: list[Reason] | None = None,
) -> int:
    """The runner's decision with its bundle (what triage said of the claim)."""
    outcome = Outcome(
        claim_id=cid, route=route, payable=Decimal(payable), decided_at=at, reasons=reasons or []
    )
    bundle = DecisionBundle(
        adjudication=Adjudication(
            claim_id=cid, decision=Decision.APPROVE, payable=Decimal(payable), rule_set_version="test"
        ),
        triage=TriageResult(
            claim_id=cid,
            complexity=complexity,
            flash_pay_eligible=eligible,
            star_tier=1,
            priority=0,
            due_at=at + 5 * D,
        ),
        outcome=outcome,
    )
    return money.record(store, outcome, bundle=bundle)


def _adjuster(
    store: CaseStore,
    cid: str,
    route: Route,
    at: dt.datetime,
    notified: dt.datetime,
    routed: int,
    payable: str = "0",
) -> int:
    by = Reason(code="REVIEWED_BY", message="adj1", source=adjuster_source("adj1"))
    outcome = Outcome(claim_id=cid, route=route, payable=Decimal(payable), decided_at=at, reasons=[by])
    rec = decisions.record_review_decision(
        store, outcome, reviewer="adj1", routed_version=routed, now=notified
    )
    return rec.version


def _paid(store: CaseStore, cid: str, at: dt.datetime) -> None:
    assert pay(store, cid, CARD, entitled="张三", issued_by="test", now=at).instruction is not None


def _rate(store: CaseStore, cid: str, score: int, at: dt.datetime) -> None:
    with store.session() as s:
        s.add(
            IntakeClaimRow(
                claim_id=cid,
                owner="app:test",
                key_id="k1",
                channel="app",
                status="done",
                rating=score,
                rated_at=at,
            )
        )


def build_service_store(store: CaseStore, t0: dt.datetime = T0) -> None:
    """The claims of the table above, with their documents, triage, fraud flags and two ratings."""
    incident = (t0 + 8 * H).date() - 3 * D  # three calendar days before, in Beijing
    _claim = partial(_new_claim, incident=incident)
    _claim(
        store, "P1", channel="app", submitted=t0 - 2 * H, received=t0, amount="250", documents=[False, False]
    )
    _machine(
        store, "P1", Route.FLASH_PAY, t0 + 10 * M, payable="200", complexity=Complexity.SIMPLE, eligible=True
    )
    _paid(store, "P1", t0 + 10 * M)
    _rate(store, "P1", 5, t0 + D)

    _claim(
        store, "P2", channel="batch", submitted=t0 - D, received=t0, amount="1000", documents=[False, True]
    )
    _machine(store, "P2", Route.AUTO_APPROVE, t0 + D, payable="900")
    _paid(store, "P2", t0 + D + H)

    _claim(
        store,
        "P3",
        channel="agent",
        submitted=t0 - D,
        received=t0,
        amount=None,
        documents=[True, None, False],
        product=None,
    )
    facts = ClaimFacts(
        claim=store.get_claim("P3").model_copy(update={"documents": []}),  # type: ignore[union-attr]
        policy=_policy(store.get_claim("P3"), "IP-PLUS"),  # type: ignore[arg-type]
        claim_type=ClaimType.INPATIENT,
        invoices=[Invoice(total=Decimal("12000")), Invoice(total=Decimal("18000"))],
    )
    store.put_result("P3", Stage.FACTS, facts)
    v = _machine(
        store,
        "P3",
        Route.ADJUSTER,
        t0 + H,
        complexity=Complexity.COMPLEX,
        reasons=[Reason(code="FRAUD_SCORE_HIGH", message="score 0.61", source=FRAUD_MODEL)],
    )
    _adjuster(store, "P3", Route.AUTO_APPROVE, t0 + 40 * D, t0 + 40 * D, v, payable="20000")
    _paid(store, "P3", t0 + 40 * D + 2 * H)

    _claim(store, "D1", channel="app", submitted=t0 - D, received=t0, amount="500", documents=[False])
    _machine(store, "D1", Route.DENY, t0 + 5 * M, complexity=Complexity.SIMPLE, eligible=True)
    _rate(store, "D1", 2, t0 + D)

    _claim(
        store,
        "D2",
        channel="agent",
        submitted=t0 - D,
        received=t0,
        amount="8000",
        documents=[False, False],
        product="IP-PLUS",
    )
    v = _machine(
        store,
        "D2",
        Route.ADJUSTER,
        t0,
        complexity=Complexity.COMPLEX,
        reasons=[Reason(code=FRAUD_SUSPECTED, message="就诊机构在重点监控名单中", source=WATCH_LIST)],
    )
    _adjuster(store, "D2", Route.DENY, t0 + 10 * D, t0 + 15 * D, v)

    _claim(
        store, "R1", channel="batch", submitted=t0 - D, received=t0, amount="300", documents=[False, False]
    )
    _machine(
        store,
        "R1",
        Route.REQUEST_INFO,
        t0 + H,
        reasons=[Reason(code="MISSING_DOCUMENT", message="expense_list", source=DOCUMENTS_RULE)],
    )
    decisions.resume(store, "R1", actor="app:test", now=t0 + 3 * D)
    _machine(store, "R1", Route.AUTO_APPROVE, t0 + 3 * D + H, payable="300")
    _paid(store, "R1", t0 + 3 * D + 2 * H)

    _claim(store, "H1", channel="app", submitted=t0 - D, received=t0, amount="400", documents=[False])
    _machine(store, "H1", Route.AUTO_APPROVE, t0 + 2 * H, payable="400")
    held = pay(store, "H1", None, entitled="张三", issued_by="test", now=t0 + 2 * H)
    assert held.instruction is None and held.held

    before = t0 - 10 * D
    _claim(store, "X1", channel="app", submitted=before, received=before, amount="100", documents=[False])
    _machine(
        store, "X1", Route.FLASH_PAY, before + H, payable="100", complexity=Complexity.SIMPLE, eligible=True
    )
    _paid(store, "X1", before + H)

    _claim(store, "O1", channel="app", submitted=t0, received=t0, amount="700", documents=[False])
    _machine(store, "O1", Route.ADJUSTER, t0 + H)
