"""The adjusters' review app: `create_app(settings)` returns the FastAPI application.

Server-rendered pages (Jinja2) with a little plain JavaScript, over the case store. Access is decided
in one place: every route but sign-in, health and static files depends on `require(capability)`
(`review.access`), which loads the server-side session, checks the role's capabilities and, for
anything but GET, the session's CSRF token. Views of personal data and every action are written to the
append-only audit trail. Decisions only mark review tasks; the `apply_review` flow pays or sends the
notice. The routes live in `review.routes` by what they serve; this module wires them, and serves the
page images the OCR boxes refer to.

Run it with `claims review serve` (uvicorn), after `claims review adduser`.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from pipeline import logs
from pipeline.review_tables import require_schema
from pipeline.settings import Settings, get_settings
from pipeline.stages import Stage
from pipeline.store import CaseStore, ClaimDocumentRow, open_store
from review import casefile
from review.access import (
    AppSettings,
    ClaimViewer,
    Forbidden,
    NotSignedIn,
    Store,
    forbidden,
    security_headers,
    signed_out,
)
from review.auth import Cap
from review.masking import is_sensitive_field, mask_text
from review.render import templates
from review.routes import auth, claims, ops, queue

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
FONTS = Path(pylopdf_fonts_zh_cn.__file__).parent


def create_app(settings: Settings | None = None, store: CaseStore | None = None) -> FastAPI:
    """The review app over the case store of `settings` (schema migrated on start)."""
    logs.install()  # claimants' ID and account numbers never reach a log line in clear
    settings = settings or get_settings()
    store = store or open_store(settings)
    require_schema(store.engine)
    app = FastAPI(title="claims-di review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store
    app.state.templates = templates()
    # the Noto CJK face the project already ships, for browsers on machines without a Chinese font
    app.mount("/static/fonts", StaticFiles(directory=str(FONTS)), name="fonts")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(security_headers)
    app.add_exception_handler(NotSignedIn, signed_out)
    app.add_exception_handler(Forbidden, forbidden)
    for router in (auth.router, queue.router, claims.router, page_images, ops.router):
        app.include_router(router)
    return app


# --- page images --------------------------------------------------------------------------------

page_images = APIRouter()


@page_images.get("/claims/{claim_id}/documents/{document_id}/pages/{number}.jpg")
def page_image(
    claim_id: str, document_id: str, number: int, viewer: ClaimViewer, store: Store, settings: AppSettings
) -> Response:
    with store.session() as s:
        linked = s.scalar(
            select(ClaimDocumentRow.id).where(
                ClaimDocumentRow.claim_id == claim_id, ClaimDocumentRow.document_id == document_id
            )
        )
    if linked is None:
        return Response("no such document on this claim", status_code=404, media_type="text/plain")
    masked = not viewer.can(Cap.SEE_IDENTIFIERS)
    data = page_jpeg(store, settings, claim_id, document_id, number, masked=masked)
    if data is None:
        return Response("no image kept for this page", status_code=404, media_type="text/plain")
    store.audit(
        viewer.username,
        "view_page_image",
        claim_id,
        {"document_id": document_id, "page": number, "masked": masked},
    )
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


def page_jpeg(
    store: CaseStore, settings: Settings, claim_id: str, document_id: str, number: int, *, masked: bool
) -> bytes | None:
    """The page image the OCR boxes refer to, with identifiers blacked out for masked roles.

    OCR'd pages are served as the batch saved them (the cleaned image: re-deriving it would mean
    running the engine again, and a newer engine could turn or warp the page differently from the
    stored boxes). A text-layer PDF page has no cleaning: it is rasterised at the loader's dpi on
    first request and kept beside the others.
    """
    key = casefile.latest_pages_key(store, document_id)
    if key is None:
        return None
    pages = store.get_pages(document_id, key) or []
    page = next((p for p in pages if p.number == number), None)
    if page is None:
        return None
    path = casefile.page_image_path(settings, document_id, key, number)
    if not path.is_file():
        if page.source != "pdf_text":
            return None
        source = store.files.path(document_id)
        if source is None:
            return None
        from pipeline.page_images import write_pdf_page_image

        write_pdf_page_image(source, number, path)
    if not masked:
        return path.read_bytes()
    return _redacted(store, claim_id, document_id, page, path)


def _redacted(store: CaseStore, claim_id: str, document_id: str, page: Any, path: Path) -> bytes:
    """Black boxes over every line that holds an ID- or account-shaped number, and over the boxes
    of sensitive fields, scaled from page coordinates to the image's pixels."""
    from PIL import Image, ImageDraw

    from pipeline.records import Extraction

    boxes = [ln.box for ln in page.lines if mask_text(ln.text) != ln.text]
    ex = store.get_result(claim_id, Stage.EXTRACT, Extraction, key=document_id)
    if ex is not None:
        boxes += [f.box for f in ex.fields if f.box and f.page == page.number and is_sensitive_field(f.name)]
    with Image.open(path) as im:
        img = im.convert("RGB")
    sx, sy = img.width / page.width, img.height / page.height
    draw = ImageDraw.Draw(img)
    for box in boxes:
        xs = [p[0] * sx for p in box]
        ys = [p[1] * sy for p in box]
        pad = 0.15 * (max(ys) - min(ys))
        draw.rectangle([min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad], fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()
