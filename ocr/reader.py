"""The OCR stage: a document file in, pages of text lines out.

`read_document(path)` is the one entry point: load (EXIF, PDF text layer), clean (perspective,
orientation, skew, light, seals), detect at one chosen scale, recognise crops cut from the
full-resolution page, re-read uncertain lines on enhanced crops, correct what the domain makes safe,
and order the lines in rows. Results are cached on disk by file hash, engine and cleaning version.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocr import clean
from ocr.correct import correct_line
from ocr.elements import Page, TextLine
from ocr.engine import Detection, OcrEngine, Reading, get_engine
from ocr.images import PageImage, load_document, render_pdf_page
from ocr.layout import reading_order
from ocr.numbers import failed_numbers, id_number_valid, long_numbers
from ocr.qr import QR_VERSION, decode_qr
from ocr.seals import SEALS_VERSION, find_circles, read_seals, seal_ink

log = logging.getLogger(__name__)

READ_VERSION = "9"
"""Version of what happens after detection (re-reading uncertain lines and numbers failing their
check, correction, QR codes decoded onto the page): part of the cache key, so bump it when a change
there changes what a page reads as (8: `Page.codes`, see ocr/qr.py; 9: `Page.seals`, ocr/seals.py)."""


@dataclass(frozen=True)
class ReadOptions:
    """Knobs of the OCR stage; part of the cache key, so changing one never serves stale results."""

    probe_side: int = 1600
    """Long side of the first detection pass (orientation, skew, page outline, text height). Its
    boxes are kept as the final ones when that scale is close enough to the wanted one."""
    reuse_probe: float = 1.35
    """Keep the probe's boxes when the wanted detection scale is within this factor of it."""
    target_line_px: float = 32.0
    """Text-line height the main detection pass sees."""
    det_max_side: int = 2400
    min_score: float = 0.5
    """Lines read with less confidence are dropped, as the raw model does."""
    retry_char_below: float = 0.6
    """Lines with a character read under this probability are read again from an enhanced crop
    (dot-matrix print: dots joined by a slight blur); the surer reading wins."""
    retry_kinds: tuple[str, ...] = ("blur",)
    retry_short_below: float = 0.9
    """A line of one or two characters read with less confidence is read again too: on so short a
    crop the model can merge two characters into one (吕兰 read as 吕)."""
    retry_max: int = 20
    """At most this many lines are re-read (the least sure ones): an unreadable page costs no more."""
    number_kinds: tuple[str, ...] = ("stretch_1.3", "stretch_1.6", "contrast")
    """Crop variants read again for a line whose ID-like number fails its check digit (small print
    merges a pair of equal digits); only a reading that passes GB 11643 is kept."""
    crop_pad: float = 0.08
    orientation: bool = True
    perspective: bool = True
    seals: bool = True
    light: bool = True
    correct: bool = True
    lexicon: tuple[str, ...] = ()
    """Known words for this document beyond ocr/lexicon.txt (policyholder address, employer, ...)."""
    qr: bool = True
    """Decode QR codes on the page (`Page.codes`): the 财政电子票据 carries its key fields in one."""
    read_seals: bool = True
    """Read round seals along their ring (`Page.seals`): the hospital's name on its 收费专用章."""

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


