"""A document's pages and text lines as OCR read them, one reading per engine, model and cleaning version."""

from __future__ import annotations

from sqlalchemy import select

from pipeline.records import Page, TextLine
from pipeline.store.engine import Repository
from pipeline.store.tables import PageRow, TextLineRow


class PageRepository(Repository):
    """Pages keyed by (document, `ocr_key`): reading a document again with the same versions is a lookup."""

    def save(self, document_id: str, ocr_key: str, pages: list[Page]) -> None:
        with self.session() as s:
            existing = s.scalars(
                select(PageRow).where(PageRow.document_id == document_id, PageRow.ocr_key == ocr_key)
            ).all()
            for row in existing:  # a re-read replaces the old reading of the same version
                s.delete(row)
            s.flush()
            for page in pages:
                prow = PageRow(
                    document_id=document_id,
                    ocr_key=ocr_key,
                    number=page.number,
                    width=page.width,
                    height=page.height,
                    rotation=page.rotation,
                    source=page.source,
                )
                s.add(prow)
                s.flush()
                s.add_all(
                    TextLineRow(
                        page_id=prow.id,
                        idx=i,
                        text=ln.text,
                        box=[list(p) for p in ln.box],
                        score=ln.score,
                        source=ln.source,
                        raw_text=ln.raw_text,
                    )
                    # a page's QR codes are rows too, after its lines: source "qr" sends them back
                    for i, ln in enumerate([*page.lines, *page.codes])
                )

    def get(self, document_id: str, ocr_key: str) -> list[Page] | None:
        with self.session() as s:
            prows = s.scalars(
                select(PageRow)
                .where(PageRow.document_id == document_id, PageRow.ocr_key == ocr_key)
                .order_by(PageRow.number)
            ).all()
            if not prows:
                return None
            pages = []
            for p in prows:
                lines = s.scalars(
                    select(TextLineRow).where(TextLineRow.page_id == p.id).order_by(TextLineRow.idx)
                ).all()
                read = [
                    TextLine(
                        text=ln.text,
                        box=ln.box,
                        score=ln.score,
                        source=ln.source,  # type: ignore[arg-type]
                        raw_text=ln.raw_text,
                    )
                    for ln in lines
                ]
                pages.append(
                    Page(
                        number=p.number,
                        width=p.width,
                        height=p.height,
                        rotation=p.rotation,
                        source=p.source,  # type: ignore[arg-type]
                        lines=[ln for ln in read if ln.source != "qr"],
                        codes=[ln for ln in read if ln.source == "qr"],
                    )
                )
            return pages
