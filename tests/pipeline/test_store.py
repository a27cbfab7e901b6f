"""The case store on SQLite and PostgreSQL: round trips, idempotency, locks and the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from helpers import money
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from pipeline import decisions
from pipeline.records import (
    Adjudication,
    Claim,
    Decision,
    DocStatus,
    Document,
    Outcome,
    Page,
    ReviewAction,
    ReviewDecision,
    Route,
    TextLine,
)
from pipeline.settings import Settings
from pipeline.store import MIGRATIONS, CaseStore, open_store

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _doc(claim_id: str, data: bytes, name: str, **kw: object) -> Document:
    return Document(
        id=hashlib.sha256(data).hexdigest(),
        claim_id=claim_id,
        filename=name,
        media_type="image/jpeg",
        size_bytes=len(data),
        page_count=1,
        **kw,  # type: ignore[arg-type]
    )


def _claim(claim_id: str = "C1", docs: list[Document] | None = None) -> Claim:
    return Claim(
        claim_id=claim_id,
        policy_number="P-001",
        claimant="张三",
        claimant_id_number="11010519491231002X",
        incident_date=dt.date(2026, 2, 20),
        submitted_at=NOW,
        amount_claimed=Decimal("1234.5"),
        documents=docs or [],
    )


@pytest.fixture
def store(db_settings: Settings) -> CaseStore:
    s = open_store(db_settings)
    yield s
    s.engine.dispose()


def test_schema_comes_from_migrations(store: CaseStore) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "alembic_version",
        "batches",
        "claims",
        "documents",
        "claim_documents",
        "pages",
        "text_lines",
        "fields",
        "stage_results",
        "decisions",
        "payments",
        "review_tasks",
        "audit_events",
    } <= tables
    with store.engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        assert conn.execute(text("select version_num from alembic_version")).scalar() == head


def test_migrating_twice_is_harmless(db_settings: Settings) -> None:
    open_store(db_settings).engine.dispose()
    again = open_store(db_settings)
    assert again.count_claims() == 0


def test_claim_round_trip_with_documents(store: CaseStore) -> None:
    docs = [
        _doc("C1", b"a", "invoice.jpg"),
        _doc("C1", b"b", "bad.jpg", status=DocStatus.QUARANTINED, problem="bad.jpg: truncated JPEG"),
    ]
    claim = _claim(docs=docs)
    store.save_claim(claim, batch_id="B1")
    assert store.get_claim("C1") == claim
    assert [c.claim_id for c in store.list_claims(batch_id="B1")] == ["C1"]
    store.save_claim(claim, batch_id="B1")  # idempotent
    assert store.count_claims() == 1
    assert store.get_claim("nope") is None


def test_same_file_in_two_claims_is_one_document(store: CaseStore, tmp_path: Path) -> None:
    data = b"same bytes"
    store.save_claim(_claim("C1", [_doc("C1", data, "a.jpg")]))
    store.save_claim(_claim("C2", [_doc("C2", data, "b.jpg")]))
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from documents")).scalar() == 1
        assert conn.execute(text("select count(*) from claim_documents")).scalar() == 2
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    p1 = store.files.put(src, sha)
    p2 = store.files.put(src, sha)
    assert p1 == p2 == store.files.path(sha)
    assert p1.read_bytes() == data
    assert len(list(p1.parent.iterdir())) == 1  # no temp file left behind
    with pytest.raises(ValueError):
        store.files.put(src, "../../etc/passwd")


def test_pages_and_stage_results(store: CaseStore) -> None:
    store.save_claim(_claim(docs=[_doc("C1", b"a", "a.jpg")]))
    doc_id = hashlib.sha256(b"a").hexdigest()
    line = TextLine(text="合计 ¥123.40", box=[[0, 0], [10, 0], [10, 5], [0, 5]], score=0.93, raw_text="合汁")
    pages = [Page(number=1, width=100, height=50, lines=[line], rotation=90)]
    assert store.get_pages(doc_id, "rapidocr-v6") is None
    store.save_pages(doc_id, "rapidocr-v6", pages)
    store.save_pages(doc_id, "rapidocr-v6", pages)  # a re-read replaces, never doubles
    assert store.get_pages(doc_id, "rapidocr-v6") == pages

    adj = Adjudication(claim_id="C1", decision=Decision.APPROVE, payable=Decimal("10"), rule_set_version="r1")
    assert store.get_result("C1", "adjudicate", Adjudication) is None
    store.put_result("C1", "adjudicate", adj)
    store.put_result("C1", "adjudicate", adj)
    assert store.get_result("C1", "adjudicate", Adjudication) == adj
    assert store.results("C1", "adjudicate", Adjudication) == {"": adj}


def test_pages_keep_their_qr_codes_apart(store: CaseStore) -> None:
    """A page's decoded QR codes come back on `codes`, never among its read lines."""
    store.save_claim(_claim(docs=[_doc("C1", b"q", "q.jpg")]))
    doc_id = hashlib.sha256(b"q").hexdigest()
    line = TextLine(text="票据代码：41060221", box=[[0, 0], [10, 0], [10, 5], [0, 5]], score=0.97)
    code = TextLine(text="01,06,41060221", box=[[80, 0], [99, 0], [99, 19], [80, 19]], score=1.0, source="qr")
    pages = [Page(number=1, width=100, height=50, lines=[line], codes=[code])]
    store.save_pages(doc_id, "rapidocr-v6", pages)
    (back,) = store.get_pages(doc_id, "rapidocr-v6") or []
    assert back.lines == [line] and back.codes == [code]


