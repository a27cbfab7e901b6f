"""The page repository used on its own: one reading per OCR key, a re-read replacing the old one."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest

from pipeline.records import Claim, Document, Page, TextLine
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from pipeline.store.pages import PageRepository

BOX = [[0, 0], [10, 0], [10, 5], [0, 5]]
DOC_ID = hashlib.sha256(b"page").hexdigest()


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    doc = Document(
        id=DOC_ID, claim_id="C1", filename="a.jpg", media_type="image/jpeg", size_bytes=4, page_count=2
    )
    s.save_claim(
        Claim(
            claim_id="C1",
            policy_number="P1",
            claimant="张三",
            incident_date=now.date(),
            submitted_at=now,
            documents=[doc],
        )
    )
    yield s
    s.engine.dispose()


def _page(number: int, *texts: str, codes: tuple[str, ...] = ()) -> Page:
    return Page(
        number=number,
        width=100,
        height=50,
        lines=[TextLine(text=t, box=BOX, score=0.9) for t in texts],
        codes=[TextLine(text=c, box=BOX, score=1.0, source="qr") for c in codes],
    )


def test_pages_come_back_in_order_with_lines_and_codes_apart(store: CaseStore) -> None:
    pages = PageRepository(store)
    assert pages.get(DOC_ID, "engine-v1") is None
    read = [_page(2, "第二页"), _page(1, "合计 12.00", "姓名：张三", codes=("01,06,4106",))]
    pages.save(DOC_ID, "engine-v1", read)
    back = pages.get(DOC_ID, "engine-v1")
    assert back is not None and [p.number for p in back] == [1, 2]
    assert [ln.text for ln in back[0].lines] == ["合计 12.00", "姓名：张三"]
    assert [c.text for c in back[0].codes] == ["01,06,4106"] and back[1].codes == []


def test_a_reread_replaces_and_other_keys_stay(store: CaseStore) -> None:
    pages = PageRepository(store)
    pages.save(DOC_ID, "engine-v1", [_page(1, "old"), _page(2, "old")])
    pages.save(DOC_ID, "engine-v2", [_page(1, "other engine")])
    pages.save(DOC_ID, "engine-v1", [_page(1, "new")])
    assert pages.get(DOC_ID, "engine-v1") == [_page(1, "new")]
    assert pages.get(DOC_ID, "engine-v2") == [_page(1, "other engine")]
