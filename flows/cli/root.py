"""The root's own commands: a batch end to end (`run`), its steps one at a time (`ingest`, `ocr`,
`extract`), the server (`serve`) and a senior's reopening of a final decision (`reopen`).

They are registered on the root app in `flows.cli`; each is a thin layer over a stage or a flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.cli.common import console, emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def ingest(
    folder: Annotated[
        Path, typer.Argument(help="Batch folder holding claims.csv (or claims.json) and files.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Validate and store a batch folder's claims and documents; bad files are quarantined with a reason."""
    from pipeline.ingest import ingest_batch
    from pipeline.store import open_store

    settings = get_settings()
    try:
        store = open_store(settings)
        with _progress() as bar:
            task = bar.add_task(f"ingest {folder.name}", total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = ingest_batch(folder, store, settings, progress=tick)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    summary = report.summary()
    _print_ingest(summary)
    if as_json:
        emit_json(summary)


def _print_ingest(summary: dict[str, Any]) -> None:
    table = Table(title=f"batch {summary['batch_id']}", show_header=False)
    for key in ("claims", "documents_stored", "documents_quarantined", "duplicates"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    out.print(table)
    for claim_id, problems in summary["problems"].items():
        out.print(f"[yellow]claim {claim_id}[/]")
        for p in problems:
            out.print(f"  - {p}", markup=False)
    for error in summary["errors"]:
        out.print(f"[red]error:[/] {error}")
    if summary["unclaimed"]:
        out.print(f"[yellow]files no claim lists:[/] {', '.join(summary['unclaimed'])}")


def run(
    folder: Annotated[
        Path, typer.Argument(help="Batch folder (claims.csv, policies.csv, documents).")
    ] = Path("sample_docs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the batch result as the last line.")] = False,
) -> None:
    """Run the batch claims flow: ingest, OCR, extraction, fraud, adjudication (with triage), payout."""
    from flows.claims_batch import claims_batch
    from flows.models import ensure_models
    from flows.progress import open_progress

    settings = get_settings()
    if not folder.is_dir():
        fail(ClaimsError(f"{folder}: not a folder"), as_json)
        return
    for card in ensure_models(settings):
        console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
    try:
        with open_progress("claims run", console) as progress:
            result = claims_batch(str(folder.resolve()), str(settings.data_dir), report=progress)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    table = Table(title=f"batch {result.batch_id}")
    for col in ("claim", "route", "payable", "paid", "reasons"):
        table.add_column(col)
    for r in result.claims:
        table.add_row(r.claim_id, r.route, r.payable, r.paid or "", "; ".join(r.reasons)[:90])
    out.print(table)
    kpis = Table(title="KPIs", show_header=False)
    for row in result.kpis.rows():
        kpis.add_row(row["figure"], row["value"])
    out.print(kpis)
    for path in result.payment_files:
        out.print(f"payment file: {path}")
    if as_json:
        emit_json(result.model_dump(mode="json"))


def ocr(
    file: Annotated[Path, typer.Argument(help="A document: JPEG, PNG, TIFF, WebP or PDF.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Every line's text, box and score as JSON.")
    ] = False,
    draw: Annotated[
        Path | None, typer.Option("--draw", help="Save the first page with its boxes (PNG).")
    ] = None,
    cache: Annotated[bool, typer.Option("--cache", help="Reuse and keep results in the data dir.")] = False,
) -> None:
    """Read a document's text lines with PP-OCR (PDF text layers are read, not OCR'd)."""
    from ocr.reader import pages_to_json, read_document

    try:
        if not file.is_file():
            raise ClaimsError(f"{file}: no such file")
        cache_dir = get_settings().data_dir / "ocr-cache" if cache else None
        pages = read_document(file, cache_dir=cache_dir, draw=draw)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    except ValueError as exc:  # unreadable image or PDF
        fail(ClaimsError(f"{file}: {exc}"), as_json)
        return
    if as_json:
        emit_json(pages_to_json(pages))
        return
    for page in pages:
        out.print(
            f"--- page {page.number} ({page.width}x{page.height}, turned {page.rotation})", markup=False
        )
        out.print(page.text, markup=False)


def extract(
    file: Annotated[Path, typer.Argument(help="A document: JPEG, PNG, TIFF, WebP or PDF.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the extraction as JSON (last line).")
    ] = False,
) -> None:
    """OCR a document, classify it and extract its fields with their boxes and checks."""
    from classifiers.doc_type import load_doc_type
    from flows.models import ensure_models
    from ocr.reader import read_document
    from pipeline.extract.documents import extract as extract_pages
    from pipeline.files import sha256_file
    from pipeline.registry import ModelRegistry

    settings = get_settings()
    try:
        if not file.is_file():
            raise ClaimsError(f"{file}: no such file")
        for card in ensure_models(settings, ("doc-type",)):  # a fresh install: as `claims run` does
            console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
        classify = load_doc_type(ModelRegistry(settings.models_dir))
        pages = read_document(file, cache_dir=settings.data_dir / "ocr-cache")
        ex = extract_pages(pages, classify, document_id=sha256_file(file))
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    except ValueError as exc:  # unreadable image or PDF
        fail(ClaimsError(f"{file}: {exc}"), as_json)
        return
    table = Table(title=f"{file.name}: {ex.doc_type.value} ({ex.doc_type_confidence:.2f})")
    for col in ("field", "value", "confidence", "page"):
        table.add_column(col)
    for f in ex.fields:
        table.add_row(f.name, str(f.value), f"{f.confidence:.2f}", str(f.page))
    out.print(table)
    for c in ex.failed_checks:
        out.print(f"[yellow]check {c.name}:[/] {c.message}", markup=True)
    if ex.needs_review:
        out.print("[yellow]needs a person to review[/]")
    if as_json:
        emit_json(ex.model_dump(mode="json"))


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Interface (default CLAIMS_SERVE_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default CLAIMS_SERVE_PORT).")] = None,
) -> None:  # pragma: no cover - starts a long-running server
    """Serve the intake API (at /api) and the adjusters' review app (at /) together."""
    from flows.web import serve as serve_web

    settings = get_settings()
    if settings.intake_dispatch == "flow":  # the API runs the intake flow itself: it needs the models
        from flows.models import ensure_models

        for card in ensure_models(settings):
            console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
    console.print(
        f"intake API: http://{host or settings.serve_host}:{port or settings.serve_port}/api/docs"
        f" (claims go: {settings.intake_dispatch}); review app at /"
    )
    serve_web(settings, host, port)


def reopen(
    claim_id: Annotated[str, typer.Argument(help="The claim whose final decision is reopened.")],
    reason: Annotated[str, typer.Option("--reason", help="Why: kept on the decision and in the audit.")] = "",
    by: Annotated[
        str, typer.Option("--by", help="The senior adjuster or claims manager (a review-app account).")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Reopen a decided claim: a new decision version, back in the review queue (seniors only)."""
    from pipeline.store import open_store
    from review.reopen import reopen_claim

    try:
        if not reason.strip():
            raise ClaimsError("a reopen needs a reason: --reason '...'")
        if not by.strip():
            raise ClaimsError("say who reopens it: --by USER (a senior adjuster's review-app account)")
        recorded = reopen_claim(open_store(get_settings()), by.strip(), claim_id, reason)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(f"claim {claim_id} reopened as decision v{recorded.version}: back in the review queue")
    if as_json:
        emit_json({"ok": True, "claim_id": claim_id, "decision_version": recorded.version})
