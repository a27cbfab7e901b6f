"""Hostile input at intake: every kind gives a clear problem on its own claim, naming the file and
what is wrong; the rest of the batch is stored; nothing is lost, whatever arrives.

One batch holds every file and row kind of `tests/helpers/hostile.py`, each on its own claim, between
good claims, and is ingested for real (`pipeline.ingest` + `pipeline.files`, the case store on
SQLite). Then every file in the folder must be found again: stored, quarantined with its reason,
named in a problem, or reported as unclaimed; every row a claim or a row error. What intake stores,
the OCR loader must read with the page count intake promised. The kinds `test_ingest.py` already
covers (truncated JPEG/PNG/WebP, HTML and SVG named .jpg, PNG bomb, encrypted and cut PDFs, symlinks
out, '../x.jpg', GBK manifest, negative amounts...) are not repeated. The batch flow over the same
batch is `tests/flows/test_hostile_batch.py`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers.batch import COLUMNS, put, sha, write_manifest
from helpers.files import jpeg, pages_pdf
from helpers.hostile import KINDS, ROW_KINDS, HostileBatch, Kind, write_hostile_batch

from ocr.images import DocumentError, load_document
from pipeline.errors import BadInputError
from pipeline.ingest import IngestReport, ingest_batch
from pipeline.records import DocStatus
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store


@pytest.fixture
def store(settings: Settings) -> Iterator[CaseStore]:
    s = open_store(settings)
    yield s
    s.engine.dispose()


def _shown(claim_id: str, kind: Kind) -> str:
    """The name the claim shows for the kind's file: relative to the batch, escaped where odd."""
    name = kind.shown or kind.name
    return f"{claim_id}/{name}" if kind.folder else name


Ingested = tuple[Path, IngestReport, HostileBatch]


@pytest.fixture
def ingested(tmp_path: Path, settings: Settings, store: CaseStore) -> Ingested:
    batch = tmp_path / "hostile"
    written = write_hostile_batch(batch)
    return batch, ingest_batch(batch, store, settings), written


def test_at_least_thirty_kinds() -> None:
    names = [k.kind for k in KINDS] + [r.kind for r in ROW_KINDS] + MANIFEST_KINDS
    assert len(names) == len(set(names)) and len(names) >= 30, len(names)


def test_every_hostile_file_is_named_on_its_own_claim_and_good_claims_are_untouched(
    ingested: Ingested,
    settings: Settings,
    store: CaseStore,
) -> None:
    _, report, written = ingested
    kinds, good = written.kinds, written.good
    for cid in good:
        claim = store.get_claim(cid)
        assert claim is not None and claim.problems == [], claim
        assert [d.status for d in claim.documents] == [DocStatus.STORED]
    for cid, kind in kinds.items():
        claim = store.get_claim(cid)
        assert claim is not None, kind.kind
        shown = _shown(cid, kind)
        if kind.expect is None:  # odd but fine
            assert claim.problems == [], (kind.kind, claim.problems)
            [doc] = claim.documents
            assert (doc.filename, doc.status, doc.media_type, doc.page_count) == (
                shown, DocStatus.STORED, kind.media_type, kind.pages,
            ), kind.kind  # fmt: skip
            assert store.files.path(doc.id) is not None and store.files.path(doc.id).read_bytes() == kind.data
            continue
        [problem] = claim.problems
        assert problem.startswith(f"{shown}: ") and kind.expect in problem, (kind.kind, problem)
        if kind.data is not None:  # read, judged and kept in quarantine with the reason
            [doc] = claim.documents
            assert doc.status is DocStatus.QUARANTINED and doc.problem == problem, kind.kind
            kept = settings.quarantine_dir / doc.id[:2] / doc.id
            assert kept.read_bytes() == kind.data
            assert kept.with_name(doc.id + ".reason.txt").read_text(encoding="utf-8").strip() == problem
            assert store.files.path(doc.id) is None
        else:  # never read
            assert claim.documents == [], kind.kind
    assert report.summary()["problems"].keys() >= {c for c, k in kinds.items() if k.expect}


