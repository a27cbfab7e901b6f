"""Personal data masked in logs (issue 11, point 5): ID, account and phone numbers by their shape,
wherever they turn up in a record, installed by the `claims` command and by both web apps; and a
claim taken through ingest, extraction and decision logs none of its numbers in clear."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import logs
from pipeline.logs import mask_pii

ID_NUMBER = "110101199003074514"
ID_WITH_X = "11010519491231002X"
OLD_ID = "110101900307451"
CARD = "6222021234567890128"
PHONE = "13812345678"
SECRETS = (ID_NUMBER, ID_WITH_X, OLD_ID, CARD, PHONE, "6222 0212 3456 7890 128")


@pytest.fixture
def masking() -> Iterator[None]:
    """Masking off at the start (an app made by an earlier test installs it for the process), and the
    process's record factory as it was afterwards."""
    before = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(before)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"身份证号：{ID_NUMBER}。", "身份证号：1101**********4514。"),
        (f"id={ID_WITH_X}", "id=1101**********002X"),
        (f"old id {OLD_ID}", "old id 1101*******7451"),
        (f"卡号{CARD}", "卡号6222***********0128"),
        ("card 6222 0212 3456 7890 128", "card 6222***********0128"),
        (f"手机{PHONE}", "手机138****5678"),
        ("tel +86 138-1234-5678", "tel 138****5678"),
        ("corporate account 020000123456", "corporate account 0200****3456"),
    ],
)
def test_numbers_are_masked_by_their_shape(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "payable 12345.67 of 3000.00",
        "score 0.123456789012345678",
        "document " + "ab12cd34" * 8,  # a SHA-256
        "claim APP-1A2B3C4D5E6F7A8B, HSP-0123456789ABCDEF",
        "invoice 11060125 0012345678",  # invoice code and number: not a person's
        "2025-06-01 12:30:45, 20250601",
        "123456789012.50 yuan",
        "C0001 row 12",
    ],
)
def test_what_is_not_shaped_like_a_number_of_a_person_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_every_part_of_a_record_is_masked(masking: None, caplog: pytest.LogCaptureFixture) -> None:
    logs.install()
    logs.install()  # idempotent: one layer, not two
    assert logs.installed() and not getattr(
        logging.getLogRecordFactory().previous, "masks_personal_data", False
    )  # type: ignore[attr-defined]
    log = logging.getLogger("claims.test")
    with caplog.at_level(logging.DEBUG):
        log.info(f"literal {ID_NUMBER}")
        log.info("as an argument %s", CARD)
        log.info("as a number %d", int(CARD))
        log.info("in a mapping %(phone)s", {"phone": PHONE})
        log.warning("an object %s", {"claimant_id_number": ID_WITH_X})
        try:
            raise ValueError(f"claimant_id_number {OLD_ID} fails its check digit")
        except ValueError:
            log.exception("extraction failed")
        log.info("with the stack", stack_info=True)
        # a formatter that reads the arguments itself (uvicorn's access log) still finds them
        logging.getLogger("claims.test.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/claims/{ID_NUMBER}", "1.1", 404
        )
    text = caplog.text
    assert not [s for s in SECRETS if s in text], text
    assert "1101**********4514" in text and "6222***********0128" in text and "138****5678" in text
    access = caplog.records[-1]
    assert isinstance(access.args, tuple) and len(access.args) == 5 and "1101***" in access.args[2]


def test_the_command_and_both_apps_install_it(
    masking: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app as cli
    from pipeline.settings import Settings, get_settings

    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "cli"))
    get_settings.cache_clear()
    try:
        assert not logs.installed()
        assert CliRunner().invoke(cli, ["intake", "keys", "--json"]).exit_code == 0
        assert logs.installed()
    finally:
        get_settings.cache_clear()
    from intake.app import create_app as intake_app
    from intake.dispatch import QueueDispatcher
    from review.app import create_app as review_app

    for make in (
        lambda s: intake_app(s, dispatcher=QueueDispatcher()),
        review_app,
    ):
        logging.setLogRecordFactory(logging.LogRecord)
        make(Settings(data_dir=tmp_path / "apps"))
        assert logs.installed()


# --- a claim through ingest, extraction and decision ---------------------------------------------------