@dataclass
class PageTrace:
    """What the clean-up did to one page, for benchmarks and debugging."""

    rotation: int = 0
    skew: float = 0.0
    warped: bool = False
    seal_pixels: int = 0
    light: bool = False
    det_scale: float = 1.0
    retried: int = 0
    improved: int = 0
    numbers_fixed: int = 0
    corrected: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per step, for finding where time goes."""

    def lap(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - since, 3)
        return now


def read_image(
    image: np.ndarray, engine: OcrEngine | None = None, *, number: int = 1, options: ReadOptions | None = None
) -> tuple[Page, np.ndarray, PageTrace]:
    """OCR one BGR page image; returns the page, the cleaned image its boxes refer to, and a trace."""
    t0 = time.perf_counter()
    engine = engine or get_engine()
    opt = options or ReadOptions()
    trace = PageTrace()

    # QR codes first, on the pixels as they came (clean-up resamples fine modules into grey); their
    # boxes then follow the page through every turn below, as the probe's boxes do
    codes = [(c.text, np.asarray(c.box, dtype=np.float32)) for c in decode_qr(image)] if opt.qr else []
    t = trace.lap("qr", t0)

    # round seals found on the pixels as they came, before their ink is faded below; read once the
    # page's orientation is known, their boxes following the page like the QR codes'
    ink = seal_ink(image) if opt.read_seals else None
    circles = find_circles(ink) if ink is not None else []
    stamps = [c.box() for c in circles]

    # 0. red seals (and the 样本 stamp of a sample ID card) faded first: a pixel's colour says it is
    # seal ink whichever way up the page is, and the probe's boxes, which the main pass may reuse,
    # must not lose the text lines a stamp crosses
    if opt.seals:
        image, trace.seal_pixels = clean.suppress_seals(image)

    # 1. a fast detection pass on a small copy: page outline check, orientation, skew, text height
    probe_scale = min(1.0, opt.probe_side / max(image.shape[:2]))
    probe_boxes = _detect(engine, image, probe_scale)
    t = trace.lap("probe", t)

    if opt.perspective:
        quad = clean.find_page_quad(image)
        if quad is not None and clean.quad_needs_warp(quad) and _inside_share(probe_boxes, quad) >= 0.9:
            image, m = clean.warp_quad(image, quad)
            probe_boxes = [clean.order_points(clean.transform_points(b, m)) for b in probe_boxes]
            codes = [(text, clean.transform_points(b, m)) for text, b in codes]
            stamps = [clean.transform_points(b, m) for b in stamps]
            trace.warped = True

    if opt.light:
        image, trace.light = clean.normalise_light(image)
    t = trace.lap("perspective_light", t)

    if opt.orientation and probe_boxes:
        orient = clean.detect_orientation(image, probe_boxes, engine)
        if orient.rotation:
            h, w = image.shape[:2]
            image = clean.rotate_quarter(image, orient.rotation)
            probe_boxes = [
                clean.order_points(clean.rotate_quarter_points(b, orient.rotation, w, h)) for b in probe_boxes
            ]
            codes = [(text, clean.rotate_quarter_points(b, orient.rotation, w, h)) for text, b in codes]
            stamps = [clean.rotate_quarter_points(b, orient.rotation, w, h) for b in stamps]
            trace.rotation = orient.rotation
    t = trace.lap("orientation", t)

    angle = clean.skew_angle(probe_boxes)
    image, m = clean.deskew(image, angle)
    if m is not None:
        trace.skew = angle
        probe_boxes = [clean.order_points(clean.transform_points(b, m)) for b in probe_boxes]
        codes = [(text, clean.transform_points(b, m)) for text, b in codes]
        stamps = [clean.transform_points(b, m) for b in stamps]
    t = trace.lap("deskew", t)

    # 2. the main detection pass at the scale that puts text lines near the target height
    scale = clean.detection_scale(
        image.shape, clean.text_height(probe_boxes), opt.target_line_px, max_side=opt.det_max_side
    )
    trace.det_scale = scale
    if not trace.warped and 1 / opt.reuse_probe <= scale / probe_scale <= opt.reuse_probe:
        boxes, trace.det_scale = probe_boxes, probe_scale
    else:
        boxes = _detect(engine, image, scale)
    t = trace.lap("detect", t)

    # 3. recognise crops cut from the full-resolution page, batched
    crops = [clean.crop_box(image, b, pad=opt.crop_pad) for b in boxes]
    initial = engine.recognize(crops)
    t = trace.lap("recognize", t)
    readings = _retry_uncertain(engine, crops, initial, opt, trace)
    checked = _reread_numbers(engine, crops, readings, opt, trace)
    t = trace.lap("retry", t)

    lines = _text_lines(boxes, initial, checked, opt, trace)
    t = trace.lap("correct", t)
    if opt.qr and not codes:  # none on the raw pixels: the cleaned page may show it better (light)
        codes = [(c.text, np.asarray(c.box, dtype=np.float32)) for c in decode_qr(image)]
    t = trace.lap("qr", t)
    h, w = image.shape[:2]
    found = [TextLine(text=text, box=clean.order_points(b), score=1.0, source="qr") for text, b in codes]
    seals: list[TextLine] = []
    if ink is not None and circles:
        box_of = {id(c): b for c, b in zip(circles, stamps, strict=True)}
        seals = [
            TextLine(text=text, box=clean.order_points(box_of[id(c)]), score=score, source="seal")
            for text, score, c in read_seals(engine, ink, circles, trace.rotation, opt.min_score)
        ]
    trace.lap("seals", t)
    page = Page(
        number=number,
        width=w,
        height=h,
        lines=reading_order(lines),
        rotation=trace.rotation,
        codes=found,
        seals=seals,
    )
    trace.seconds = time.perf_counter() - t0
    return page, image, trace


def _text_lines(
    boxes: list[np.ndarray],
    initial: list[Reading],
    checked: list[Reading],
    opt: ReadOptions,
    trace: PageTrace,
) -> list[TextLine]:
    """The lines kept from the readings: confident enough, corrected by the lexicon, each with the
    first reading beside it where a second pass changed it."""
    lines: list[TextLine] = []
    for box, first, reading in zip(boxes, initial, checked, strict=True):
        if reading.score < opt.min_score or not reading.text.strip():
            continue
        line = TextLine(text=reading.text, box=box, score=round(reading.score, 4))
        if reading.text != first.text:
            # read again (an enhanced crop, a number failing its check): the first reading stays
            # beside it; a blurred crop loses thin marks such as a form's □, which that one kept
            line = line.model_copy(update={"raw_text": first.text})
        if opt.correct:
            fixed = correct_line(reading, opt.lexicon)
            if fixed != reading.text:
                line = line.model_copy(update={"text": fixed, "raw_text": line.raw_text or reading.text})
                trace.corrected += 1
        lines.append(line)
    return lines


def _detect(engine: OcrEngine, image: np.ndarray, scale: float) -> list[np.ndarray]:
    """Detect at one scale and return boxes in the image's own pixels."""
    small = clean.resize_to(image, scale)
    dets: list[Detection] = engine.detect(small)
    return [clean.order_points(d.box / scale) for d in dets]