def test_outcomes_are_versioned(store: CaseStore) -> None:
    store.save_claim(_claim())
    o = Outcome(claim_id="C1", route=Route.ADJUSTER, decided_at=NOW, reasons=["FRAUD_HIGH"])
    assert money.record(store, o) == 1
    o2 = o.model_copy(update={"route": Route.AUTO_APPROVE, "payable": Decimal("5")})
    assert decisions.record_review_decision(store, o2, reviewer="alice", routed_version=1).version == 2
    assert store.latest_outcome("C1") == o2
    assert store.claim_status("C1") == "decided:auto_approve"


def test_a_decision_time_is_kept_as_utc(store: CaseStore) -> None:
    """SQLite keeps a time's digits and drops its zone: a Beijing time is written as UTC, not 8 h off."""
    store.save_claim(_claim())
    beijing = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    money.record(store, Outcome(claim_id="C1", route=Route.ADJUSTER, decided_at=beijing, reasons=["X"]))
    with store.engine.connect() as conn:
        kept = conn.execute(text("select decided_at from decisions")).scalar_one()
    kept = kept if isinstance(kept, dt.datetime) else dt.datetime.fromisoformat(str(kept))
    assert kept.replace(tzinfo=None) == dt.datetime(2026, 3, 1, 10, 0) or kept == beijing


def test_review_lock_and_single_decision(store: CaseStore) -> None:
    store.save_claim(_claim())
    money.record(store, Outcome(claim_id="C1", route=Route.ADJUSTER, decided_at=NOW, reasons=["FRAUD_HIGH"]))
    assert store.lock_review("C1", "alice") is True
    assert store.lock_review("C1", "bob") is False
    bob = ReviewDecision(
        claim_id="C1", reviewer="bob", action=ReviewAction.DENY, reason="fake", decided_at=NOW
    )
    assert store.complete_review(bob) is False
    alice = ReviewDecision(
        claim_id="C1", reviewer="alice", action=ReviewAction.APPROVE, amount=Decimal(1), decided_at=NOW
    )
    assert store.complete_review(alice) is True
    assert store.complete_review(alice) is False  # decided once
    assert store.review_tasks(status="done")[0]["decision"]["reviewer"] == "alice"