def _jpeg(seed: int) -> bytes:
    arr = (np.random.default_rng(seed).random((32, 48, 3)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG")
    return out.getvalue()


def _extraction(document_id: str, doc_type: str, fields: dict[str, tuple[str, str]]) -> object:
    from pipeline.records import DocType, Extraction, Field, FieldKind

    return Extraction(
        document_id=document_id,
        doc_type=DocType(doc_type),
        doc_type_confidence=0.99,
        fields=[
            Field(name=n, kind=FieldKind(k), value=v, raw_text=v, confidence=0.97, page=1)
            for n, (k, v) in fields.items()
        ],
    )


def test_a_claim_through_ingest_extraction_and_decision_logs_no_number_in_clear(
    masking: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Run as `claims ingest` runs it (the command installs the masking), then the batch's steps on
    the stored documents with their extractions made here (no OCR). The manifest's second row puts an
    ID and a card number in one cell: the row is refused and its message, quoting the cell, is logged."""
    from typer.testing import CliRunner

    from adjudication.rules import load_rule_book
    from flows import steps
    from flows.cli import app as cli
    from pipeline.settings import Settings, get_settings
    from pipeline.stages import Stage
    from pipeline.store import open_store

    batch = tmp_path / "batch"
    batch.mkdir()
    for name, seed in (("invoice.jpg", 1), ("id_card.jpg", 2), ("bank_card.jpg", 3)):
        (batch / name).write_bytes(_jpeg(seed))
    columns = ["claim_id", "policy_number", "claimant", "claimant_id_number", "incident_date", "submitted_at",
               "channel", "claim_type", "amount_claimed", "documents"]  # fmt: skip
    common = {"policy_number": "POP1", "claimant": "张伟", "incident_date": "2025-06-01",
              "submitted_at": "2025-06-02 09:00", "channel": "app", "claim_type": "outpatient"}  # fmt: skip
    with (batch / "claims.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerow({**common, "claim_id": "C1", "claimant_id_number": ID_NUMBER, "amount_claimed": "812.40",
                    "documents": "invoice.jpg;id_card.jpg;bank_card.jpg"})  # fmt: skip
        w.writerow({**common, "claim_id": "C2", "claimant_id_number": f"{ID_NUMBER} / {CARD} / {PHONE}",
                    "incident_date": "", "documents": ""})  # fmt: skip
    data = tmp_path / "data"
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(data))
    get_settings.cache_clear()
    caplog.set_level(logging.DEBUG)
    try:
        result = CliRunner().invoke(cli, ["--verbose", "ingest", str(batch), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert logs.installed()

    settings = Settings(data_dir=data)
    store = open_store(settings)
    claim = store.get_claim("C1")
    assert claim is not None and len(claim.documents) == 3
    by_name = {d.filename: d.id for d in claim.documents}
    invoice = {
        "patient_name": ("text", "张伟"),
        "id_number": ("text", ID_NUMBER),
        "total_amount": ("money", "812.40"),
        "visit_date": ("date", "2025-06-01"),
        "hospital": ("text", "北京协和医院"),
    }
    made = {
        "invoice.jpg": ("outpatient_invoice", invoice),
        "id_card.jpg": ("id_card", {"name": ("text", "张伟"), "id_number": ("text", ID_NUMBER)}),
        "bank_card.jpg": ("bank_card", {"card_number": ("text", CARD), "bank": ("text", "中国工商银行")}),
    }
    for name, (doc_type, fields) in made.items():
        ex = _extraction(by_name[name], doc_type, fields)
        store.put_result("C1", Stage.EXTRACT, ex, key=by_name[name])  # type: ignore[arg-type]
    models = steps.Models(doc_type=None, rules=load_rule_book(), gate=None, fraud=None)  # type: ignore[arg-type]
    facts = steps.extract_step(store, "C1", "none", models)
    steps.decide_step(store, facts, None, models, settings, now=dt.datetime(2025, 6, 3, tzinfo=dt.UTC))
    steps.payout_step(store, facts, "C1", issued_by="test")
    logging.getLogger("flows.claims_batch").warning(  # as the batch logs a claim that failed
        "claim %s: %s failed", "C1", "decision", exc_info=ValueError(f"payee {CARD} for {ID_NUMBER}")
    )
    assert facts.claim.claimant_id_number == ID_NUMBER and facts.total_claimed == Decimal("812.40")

    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "claims.csv row 3" in text  # the refused row was logged ...
    assert "1101**********4514" in text  # ... with its numbers masked
    assert not [s for s in SECRETS if s in text]
    store.engine.dispose()