def _inside_share(boxes: list[np.ndarray], quad: np.ndarray) -> float:
    """Share of text boxes whose centre lies inside the quad: warping must not cut text off."""
    if not boxes:
        return 1.0
    import cv2

    contour = quad.reshape(-1, 1, 2).astype(np.float32)
    inside = [cv2.pointPolygonTest(contour, tuple(map(float, b.mean(axis=0))), False) >= 0 for b in boxes]
    return float(np.mean(inside))


def _retry_uncertain(
    engine: OcrEngine, crops: list[np.ndarray], readings: list[Reading], opt: ReadOptions, trace: PageTrace
) -> list[Reading]:
    """Second pass for uncertain lines: read enhanced crops, keep whichever reading is surest."""
    todo = [
        i
        for i, r in enumerate(readings)
        if r.text.strip()
        and (
            min((a[0][1] for a in r.alternatives if a), default=r.score) < opt.retry_char_below
            or (len(r.text.strip()) <= 2 and r.score < opt.retry_short_below)
        )
    ]
    if not todo or not opt.retry_kinds:
        return readings
    todo = sorted(todo, key=lambda i: readings[i].score)[: opt.retry_max]
    kinds = opt.retry_kinds
    variants = [clean.enhance_crop(crops[i], k) for i in todo for k in kinds]
    second = engine.recognize(variants)
    out = list(readings)
    for n, i in enumerate(todo):
        for alt in second[n * len(kinds) : (n + 1) * len(kinds)]:
            if alt.score > out[i].score + 0.01 and len(alt.text) >= 0.7 * len(readings[i].text):
                out[i] = alt
        if out[i] is not readings[i]:
            trace.improved += 1
    trace.retried = len(todo)
    return out