def test_audit_trail_is_append_only(store: CaseStore) -> None:
    store.audit("alice", "view_claim", "C1", {"fields": ["id_number"]})
    store.audit("alice", "decide", "C1", {"action": "approve"})
    events = store.audit_events("C1")
    assert [e["action"] for e in events] == ["view_claim", "decide"]
    for sql in ("update audit_events set actor = 'mallory'", "delete from audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert len(store.audit_events("C1")) == 2


def test_default_settings_need_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for k in ("CLAIMS_DATA_DIR", "CLAIMS_DATABASE_URL"):
        monkeypatch.delenv(k, raising=False)
    s = Settings()
    assert s.db_url == f"sqlite:///{tmp_path / 'data' / 'claims.db'}"
    store = open_store(s)
    assert (tmp_path / "data" / "claims.db").exists()
    assert store.count_claims() == 0


def test_migration_0006_gives_stored_claims_their_clock(db_settings: Settings) -> None:
    """Claims stored before 0006 get their times from their record, the decisions, the ledger and the
    `resumed` and `review_applied` audit events."""
    import sqlalchemy as sa

    from pipeline.store import make_engine, migrate

    db_settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings.db_url)
    migrate(engine, "0005")
    at = sa.DateTime(timezone=True)
    created = NOW - dt.timedelta(hours=1)
    with engine.begin() as conn:
        for cid in ("A", "B", "C"):
            record = _claim(cid).model_dump(mode="json", exclude={"documents"})
            record["submitted_at"] = "2026-03-01T10:00:00+08:00"
            conn.execute(
                sa.text(
                    "insert into claims (claim_id, policy_number, claimant, status, record, created_at,"
                    " updated_at, version) values (:c, 'P-001', '张三', 'x', :r, :t, :t, 1)"
                ).bindparams(sa.bindparam("r", type_=sa.JSON), sa.bindparam("t", type_=at)),
                {"c": cid, "r": record, "t": created},
            )
        decided = [("A", 1, "flash_pay", NOW, "machine"), ("B", 1, "request_info", NOW, "machine")]
        decided += [
            ("C", 1, "adjuster", NOW, "machine"),
            ("C", 2, "deny", NOW + dt.timedelta(days=1), "review:a"),
        ]
        for cid, v, route, when, by in decided:
            conn.execute(
                sa.text(
                    "insert into decisions (claim_id, decision_version, route, payable, record, decided_at,"
                    " decided_by) values (:c, :v, :r, 0, :rec, :t, :by)"
                ).bindparams(sa.bindparam("rec", type_=sa.JSON), sa.bindparam("t", type_=at)),
                {"c": cid, "v": v, "r": route, "rec": {}, "t": when, "by": by},
            )
        conn.execute(
            sa.text(
                "insert into payments (idempotency_key, claim_id, decision_version, amount, status, record,"
                " issued_by, created_at) values ('A:d1', 'A', 1, 10, 'instructed', :rec, 'x', :t)"
            ).bindparams(sa.bindparam("rec", type_=sa.JSON), sa.bindparam("t", type_=at)),
            {"rec": {}, "t": NOW + dt.timedelta(minutes=5)},
        )
        for action, when in (
            ("resumed", NOW - dt.timedelta(minutes=30)),
            ("review_applied", NOW + dt.timedelta(days=4)),
        ):
            conn.execute(
                sa.text(
                    "insert into audit_events (at, actor, action, claim_id, detail)"
                    " values (:t, 'x', :a, 'C', :d)"
                ).bindparams(sa.bindparam("d", type_=sa.JSON), sa.bindparam("t", type_=at)),
                {"a": action, "t": when, "d": {}},
            )
    migrate(engine)
    store = open_store(db_settings)
    times = store.claims.times(["A", "B", "C"])
    submitted = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    a, b, c = times["A"], times["B"], times["C"]
    assert (a.submitted_at, a.documents_complete_at, a.decided_at, a.notice_at) == (
        submitted,
        created,
        NOW,
        NOW,
    )
    assert a.paid_at == NOW + dt.timedelta(minutes=5)
    assert (b.documents_complete_at, b.decided_at, b.notice_at) == (None, None, None)  # waits for documents
    assert c.documents_complete_at == NOW - dt.timedelta(minutes=30)  # the answer to its request
    assert (c.decided_at, c.notice_at) == (NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=4))
    store.engine.dispose()
    engine.dispose()