def test_hostile_rows_are_problems_on_their_claim_or_row_errors(ingested: Ingested, store: CaseStore) -> None:
    _, report, written = ingested
    row_kinds = written.row_kinds
    errors = {e.claim_id: e.message for e in report.errors}
    for cid, row_kind in row_kinds.items():
        if row_kind.error:
            message = errors.get(cid.replace("\u200b", "")) or errors.get(cid)
            assert message is not None and row_kind.expect in message, (row_kind.kind, errors)
            continue
        claim = store.get_claim(cid)
        assert claim is not None, row_kind.kind
        assert any(row_kind.expect in p for p in claim.problems), (row_kind.kind, claim.problems)
        assert [d.status for d in claim.documents] == [DocStatus.STORED]
    assert store.get_claim("R07") is not None and store.get_claim("R07").claimant == "张三"  # type: ignore[union-attr]
    amounts = {c: store.get_claim(c).amount_claimed for c in ("R01", "R02", "R03")}  # type: ignore[union-attr]
    assert amounts == {"R01": None, "R02": None, "R03": None}


def test_no_documents_and_the_same_file_twice(ingested: Ingested, store: CaseStore) -> None:
    _, report, _ = ingested
    empty = store.get_claim("E1")
    assert empty is not None and empty.documents == []
    assert empty.problems == ["E1/: the claim's folder holds no files"]
    twice = store.get_claim("D1")
    assert twice is not None and twice.problems == []
    names = [d.filename for d in twice.documents]
    assert names == ["twice.jpg", "./twice.jpg", "good-1.jpg"]  # one name listed twice is one document
    assert twice.documents[0].id == twice.documents[1].id
    assert report.duplicates >= 2  # ./twice.jpg, and good-1.jpg again after G1