def _reread_numbers(
    engine: OcrEngine, crops: list[np.ndarray], readings: list[Reading], opt: ReadOptions, trace: PageTrace
) -> list[Reading]:
    """Lines holding a long number that fails its own check are read again from stretched crops.

    In small print the model merges a pair of equal digits (`11` read as `1`) or swaps one; a crop
    stretched sideways gives each digit more of its time steps. A re-reading replaces only the number,
    and only when the variants agree on exactly one number that passes GB 11643 and is close to what
    was read: a check digit that passes by chance still has to look like the print.
    """
    todo = [i for i, r in enumerate(readings) if failed_numbers(r.text)][: opt.retry_max]
    kinds = opt.number_kinds
    if not todo or not kinds:
        return readings
    second = engine.recognize([clean.enhance_crop(crops[i], k) for i in todo for k in kinds])
    out = list(readings)
    for n, i in enumerate(todo):
        reading = out[i]
        variants = second[n * len(kinds) : (n + 1) * len(kinds)]
        for start, end, bad in reversed(failed_numbers(reading.text)):
            found: dict[str, tuple[Reading, int, int]] = {}
            for alt in variants:
                for s2, e2, digits in long_numbers(alt.text, 18, 18):
                    close = difflib.SequenceMatcher(None, digits, bad).ratio() >= 0.8
                    if close and id_number_valid(digits):
                        found.setdefault(digits, (alt, s2, e2))
            if len(found) != 1:
                continue
            alt, s2, e2 = next(iter(found.values()))
            reading = _splice(reading, start, end, alt, s2, e2)
            trace.numbers_fixed += 1
        out[i] = reading
    return out


def _splice(reading: Reading, start: int, end: int, other: Reading, s2: int, e2: int) -> Reading:
    """`reading` with text[start:end] replaced by `other`'s text[s2:e2], candidates and all."""
    text = reading.text[:start] + other.text[s2:e2] + reading.text[end:]
    aligned = len(reading.alternatives) == len(reading.text) and len(other.alternatives) == len(other.text)
    if not aligned:
        return Reading(text, reading.score, [])
    alts = reading.alternatives[:start] + other.alternatives[s2:e2] + reading.alternatives[end:]
    score = float(np.mean([a[0][1] if a else 0.0 for a in alts])) if alts else reading.score
    return Reading(text, score, alts)


# --------------------------------------------------------------------------------------------------
# documents, JSON and the cache


def read_document(
    path: Path | str,
    engine: OcrEngine | None = None,
    *,
    cache_dir: Path | str | None = None,
    options: ReadOptions | None = None,
    draw: Path | str | None = None,
    image_dir: Path | str | None = None,
) -> list[Page]:
    """Every page of a document file as text lines with boxes and scores.

    Text-layer PDF pages come straight from the layer; other pages are cleaned and OCR'd. With
    `cache_dir`, results are stored under a key of (file SHA-256, engine and model version,
    cleaning version, options) and served from there next time. `draw` saves a picture of the
    first page with its boxes (a PNG path). `image_dir` keeps every page's image as the boxes
    refer to it (`<n>.jpg`: the cleaned image for an OCR'd page, the raster for a text-layer page),
    so a person can be shown where each line was read.
    """
    path = Path(path)
    opt = options or ReadOptions()
    cache = OcrCache(cache_dir) if cache_dir is not None else None
    key = None
    if cache is not None:
        eng = engine or get_engine()
        key = cache.key(path, eng, opt)
        hit = cache.get(key)
        if hit is not None and draw is None and _has_images(image_dir, hit):
            return hit
    pages: list[Page] = []
    first_image: np.ndarray | None = None
    for pi in load_document(path):
        page, image = _read_page(pi, engine, opt)
        if first_image is None:
            first_image = image
        pages.append(page)
        if image_dir is not None:
            if image is None:  # a text-layer page: its boxes are in pixels of the raster at the loader's dpi
                image = render_pdf_page(path, pi.number)
            save_page_image(image, Path(image_dir) / f"{page.number}.jpg")
    if draw is not None and pages:
        from ocr.layout import draw_page

        draw_page(first_image, pages[0], draw)
    if cache is not None and key is not None:
        cache.put(key, pages)
    return pages


def _has_images(image_dir: Path | str | None, pages: list[Page]) -> bool:
    """True when no images are wanted, or every page's image is already there."""
    return image_dir is None or all((Path(image_dir) / f"{p.number}.jpg").is_file() for p in pages)


