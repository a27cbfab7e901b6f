"""Hostile input, made byte by byte: PDFs of any structure, images whose headers lie, names no file
system likes, rows no claim should have, and a batch folder holding them all between good claims.

Shared by the intake suite (`tests/pipeline/test_hostile_inputs.py`) and the batch-flow suite
(`tests/flows/test_hostile_batch.py`); the bytes come from `helpers.files`, nothing binary is committed.
"""

from __future__ import annotations

import gzip
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from helpers.batch import COLUMNS, claim_row, put, write_manifest
from helpers.files import (
    jpeg,
    jpeg_claiming,
    multipage_tiff,
    noise,
    pages_pdf,
    png_bad_crc,
    raw_pdf,
    save,
    sixteen_bit_png,
    tiff_pages,
    transparent_png,
    webp_claiming,
)

# --- the kinds ----------------------------------------------------------------------------------

MANIFEST_COLUMNS = [*COLUMNS, "amount_claimed"]
PAGE = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
ONE_PAGE = [*PAGE, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]


@dataclass(frozen=True)
class Kind:
    """One hostile file on a claim of its own, and what intake must make of it.

    `expect` is part of the problem the claim must carry (`<file>: <problem>`); None means the file
    is odd but fine and must be stored as `media_type` with `pages` pages. A kind with `data` is a
    file on disk (at `on_disk` if the manifest lists another spelling, as raw bytes for a name that
    is not UTF-8); `make` builds something else there. `folder` kinds list nothing: the claim's files
    are whatever its folder holds.
    """

    kind: str
    name: str
    data: bytes | None = None
    expect: str | None = None
    media_type: str | None = None
    pages: int = 1
    on_disk: str | bytes | None = None
    make: Callable[[Path], None] | None = None
    folder: bool = False
    shown: str | None = None
    """The file's name as the claim shows it, when not `name` (escaped or decoded)."""


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def _link_loop(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(path)


JS_OPEN = b"/OpenAction << /S /JavaScript /JS (app.launchURL('http://x.example/');) >> "
JS_HIDDEN = b"/OpenAction << /S /J#61va#53cript /JS (this.exportDataObject({cName: 'a'});) >> "
XML_BOMB = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"PE\x00\x00" + bytes(200)
TOO_LARGE = "too large: header says"

FILE_KINDS = [
    # decompression bombs in every accepted format but PNG (test_ingest has PNG)
    Kind("JPEG bomb", "bomb.jpg", jpeg_claiming(30000, 30000), f"JPEG {TOO_LARGE} 30000x30000 pixels"),
    Kind("TIFF bomb", "bomb.tif", tiff_pages([(8, 8, 30000, 30000)]), f"TIFF {TOO_LARGE} 30000x30000"),
    Kind(
        "TIFF bomb on page 2",
        "bomb-p2.tif",
        tiff_pages([(8, 8, 8, 8), (8, 8, 30000, 30000)]),
        f"TIFF (page 2) {TOO_LARGE} 30000x30000",
    ),
    Kind("WebP bomb", "bomb.webp", webp_claiming(16383, 16383), f"{TOO_LARGE} 16383x16383 = 268,402,689"),
    # PDFs
    Kind("PDF of 3000 pages", "3000.pdf", pages_pdf(3000), "PDF has 3000 pages, more than the limit of 200"),
    Kind(
        "PDF with a poster-sized page",
        "poster.pdf",
        pages_pdf(1, box=b"[0 0 14400 14400]"),
        "PDF page 1 is 508x508 cm: 40000x40000 pixels at 200 dpi",
    ),
    Kind(
        "PDF running JavaScript when opened", "js.pdf", pages_pdf(1, catalog=JS_OPEN), "contains JavaScript"
    ),
    Kind(
        "PDF with JavaScript under #-escaped names",
        "js-escaped.pdf",
        pages_pdf(1, catalog=JS_HIDDEN),
        "contains JavaScript",
    ),
    Kind(
        "PDF with document-level JavaScript",
        "js-names.pdf",
        pages_pdf(
            1, catalog=b"/Names << /JavaScript << /Names [(a) 4 0 R] >> >> ", extra=(b"<< /JS (1) >>",)
        ),
        "contains JavaScript",
    ),
    Kind(
        "PDF with a page tree that loops",
        "loop.pdf",
        raw_pdf([PAGE[0], PAGE[1].replace(b"3 0", b"2 0")]),
        "corrupt PDF",
    ),
    Kind("PDF with no pages", "empty.pdf", pages_pdf(0), "corrupt PDF"),
    Kind(
        "PDF header then garbage",
        "garbage.pdf",
        b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
        "corrupt PDF (not a readable PDF structure)",
    ),
    Kind(
        "PDF with a wrong cross-reference table",
        "xref.pdf",
        raw_pdf(ONE_PAGE, wrong_offsets=True),
        media_type="application/pdf",
    ),
    Kind(
        "PDF without a cross-reference table",
        "no-xref.pdf",
        raw_pdf(ONE_PAGE, xref=False),
        media_type="application/pdf",
    ),
    Kind(
        "PDF after a mail gateway's junk, named .jpg",
        "mail.jpg",
        b"Content-Type: application/pdf\r\n\r\n" + pages_pdf(2),
        media_type="application/pdf",
        pages=2,
    ),
    # wrong extensions and things that are no document at all
    Kind("HTML named .pdf", "invoice.pdf", b"<html><body>Session expired</body></html>", "an HTML page"),
    Kind("JPEG named .pdf", "scan.pdf", jpeg(seed=21), media_type="image/jpeg"),
    Kind("Windows program named .jpg", "photo.jpg", EXE, "unrecognised file type"),
    Kind("PHP script named .jpg", "shell.jpg", b"<?php system($_GET['c']); ?>\n", "a text file"),
    Kind("XML entity bomb named .jpg", "lol.jpg", XML_BOMB, "an XML file"),
    Kind("gzip named .pdf", "zipped.pdf", gzip.compress(b"%PDF-1.7 " * 1000), "a gzip archive"),
    # damaged images
    Kind("JPEG of three bytes", "stub.jpg", b"\xff\xd8\xff", "truncated JPEG (file ends inside the header)"),
    Kind("TIFF cut short", "cut.tif", save(Image.fromarray(noise((200, 150))), "TIFF")[:3000], "TIFF"),
    Kind("PNG with a bad checksum", "crc.png", png_bad_crc(), "corrupt PNG"),
    Kind("WebP header only", "head.webp", webp_claiming(64, 48)[:30], "truncated WebP"),
    # odd but fine: stored, and the loader must not turn them blank
    Kind("16-bit grey PNG", "deep.png", sixteen_bit_png(), media_type="image/png"),
    Kind("PNG with transparency", "clear.png", transparent_png(), media_type="image/png"),
    Kind(
        "CMYK JPEG",
        "cmyk.jpg",
        save(Image.fromarray(noise((64, 48), 5)).convert("CMYK"), "JPEG"),
        media_type="image/jpeg",
    ),
    Kind("three-page TIFF", "pages.tif", multipage_tiff(), media_type="image/tiff", pages=3),
]

NAME_KINDS = [
    Kind(
        "Windows path traversal",
        "..\\..\\etc\\passwd",
        expect="path leaves the batch folder",
        shown="../../etc/passwd",
    ),
    Kind("NUL in a file name", "a\x00.jpg", expect="control characters", shown="a\\u0000.jpg"),
    Kind(
        "file name of 900 bytes",
        "发" * 300 + ".jpg",
        expect="name too long (904 bytes in one part",
        shown="发" * 199 + "…",
    ),
    Kind("a folder listed as a file", "folder", make=lambda p: p.mkdir(), expect="not a regular file"),
    Kind("a FIFO (reading it would hang)", "pipe.jpg", make=_fifo, expect="not a regular file", folder=True),
    Kind("a symlink to itself", "loop.jpg", make=_link_loop, expect="a symlink loop", folder=True),
    Kind("listed but absent", "ghost.jpg", expect="listed but not found in the batch folder"),
    Kind(
        "right-to-left override in the name",
        "invoice\u202egpj.exe",
        jpeg(seed=22),
        media_type="image/jpeg",
        shown="invoice\\u202egpj.exe",
    ),
    Kind(
        "listed in NFC, on disk in NFD (macOS)",
        "facture-café.jpg",
        jpeg(seed=23),
        media_type="image/jpeg",
        on_disk=unicodedata.normalize("NFD", "facture-café.jpg"),
    ),
    Kind(
        "listed in another case",
        "INVOICE-2.JPG",
        jpeg(seed=24),
        media_type="image/jpeg",
        on_disk="invoice-2.jpg",
    ),
    Kind(
        "name in GBK bytes (a zip from Chinese Windows)",
        "发票.jpg",
        jpeg(seed=25),
        media_type="image/jpeg",
        on_disk="发票.jpg".encode("gbk"),
        folder=True,
    ),
    Kind("emoji and spaces", "🧾 门诊发票 (1).jpg", jpeg(seed=26), media_type="image/jpeg"),
]

KINDS = FILE_KINDS + NAME_KINDS


@dataclass(frozen=True)
class RowKind:
    """A manifest row that is hostile by its values; `error` means no claim, else a problem on it."""

    kind: str
    values: dict[str, str]
    expect: str
    error: bool = False


ROW_KINDS = [
    RowKind("absurd amount", {"amount_claimed": "999999999999999"}, "is implausibly large"),
    RowKind("amount in accounting brackets", {"amount_claimed": "(100.00)"}, "is not an amount"),
    RowKind("amount NaN", {"amount_claimed": "NaN"}, "is not an amount"),
    RowKind(
        "incident in the future",
        {"incident_date": "2099-01-01", "submitted_at": "2099-01-02"},
        "incident_date 2099-01-01 is in the future",
    ),
    RowKind("submitted in the future", {"submitted_at": "2099-01-02 08:00"}, "submitted_at 2099-01-02"),
    RowKind("incident in year 1", {"incident_date": "0001-01-01"}, "is before 1900-01-01"),
    RowKind("NUL in the claimant's name", {"claimant": "张\x00三"}, "(U+0000); removed"),
    RowKind(
        "zero-width space making a second G1", {"claim_id": "G1\u200b"}, "already appears on row", error=True
    ),
    RowKind("claim id of 100 characters", {"claim_id": "C" * 100}, "at most 64 characters", error=True),
    RowKind("date that is no date", {"incident_date": "2026-02-30"}, "is not a date", error=True),
]


def _place(batch: Path, claim_id: str, kind: Kind) -> None:
    base = batch / claim_id if kind.folder else batch
    if kind.make is not None:
        kind.make(base / kind.name)
    elif kind.data is not None:
        base.mkdir(parents=True, exist_ok=True)
        target = kind.on_disk if kind.on_disk is not None else kind.name
        if isinstance(target, bytes):
            with open(os.fsencode(base) + b"/" + target, "wb") as fh:
                fh.write(kind.data)
        else:
            (base / target).write_bytes(kind.data)


@dataclass
class HostileBatch:
    """What `write_hostile_batch` wrote: the claim of every kind, and the good claims."""

    kinds: dict[str, Kind]
    row_kinds: dict[str, RowKind]
    good: list[str]
    rows: int


def write_hostile_batch(batch: Path) -> HostileBatch:
    """Good claims G1-G3, one claim per kind (H01...), one row per row kind (R01...), a claim with no
    documents (E1) and one with the same file twice (D1), in `batch`."""
    rows = []
    good = []
    for i in range(1, 4):
        cid = f"G{i}"
        put(batch, f"good-{i}.jpg", jpeg(seed=100 + i))
        rows.append(claim_row(cid, [f"good-{i}.jpg"], amount_claimed="120.50"))
        good.append(cid)
    kinds: dict[str, Kind] = {}
    for n, kind in enumerate(KINDS, start=1):
        cid = f"H{n:02d}"
        _place(batch, cid, kind)
        rows.append(claim_row(cid, None if kind.folder else [kind.name]))
        kinds[cid] = kind
    row_kinds: dict[str, RowKind] = {}
    for n, row_kind in enumerate(ROW_KINDS, start=1):
        cid = f"R{n:02d}"
        put(batch, f"r{n}.jpg", jpeg(seed=200 + n))
        values = {"claim_id": cid, **row_kind.values}
        rows.append({**claim_row(cid, [f"r{n}.jpg"]), **values})
        row_kinds[values["claim_id"]] = row_kind
    # a claim with no documents: nothing listed, its folder empty
    (batch / "E1").mkdir()
    rows.append(claim_row("E1"))
    # the same file twice: once more in another row's claim, and twice within one claim
    put(batch, "twice.jpg", jpeg(seed=300))
    rows.append(claim_row("D1", ["twice.jpg", "twice.jpg", "./twice.jpg", "good-1.jpg"]))
    write_manifest(batch, rows, MANIFEST_COLUMNS)
    return HostileBatch(kinds, row_kinds, good, len(rows))
