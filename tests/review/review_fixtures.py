"""Helpers for the review app tests: a small case store built through the store's own API (no OCR), the
accounts of every role, and a client that signs in the way a browser does (fixtures in conftest.py).

The routed claim has one rendered page (an outpatient invoice drawn with the Noto CJK face), its OCR
lines and extracted fields with boxes on that page, a failed check, a rule trace, benefit lines, a
fraud score and an earlier claim by the same claimant; a second claim is above the adjusters'
authority, for four-eyes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from helpers import money
from sqlalchemy import select

from pipeline.records import (
    Adjudication,
    BenefitLine,
    Check,
    Claim,
    ClaimFacts,
    ClaimType,
    Complexity,
    Decision,
    DocType,
    Document,
    Extraction,
    Field,
    FieldKind,
    FraudBand,
    FraudReason,
    FraudScore,
    Invoice,
    Outcome,
    Page,
    Policy,
    Route,
    RuleHit,
    TextLine,
    TriageResult,
)
from pipeline.settings import Settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, open_store
from review.auth import Role, add_user

PASSWORD = "correct-horse-battery"
USERS = {
    "adj1": Role.ADJUSTER,
    "adj2": Role.ADJUSTER,
    "senior1": Role.SENIOR,
    "senior2": Role.SENIOR,
    "mgr1": Role.MANAGER,
    "ops1": Role.OPERATIONS,
    "aud1": Role.AUDITOR,
}
OCR_KEY = "test-ocr-1"
ID_NUMBER = "110101199003074514"
ACCOUNT = "6222021234567890128"
NOW = dt.datetime.now(dt.UTC)

# (text, (x0, y0, x1, y1), field name or None, kind)
LINES: list[tuple[str, tuple[int, int, int, int], str | None, FieldKind]] = [
    ("北京协和医院门诊收费票据", (260, 40, 740, 90), None, FieldKind.TEXT),
    ("姓名：张伟", (60, 140, 300, 180), "patient_name", FieldKind.TEXT),
    (f"身份证号：{ID_NUMBER}", (60, 200, 620, 240), "id_number", FieldKind.TEXT),
    ("就诊日期：2026-03-01", (60, 260, 420, 300), "visit_date", FieldKind.DATE),
    ("西药费 512.40", (60, 340, 400, 380), None, FieldKind.TEXT),
    ("检查费 300.00", (60, 400, 400, 440), None, FieldKind.TEXT),
    ("合计（小写）：812.40", (520, 520, 900, 560), "total", FieldKind.MONEY),
    (f"账号：{ACCOUNT}", (60, 600, 640, 640), "account_number", FieldKind.TEXT),
]
VALUES = {
    "patient_name": "张伟",
    "id_number": ID_NUMBER,
    "visit_date": "2026-03-01",
    "total": "812.40",
    "account_number": ACCOUNT,
}


def _box(b: tuple[int, int, int, int]) -> tuple[tuple[float, float], ...]:
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def render_page(path: Path) -> None:
    """The invoice page the boxes refer to, 1000x700."""
    import pylopdf_fonts_zh_cn
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"), 28)
    img = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(img)
    for text, (x0, y0, _, _), _, _ in LINES:
        draw.text((x0 + 4, y0 + 2), text, font=font, fill=(20, 20, 20))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


@dataclass
class Built:
    settings: Settings
    store: CaseStore
    claim_id: str
    big_claim_id: str
    earlier_id: str
    document_id: str


def _routed_claim(
    store: CaseStore,
    settings: Settings,
    claim_id: str,
    src: Path,
    amount: Decimal,
    *,
    star: int,
    due_in: dt.timedelta,
    band: FraudBand,
    submitted: dt.datetime,
) -> str:
    """A claim with its invoice read, its facts and fraud score, and the machine's referral."""
    claim, sha = _stored_claim(store, settings, claim_id, src, amount, submitted)
    check = _read_invoice(store, claim, sha, amount, star)
    _refer(store, claim_id, amount, star=star, due_in=due_in, band=band, submitted=submitted, check=check)
    return sha