def save_page_image(image: np.ndarray, target: Path, quality: int = 90) -> Path:
    """Write a BGR page image as JPEG, atomically (a reader never sees half a page)."""
    import cv2

    target.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"could not encode the page image for {target}")
    tmp = target.with_name(f".{target.name}.{time.time_ns()}.tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(target)
    return target


def _read_page(pi: PageImage, engine: OcrEngine | None, opt: ReadOptions) -> tuple[Page, np.ndarray | None]:
    if pi.image is None:
        page = Page(
            number=pi.number,
            width=pi.width,
            height=pi.height,
            lines=reading_order(pi.lines),
            source="pdf_text",
            codes=pi.codes,
        )
        return page, None
    page, image, trace = read_image(pi.image, engine, number=pi.number, options=opt)
    log.info("page %d: %d lines, %s", pi.number, len(page.lines), trace)
    return page, image


def pages_to_json(pages: list[Page], *, raw: bool = False) -> dict[str, Any]:
    """A JSON-ready dict: every page with every line's text, box and score.

    `raw=True` also writes each corrected line's raw reading; it is off by default so that a
    consumer which treats every string as read text (the release check does) sees only our answer.
    """
    out = []
    for p in pages:
        lines = []
        for ln in p.lines:
            d: dict[str, Any] = {"text": ln.text, "box": [list(pt) for pt in ln.box], "score": ln.score}
            if ln.source != "ocr":
                d["source"] = ln.source
            if raw and ln.raw_text is not None:
                d["raw_text"] = ln.raw_text
            lines.append(d)
        codes = [{"text": c.text, "box": [list(pt) for pt in c.box]} for c in p.codes]
        seals = [{"text": c.text, "box": [list(pt) for pt in c.box], "score": c.score} for c in p.seals]
        out.append(
            {"number": p.number, "width": p.width, "height": p.height, "rotation": p.rotation, "lines": lines}
            | ({"source": p.source} if p.source != "ocr" else {})
            | ({"codes": codes} if codes else {})
            | ({"seals": seals} if seals else {})
        )
    return {"pages": out}


def pages_from_json(doc: dict[str, Any]) -> list[Page]:
    """Inverse of `pages_to_json` (with raw=True it round-trips exactly)."""
    pages = []
    for p in doc["pages"]:
        lines = [TextLine(**ln) for ln in p["lines"]]
        pages.append(
            Page(
                number=p["number"],
                width=p["width"],
                height=p["height"],
                rotation=p.get("rotation", 0),
                source=p.get("source", "ocr"),
                lines=lines,
                codes=[
                    TextLine(text=c["text"], box=c["box"], score=1.0, source="qr") for c in p.get("codes", [])
                ],
                seals=[TextLine(**c, source="seal") for c in p.get("seals", [])],
            )
        )
    return pages


def reader_ident(engine: OcrEngine, options: ReadOptions) -> str:
    """Everything that changes what a page reads as: engine and models, loader, clean-up, options."""
    from ocr.images import LOADER_VERSION

    versions = (
        f"load-{LOADER_VERSION}|clean-{clean.CLEAN_VERSION}|read-{READ_VERSION}|qr-{QR_VERSION}"
        f"|seals-{SEALS_VERSION}"
    )
    return f"{engine.name}|{engine.version}|{versions}|{options.key()}"


class OcrCache:
    """OCR results on disk, one JSON file per (file hash, engine+models, cleaning version, options).

    The directory is the caller's (the pipeline passes one under its data dir); files are written
    atomically so concurrent workers never read half a result.
    """

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    @staticmethod
    def key(path: Path, engine: OcrEngine, options: ReadOptions) -> str:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return f"{h.hexdigest()}-{hashlib.sha256(reader_ident(engine, options).encode()).hexdigest()[:16]}"

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Page] | None:
        f = self._file(key)
        if not f.is_file():
            return None
        try:
            return pages_from_json(json.loads(f.read_text(encoding="utf-8")))
        except (ValueError, KeyError) as e:
            log.warning("ignoring unreadable OCR cache entry %s: %s", f, e)
            return None

    def put(self, key: str, pages: list[Page]) -> None:
        f = self._file(key)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{time.time_ns()}.tmp")
        tmp.write_text(json.dumps(pages_to_json(pages, raw=True), ensure_ascii=False), encoding="utf-8")
        tmp.replace(f)