def test_nothing_is_lost(
    ingested: Ingested,
    settings: Settings,
    store: CaseStore,
) -> None:
    """Every row is a claim or an error; every file's bytes are stored, quarantined or reported."""
    batch, report, _ = ingested
    with (batch / "claims.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    claims = {c.claim_id: c for c in store.list_claims(report.batch_id)}
    assert len(claims) == report.claims and len(claims) + len(report.errors) == len(rows)
    accounted = sorted([s.row for s in report.claim_summaries] + [e.row for e in report.errors])
    assert accounted == list(range(2, len(rows) + 2))  # each line of claims.csv, once
    kept = {p.name for p in settings.documents_dir.rglob("*")} | {
        p.name for p in settings.quarantine_dir.rglob("*")
    }
    problems = " ".join(p for c in claims.values() for p in c.problems)
    for dirpath, _, filenames in os.walk(os.fsencode(batch)):
        for raw in filenames:
            path = Path(os.fsdecode(os.path.join(dirpath, raw)))
            rel = path.relative_to(batch).as_posix()
            if rel == "claims.csv":
                continue
            if not path.is_file():  # a FIFO, a link loop: named in a problem, never opened
                assert path.name in problems, rel
                continue
            digest = sha(path.read_bytes())
            assert digest in kept or any(u.endswith(path.name) for u in report.unclaimed), rel


def test_what_intake_stores_the_loader_reads_page_for_page(ingested: Ingested, store: CaseStore) -> None:
    """Intake's page count is the OCR loader's, and odd pixels come out as a person sees them."""
    _, report, written = ingested
    kinds = written.kinds
    for claim in store.list_claims(report.batch_id):
        for doc in claim.documents:
            if doc.status is DocStatus.STORED:
                path = store.files.path(doc.id)
                assert path is not None
                pages = load_document(path)  # stored without an extension: the bytes decide
                assert len(pages) == doc.page_count, doc.filename
    by_kind = {k.kind: cid for cid, k in kinds.items()}
    for kind in ("16-bit grey PNG", "PNG with transparency"):
        doc = store.get_claim(by_kind[kind]).documents[0]  # type: ignore[union-attr]
        [page] = load_document(store.files.path(doc.id))  # type: ignore[arg-type]
        img = page.image
        assert img is not None and img.dtype == np.uint8
        assert img.max() > 200 and img.min() < 60, (kind, img.min(), img.max())  # paper and ink
        assert img[0, 0].tolist() == [255, 255, 255] or img[0, 0].min() > 200, kind
    tiff = store.get_claim(by_kind["three-page TIFF"]).documents[0]  # type: ignore[union-attr]
    means = [int(p.image.mean()) for p in load_document(store.files.path(tiff.id))]  # type: ignore[union-attr, arg-type]
    assert means == [255, 0, 128]  # white, black, gray: three pages, in order


def test_the_loader_refuses_a_poster_page_before_drawing_it(tmp_path: Path) -> None:
    path = put(tmp_path, "poster", pages_pdf(1, box=b"[0 0 14400 14400]"))
    with pytest.raises(DocumentError, match="page 1 would be 40000x40000 pixels at 200 dpi"):
        load_document(path)


# --- the manifest -----------------------------------------------------------------------------------

MANIFEST_KINDS = [
    "GB18030 characters beyond GBK",
    "UTF-16 tab-separated (Excel's Unicode text)",
    "JSON nested 100000 deep",
    "an unclosed quote swallowing the next rows",
    "a cell of 200000 characters",
    "a row with too few cells",
    "a zero-byte claims.csv",
    "a header and no rows",
]


def test_gb18030_and_utf16_manifests(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    row = ["C1", "P-1", "𠮷野家", "2026-02-20", "2026-03-01", "app", "a.jpg"]
    for name, data in {
        "gb18030": (",".join(COLUMNS) + "\r\n" + ",".join(row) + "\r\n").encode("gb18030"),
        "utf16": ("\ufeff" + "\t".join(COLUMNS) + "\r\n" + "\t".join(row) + "\r\n").encode("utf-16-le"),
    }.items():
        batch = tmp_path / name
        put(batch, "a.jpg", jpeg())
        (batch / "claims.csv").write_bytes(data)
        report = ingest_batch(batch, store, settings)
        assert (report.claims, report.errors, report.documents_stored) == (1, [], 1), name
        claim = store.get_claim("C1")
        assert claim is not None and claim.claimant == "𠮷野家" and claim.problems == [], name


def test_json_nesting_bomb_is_a_bad_input_error(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "claims.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(BadInputError, match=r"claims\.json: not a list of claims \(JSON nested too deeply\)"):
        ingest_batch(batch, store, settings)


def test_unclosed_quote_names_the_rows_it_swallowed(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        put(batch, name, jpeg(seed=ord(name[0])))
    (batch / "claims.csv").write_text(
        ",".join(COLUMNS) + "\r\n"
        "C1,P-1,张三,2026-02-20,2026-03-01,app,a.jpg\r\n"
        'C2,P-1,"李四,2026-02-20,2026-03-01,app,b.jpg\r\n'
        "C3,P-1,王五,2026-02-20,2026-03-01,app,c.jpg\r\n",
        encoding="utf-8",
    )
    report = ingest_batch(batch, store, settings)
    assert [c.claim_id for c in store.list_claims(report.batch_id)] == ["C1"]
    [error] = report.errors
    assert error.row == 3 and "a quote opened in this row is not closed, so lines 3-4" in error.message
    assert "(1 of them look like claims of their own)" in error.message
    assert report.unclaimed == ["b.jpg", "c.jpg"]  # the swallowed claims' files are not lost


def test_giant_cell_and_short_row_are_row_errors_and_the_batch_goes_on(
    tmp_path: Path, settings: Settings, store: CaseStore
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    put(batch, "a.jpg", jpeg())
    text = (
        ",".join(COLUMNS) + "\r\n"
        f"C1,P-1,{'x' * 200_000},2026-02-20,2026-03-01,app,a.jpg\r\n"
        "C2,P-1,李四\r\n"
        "C3,P-1,王五,2026-02-20,2026-03-01,app,a.jpg\r\n"
    )
    (batch / "claims.csv").write_text(text, encoding="utf-8")
    report = ingest_batch(batch, store, settings)
    assert [c.claim_id for c in store.list_claims(report.batch_id)] == ["C3"]
    messages = [e.message for e in report.errors]
    assert "claims.csv row 2: claimant string should have at most 128 characters" in messages[0]
    assert "claims.csv row 3: incident_date is missing" in messages[1]
    assert len(json.dumps(report.summary())) < 2000  # the giant value is not echoed back


def test_empty_and_header_only_manifests(tmp_path: Path, settings: Settings, store: CaseStore) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "claims.csv").write_bytes(b"")
    with pytest.raises(BadInputError, match=r"claims\.csv: empty: no header row"):
        ingest_batch(batch, store, settings)
    put(batch, "a.jpg", jpeg())
    write_manifest(batch, [])
    report = ingest_batch(batch, store, settings)
    assert (report.claims, report.errors, report.unclaimed) == (0, [], ["a.jpg"])