def _stored_claim(
    store: CaseStore, settings: Settings, claim_id: str, src: Path, amount: Decimal, submitted: dt.datetime
) -> tuple[Claim, str]:
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    store.files.put(src, sha)
    doc = Document(
        id=sha,
        claim_id=claim_id,
        filename="invoice.png",
        media_type="image/png",
        size_bytes=src.stat().st_size,
        page_count=1,
        doc_type=DocType.OUTPATIENT_INVOICE,
    )
    claim = Claim(
        claim_id=claim_id,
        policy_number="POP2024000123",
        claimant="张伟",
        claimant_id_number=ID_NUMBER,
        claim_type=ClaimType.OUTPATIENT,
        incident_date=dt.date(2026, 3, 1),
        submitted_at=submitted,
        channel="app",
        amount_claimed=amount,
        documents=[doc],
    )
    store.save_claim(claim, batch_id="batch-test")
    page = Page(
        number=1,
        width=1000,
        height=700,
        lines=[TextLine(text=t, box=_box(b), score=0.97) for t, b, _, _ in LINES],
    )
    store.save_pages(sha, OCR_KEY, [page])
    image = settings.page_images(sha, OCR_KEY) / "1.jpg"
    image.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    with Image.open(src) as im:
        im.convert("RGB").save(image, format="JPEG", quality=90)
    return claim, sha


def _read_invoice(store: CaseStore, claim: Claim, sha: str, amount: Decimal, star: int) -> Check:
    claim_id = claim.claim_id
    fields = [
        Field(
            name=name,
            kind=kind,
            value=VALUES[name] if name != "total" else str(amount),
            raw_text=t.split("：", 1)[-1],
            confidence=0.62 if name == "total" else 0.95,
            page=1,
            box=_box(b),
        )
        for t, b, name, kind in LINES
        if name
    ]
    check = Check(
        name="items_sum_to_total",
        passed=False,
        message=f"fee items 812.40 != total {amount}",
        fields=["total"],
    )
    ex = Extraction(
        document_id=sha,
        doc_type=DocType.OUTPATIENT_INVOICE,
        doc_type_confidence=0.97,
        fields=fields,
        checks=[check],
    )
    store.put_result(claim_id, Stage.EXTRACT, ex, key=sha)
    policy = Policy(
        policy_number=claim.policy_number,
        product_id="OP-BASIC",
        policyholder="张伟",
        insured="张伟",
        effective_date=dt.date(2024, 1, 1),
        sum_insured=Decimal("50000"),
        social_insurance=True,
        star_tier=star,
    )
    facts = ClaimFacts(
        claim=claim,
        policy=policy,
        claim_type=ClaimType.OUTPATIENT,
        diagnoses=["J06.9"],
        hospital="北京协和医院",
        invoices=[Invoice(document_id=sha, total=amount, visit_date=dt.date(2026, 3, 1))],
        documents_present=[DocType.OUTPATIENT_INVOICE],
        failed_checks=[check],
        payee_name="张伟",
        payee_bank="中国工商银行",
        payee_account=ACCOUNT,
        low_confidence_fields=["total"],
    )
    store.put_result(claim_id, Stage.FACTS, facts)
    return check


def _refer(
    store: CaseStore,
    claim_id: str,
    amount: Decimal,
    *,
    star: int,
    due_in: dt.timedelta,
    band: FraudBand,
    submitted: dt.datetime,
    check: Check,
) -> None:
    adjudication = Adjudication(
        claim_id=claim_id,
        decision=Decision.REFER,
        payable=amount - Decimal("100.00"),
        benefit_lines=[
            BenefitLine(
                description="西药费",
                category="drug",
                claimed=amount - Decimal("300.00"),
                payable=amount - Decimal("400.00"),
                refused=Decimal("100.00"),
                reason_code="DEDUCTIBLE",
                message="免赔额 100 元",
            ),
            BenefitLine(
                description="检查费",
                category="exam",
                claimed=Decimal("300.00"),
                payable=Decimal("300.00"),
                refused=Decimal("0.00"),
                reason_code="COVERED",
            ),
        ],
        reason_codes=["DEDUCTIBLE", "LOW_CONFIDENCE_READING"],
        trace=[
            RuleHit(rule_id="R01", code="POLICY_IN_FORCE", passed=True, message="policy in force"),
            RuleHit(
                rule_id="R07",
                code="LOW_CONFIDENCE_READING",
                passed=False,
                message="total read with confidence 0.62",
            ),
        ],
        rule_set_version="2026.1",
        gate_probability=0.41,
        gate_model_version="gate-test",
    )
    outcome = Outcome(
        claim_id=claim_id,
        route=Route.ADJUSTER,
        reasons=["GATE_NOT_CONFIDENT: P(safe) 0.410 < 0.9", f"FRAUD_SCORE_{band.value.upper()}: score 0.55"],
        decided_at=submitted + dt.timedelta(minutes=5),
        rule_set_version="2026.1",
    )
    triage = TriageResult(
        claim_id=claim_id,
        complexity=Complexity.STANDARD,
        flash_pay_eligible=False,
        star_tier=star,
        priority=40 + 5 * (star - 1),
        due_at=NOW + due_in,
        reasons=["low-confidence fields: total"],
    )
    from adjudication.decide import DecisionBundle

    fraud = FraudScore(
        claim_id=claim_id,
        score=0.55 if band is FraudBand.HIGH else 0.08,
        band=band,
        reasons=[
            FraudReason(feature="claims_90d", contribution=0.31, message="3 claims in the last 90 days"),
            FraudReason(
                feature="account_shared", contribution=0.12, message="payee account used by 2 claimants"
            ),
        ],
        model_version="fraud-test",
    )
    store.put_result(claim_id, Stage.FRAUD, fraud)
    money.record(
        store,
        outcome,
        priority=triage.priority,
        due_at=triage.due_at,
        bundle=DecisionBundle(adjudication=adjudication, triage=triage, outcome=outcome),
    )


