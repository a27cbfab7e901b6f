"""The batch flow over the hostile batch of `tests/helpers/hostile.py`: good claims between dozens of
hostile files, names and rows. Every row ends as a claim with exactly one outcome or as a row error;
every hostile file is named on its claim; what intake stored, the flow reads (real loaders, a fake
OCR engine that sees no text: this test is about accounting, not reading)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.fake_reading import fake_ocr
from helpers.hostile import write_hostile_batch
from sqlalchemy import func, select

from flows import steps
from flows.claims_batch import claims_batch
from ocr.elements import Page
from pipeline.records import Claim, DocStatus, DocType, Document, Extraction, Field, FieldKind, Route
from pipeline.settings import Settings
from pipeline.store import DecisionRow, PaymentRow, open_store


@pytest.mark.usefixtures("prefect_harness")
def test_hostile_and_good_claims_in_one_batch_all_end_accounted_for(
    tmp_path: Path, flow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = tmp_path / "batch"
    written = write_hostile_batch(batch)
    fake_ocr(monkeypatch)

    result = claims_batch(str(batch), str(flow_settings.data_dir))

    store = open_store(flow_settings)
    claims = {c.claim_id: c for c in store.list_claims(batch_id=result.batch_id)}
    assert len(claims) + len(result.ingest["errors"]) == written.rows  # every row: a claim or an error
    assert {r.claim_id for r in result.claims} == set(claims)
    with store.session() as s:
        decisions = Counter(s.scalars(select(DecisionRow.claim_id)))
        payment_keys = s.execute(
            select(PaymentRow.idempotency_key).group_by(PaymentRow.idempotency_key).having(func.count() > 1)
        ).all()
    assert decisions == Counter(dict.fromkeys(claims, 1))  # exactly one outcome each
    assert payment_keys == []
    # no claim failed in the flow: whatever intake stored loaded, whatever it refused is named
    assert [r for r in result.claims if r.route in (Route.ERROR.value, "waiting")] == []
    problems = result.ingest["problems"]
    for cid, kind in written.kinds.items():
        if kind.expect is not None:
            assert any(kind.expect in p for p in problems[cid]), (kind.kind, problems.get(cid))
    for cid in written.good:
        assert cid not in problems
        assert all(d.status is DocStatus.STORED for d in claims[cid].documents)
    read = sum(1 for c in claims.values() for d in c.documents if d.status is DocStatus.STORED)
    assert read > 20


def test_the_same_file_twice_in_a_claim_is_one_invoice(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo attached twice (two names, one SHA-256) must not make two invoices: paid twice."""
    store = open_store(settings)
    doc_id = "ab" * 32
    docs = [
        Document(
            id=doc_id, claim_id="C1", filename=name, media_type="image/jpeg", size_bytes=10, page_count=1
        )
        for name in ("invoice.jpg", "invoice (1).jpg")
    ]
    claim = Claim(
        claim_id="C1",
        policy_number="P1",
        claimant="张三",
        incident_date=dt.date(2026, 2, 20),
        submitted_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        documents=docs,
    )
    store.save_claim(claim)
    invoice = Extraction(
        document_id=doc_id,
        doc_type=DocType.OUTPATIENT_INVOICE,
        fields=[
            Field(name="total_amount", kind=FieldKind.MONEY, value=Decimal("388.50")),
            Field(name="invoice_number", value="00012345"),
        ],
    )
    monkeypatch.setattr(steps, "extract", lambda pages, model, document_id: invoice)
    store.save_pages(doc_id, "k", [Page(number=1, width=100, height=100)])
    models = steps.Models(doc_type=None, rules=None, gate=None, fraud=None)  # type: ignore[arg-type]

    facts = steps.extract_step(store, "C1", "k", models)

    assert [i.total for i in facts.invoices] == [Decimal("388.50")]
    store.engine.dispose()