def build_store(root: Path, settings: Settings | None = None) -> Built:
    """A store with two routed claims, one earlier paid claim, and an account of every role."""
    settings = settings or Settings(data_dir=root / "data")
    store = open_store(settings)
    store.start_batch("batch-test", str(root / "batch"))
    src = root / "src" / "invoice.png"
    render_page(src)
    sha = _routed_claim(
        store,
        settings,
        "C100",
        src,
        Decimal("812.40"),
        star=3,
        due_in=dt.timedelta(hours=20),
        band=FraudBand.HIGH,
        submitted=NOW - dt.timedelta(days=1),
    )
    _routed_claim(
        store,
        settings,
        "C200",
        src,
        Decimal("25000.00"),
        star=1,
        due_in=dt.timedelta(days=4),
        band=FraudBand.LOW,
        submitted=NOW - dt.timedelta(days=1),
    )
    earlier = Claim(
        claim_id="C050",
        policy_number="POP2024000123",
        claimant="张伟",
        claimant_id_number=ID_NUMBER,
        claim_type=ClaimType.OUTPATIENT,
        incident_date=dt.date(2025, 11, 2),
        submitted_at=NOW - dt.timedelta(days=90),
        amount_claimed=Decimal("230.00"),
    )
    store.save_claim(earlier, batch_id="batch-test")
    money.record(
        store,
        Outcome(
            claim_id="C050",
            route=Route.FLASH_PAY,
            payable=Decimal("230.00"),
            decided_at=NOW - dt.timedelta(days=90),
        ),
    )
    store.finish_batch("batch-test", {"kpis": {"flash_pay_rate": 1 / 3, "referral_rate": 2 / 3, "errors": 0}})
    for username, role in USERS.items():
        add_user(store, username, PASSWORD, role, display_name=username.upper())
    return Built(settings, store, "C100", "C200", "C050", sha)


def set_amounts(store: CaseStore, claim_id: str, *, payable: Decimal | None, claimed: Decimal | None) -> None:
    """Rewrite a routed claim's figures: the benefit calculation's `payable` (None: no benefit lines)
    and what was claimed (None: no invoices and no amount on the claim)."""
    from adjudication.decide import DecisionBundle

    bundle = store.get_result(claim_id, "decision", DecisionBundle)
    facts = store.get_result(claim_id, "facts", ClaimFacts)
    assert bundle is not None and facts is not None
    lines = []
    if payable is not None:
        refused = (claimed or payable) - payable
        lines = [
            BenefitLine(
                description="手术费",
                category="surgery",
                claimed=payable + refused,
                payable=payable,
                refused=refused,
                reason_code="COVERED",
            )
        ]
    adjudication = bundle.adjudication.model_copy(
        update={"payable": payable or Decimal("0.00"), "benefit_lines": lines}
    )
    store.put_result(claim_id, "decision", bundle.model_copy(update={"adjudication": adjudication}))
    claim = facts.claim.model_copy(update={"amount_claimed": claimed})
    invoices = [facts.invoices[0].model_copy(update={"total": claimed})] if claimed is not None else []
    store.put_result(claim_id, "facts", facts.model_copy(update={"claim": claim, "invoices": invoices}))


WATCHED = "康泰综合门诊部"
"""A provider on the watch list of both rule sets (重点监控医疗机构)."""


def add_watch_list_referral(
    store: CaseStore, claim_id: str, *, recorded_before_sources: bool = False
) -> None:
    """A claim at a watched provider, decided by the engine while the fraud model scores it low 0.00:
    referred with `FRAUD_SUSPECTED` by the watch-list rule, not by the model (issue 23's three claims).

    `recorded_before_sources`: its decision, task and bundle hold the reasons as the strings they were
    stored as before reasons had sources (`CODE: message`), as the claims already in the queue do.
    """
    from helpers.facts import make_facts
    from sqlalchemy import update

    from adjudication.decide import index_and_decide
    from adjudication.history import MemoryInvoiceHistory
    from adjudication.rules import load_rule_book
    from pipeline.store import DecisionRow, ReviewTaskRow, StageResultRow

    submitted = NOW - dt.timedelta(hours=6)
    facts = make_facts(
        claim_id=claim_id, hospital=WATCHED, submitted=submitted, incident=dt.date(2026, 4, 20)
    )
    store.save_claim(facts.claim, batch_id="batch-test")
    store.put_result(claim_id, Stage.FACTS, facts)
    fraud = FraudScore(claim_id=claim_id, score=0.0, band=FraudBand.LOW, model_version="fraud-test")
    store.put_result(claim_id, Stage.FRAUD, fraud)
    bundle = index_and_decide(
        facts,
        rules=load_rule_book(),
        history=MemoryInvoiceHistory(),
        gate=None,
        fraud=fraud,
        settings=Settings(),
        now=submitted + dt.timedelta(minutes=5),
    )
    assert bundle.outcome.route is Route.ADJUSTER, bundle.outcome.reasons
    tri = bundle.triage
    money.record(store, bundle.outcome, priority=tri.priority, due_at=tri.due_at, bundle=bundle)
    if not recorded_before_sources:
        return
    old = [r.text for r in bundle.outcome.reasons]
    with store.session() as s:
        row = s.scalar(select(DecisionRow).where(DecisionRow.claim_id == claim_id))
        assert row is not None
        row.record = {**row.record, "reasons": old}
        s.execute(update(ReviewTaskRow).where(ReviewTaskRow.claim_id == claim_id).values(reasons=old))
        result = s.scalar(
            select(StageResultRow).where(
                StageResultRow.claim_id == claim_id, StageResultRow.stage == Stage.DECISION
            )
        )
        assert result is not None
        result.record = {**result.record, "outcome": {**result.record["outcome"], "reasons": old}}


def copy_built(template: Built, root: Path) -> Built:
    """A copy of a built store (its database, documents and page images) under `root`."""
    import shutil

    data = root / "data"
    shutil.copytree(template.settings.data_dir, data)
    settings = Settings(data_dir=data)
    store = open_store(settings)
    return Built(
        settings, store, template.claim_id, template.big_claim_id, template.earlier_id, template.document_id
    )


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TAG = re.compile(r"<[^>]+>")


def text_of(html: str, testid: str) -> str:
    """The text of the element marked `data-testid=testid`, its tags dropped and spaces collapsed, as
    a person reads it (the element must not hold another of its own tag name)."""
    m = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', html, re.S)
    assert m, f"no element data-testid={testid!r}"
    return re.sub(r" ([;,.:])", r"\1", " ".join(unescape(_TAG.sub(" ", m.group(2))).split()))


class Session:
    """A TestClient signed in as one person, posting forms with the CSRF token as a browser would."""

    def __init__(self, client: TestClient, username: str | None) -> None:
        self.client = client
        self.username = username
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> object:
        form = self.client.get("/login")
        token = _CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        r = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        if r.status_code == 303:
            self.username = username
            self.refresh_csrf()
        return r

    def refresh_csrf(self) -> None:
        page = self.client.get("/", follow_redirects=True)
        m = _CSRF.search(page.text)
        self.csrf = m.group(1) if m else ""

    def get(self, url: str, **kw: object) -> object:
        return self.client.get(url, follow_redirects=False, **kw)  # type: ignore[arg-type]

    def post(
        self, url: str, data: dict[str, object] | None = None, csrf: bool = True, **kw: object
    ) -> object:
        payload = dict(data or {})
        if csrf:
            payload.setdefault("csrf_token", self.csrf)
        return self.client.post(url, data=payload, follow_redirects=False, **kw)  # type: ignore[arg-type]


@contextmanager
def running(app: object) -> Iterator[str]:
    """The app on uvicorn, on a free loopback port, for a browser: yields its base URL."""
    import socket
    import threading
    import time

    import pytest
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # a busy machine starts it late; it is the start we wait for
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
