"""The `claims` command: the one entry point for operations, adjusters' admins and data scientists.

Each sub-command is a thin layer over a stage or a flow. Heavy libraries (Prefect, OCR models,
LightGBM) are imported inside the command that needs them, so `claims ocr FILE` starts fast.
`--json` always prints one machine-readable object as the last line of stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.cli_common import console, emit_json, fail
from flows.cli_payments import payments_app, reopen
from pipeline import logs
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

app = typer.Typer(
    name="claims",
    help="claims-di: read, check, triage, adjudicate and risk-score medical insurance claims.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
synth_app = typer.Typer(help="Generate synthetic claim documents and histories.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")
fraud_app = typer.Typer(help="Train and apply the fraud-risk model.", no_args_is_help=True)
app.add_typer(fraud_app, name="fraud")
models_app = typer.Typer(help="Train, list and promote models (doc-type, gate, fraud).", no_args_is_help=True)
app.add_typer(models_app, name="models")
rules_app = typer.Typer(help="Rule sets: list versions and backtest changes.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
review_app = typer.Typer(help="The adjusters' review web app: accounts and the server.", no_args_is_help=True)
app.add_typer(review_app, name="review")
intake_app = typer.Typer(
    help="The intake API: API keys per channel, and the intake queue.", no_args_is_help=True
)
app.add_typer(intake_app, name="intake")
app.add_typer(payments_app, name="payments")
app.command("reopen")(reopen)

out = Console()


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logs.install()  # no ID, account or phone number in clear in any log line of any command
    # Prefect, wherever it runs under us: no telemetry, state in our data dir (never ~/.prefect)
    for key, value in get_settings().prefect_env().items():
        os.environ.setdefault(key, value)


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


@app.command()
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


@app.command()
def run(
    folder: Annotated[
        Path, typer.Argument(help="Batch folder (claims.csv, policies.csv, documents).")
    ] = Path("sample_docs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the batch result as the last line.")] = False,
) -> None:
    """Run the batch claims flow: ingest, OCR, extraction, triage, adjudication, fraud, payout."""
    from flows.claims_batch import claims_batch
    from flows.models import ensure_models

    settings = get_settings()
    if not folder.is_dir():
        fail(ClaimsError(f"{folder}: not a folder"), as_json)
        return
    for card in ensure_models(settings):
        console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
    try:
        result = claims_batch(str(folder.resolve()), str(settings.data_dir))
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


@app.command()
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


@app.command()
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


@synth_app.command("docs")
def synth_docs(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the corpus into.")],
    claims: Annotated[int, typer.Option("--claims", min=1, help="How many claims.")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 7,
    render: Annotated[
        bool, typer.Option("--render/--no-render", help="--no-render: claims and truth only.")
    ] = True,
    problem_rate: Annotated[
        float,
        typer.Option("--problem-rate", min=0.0, max=1.0, help="Share of claims with a planted problem."),
    ] = 0.08,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Generate synthetic claims with rendered documents and their ground truth (truth.json)."""
    from synth.documents import generate_corpus

    summary = generate_corpus(out_dir, claims, seed, render=render, problem_rate=problem_rate)
    data = summary.model_dump(mode="json")
    table = Table(title=f"synthetic corpus in {out_dir}", show_header=False)
    for key in ("claims", "documents", "claim_types", "decisions", "planted", "fraud_patterns"):
        if key in data:
            table.add_row(key.replace("_", " "), json.dumps(data[key], ensure_ascii=False))
    out.print(table)
    if as_json:
        emit_json(data)


@synth_app.command("history")
def synth_history(
    rows: Annotated[int, typer.Option("--rows", min=1, help="How many claims in the history.")],
    out_file: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Generate a claims history with planted fraud patterns, written in chunks to parquet."""
    from synth.history import generate_history

    summary = generate_history(rows, out_file, seed=seed)
    out.print(summary.model_dump_json(indent=2))
    if as_json:
        emit_json(summary.model_dump(mode="json"))


@fraud_app.command("train")
def fraud_train(
    table: Annotated[
        Path | None, typer.Option("--table", help="Your labelled table (.csv or .parquet).")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="The 0/1 fraud column of --table.")] = None,
    time: Annotated[str | None, typer.Option("--time", help="Time column for a time-based split.")] = None,
    history: Annotated[
        Path | None, typer.Option("--history", help="A claims history parquet (claims synth history).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address: train with lightgbm.dask.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Train the fraud model on a team's labelled table or on a claims history; writes a model card."""
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        if table is not None:
            if not label:
                raise ClaimsError("--table needs --label COLUMN (the 0/1 fraud label)")
            from fraud.table import train_from_table

            report = train_from_table(table, label, time, registry)
        elif history is not None:
            from fraud.training import train_fraud_model

            client = None
            if scheduler:
                try:
                    from distributed import Client
                except ImportError as exc:
                    raise ClaimsError(
                        'distributed training needs the dask extra: pip install "claims-di[dask]"'
                    ) from exc
                client = Client(scheduler)
            _, report = train_fraud_model(history, registry=registry, client=client)
        else:
            raise ClaimsError("give --table FILE --label COLUMN, or --history FILE.parquet")
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(report.render(), markup=False)
    if as_json:
        emit_json(report.model_dump(mode="json"))


@models_app.command("train")
def models_train(
    name: Annotated[str, typer.Argument(help="doc-type, gate (adjudication gate) or fraud.")],
    claims: Annotated[int, typer.Option("--claims", min=10, help="Synthetic claims to learn from.")] = 4000,
    corpus: Annotated[
        list[Path] | None,
        typer.Option("--corpus", help="doc-type: generated corpus folder(s) to learn from."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 2027,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as the last line.")] = False,
) -> None:
    """Train a model, register it as a challenger, and promote it if it beats the champion."""
    settings = get_settings()
    if name == "doc-type":
        from classifiers.doc_type import train_doc_type
        from pipeline.registry import ModelRegistry
        from synth.doc_samples import doc_type_training_set

        documents, snapshot = doc_type_training_set(corpus or [], claims=min(claims, 400), seed=seed)
        params = {"corpora": [str(c) for c in corpus or []] or f"generated:{min(claims, 400)}"}
        card = train_doc_type(
            documents, ModelRegistry(settings.models_dir), data_hash=snapshot, params=params, seed=seed
        )
    elif name == "gate":
        from adjudication.model import train_gate
        from synth.facts import gate_training_pairs

        pairs, snapshot = gate_training_pairs(claims, seed)
        card = train_gate(
            settings,
            pairs,
            data_hash=snapshot,
            params={"claims": claims, "seed": seed, "misread_rate": 0.2},
            notes="synthetic labels: rules' outcome on misread facts vs the generator's truth",
        )
    elif name == "fraud":
        import tempfile

        from fraud.training import train_fraud_model
        from pipeline.registry import ModelRegistry
        from synth.history import generate_history

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "history.parquet"
            generate_history(claims, path, seed=seed)
            _, report = train_fraud_model(path, registry=ModelRegistry(settings.models_dir))
        card = ModelRegistry(settings.models_dir).card("fraud", report.version or "")
    else:
        fail(ClaimsError(f"unknown model {name!r}: choose doc-type, gate or fraud"), as_json)
        return
    from pipeline.registry import ModelRegistry

    champion = ModelRegistry(settings.models_dir).champion(card.name)
    out.print(f"{card.name} {card.version} registered; champion is {champion}")
    out.print_json(data=card.metrics)
    if as_json:
        emit_json(card.model_dump(mode="json"))


@models_app.command("list")
def models_list(
    name: Annotated[
        str | None, typer.Argument(help="One model (doc-type, adjudication-gate, fraud...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as the last line.")] = False,
) -> None:
    """List model versions with their champion, data hash and headline metric."""
    from flows.models import PROMOTION_METRICS
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        names = [name] if name else registry.names()
        rows = []
        for n in names:
            champion = registry.champion(n)
            metric = PROMOTION_METRICS.get(n, ("", True))[0]
            for card in registry.cards(n):
                rows.append(
                    {
                        "name": n,
                        "version": card.version,
                        "champion": card.version == champion,
                        "created_at": card.created_at.isoformat(timespec="seconds"),
                        "data_hash": card.data_hash[:12],
                        "holdout_hash": (card.holdout_hash or "")[:12] or None,
                        "metric": metric or None,
                        "value": card.metrics.get(metric) if metric else None,
                        "holdout_value": (card.metrics.get("holdout") or {}).get(metric) if metric else None,
                    }
                )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    table = Table(title=f"models in {registry.root}")
    for col in ("name", "version", "champion", "created", "data", "metric", "test", "holdout"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["version"],
            "*" if r["champion"] else "",
            r["created_at"],
            r["data_hash"],
            r["metric"] or "",
            _metric(r["value"]),
            _metric(r["holdout_value"]) + (f" @{r['holdout_hash'][:8]}" if r["holdout_hash"] else ""),
        )
    out.print(table if rows else f"no models under {registry.root}")
    if as_json:
        emit_json({"root": str(registry.root), "models": rows})


def _metric(value: Any) -> str:
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


@models_app.command("show")
def models_show(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    version: Annotated[str | None, typer.Argument(help="A version; the champion if left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card as the last line.")] = False,
) -> None:
    """Show a model card: data and code version, libraries, parameters, metrics, plots and history."""
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        version = version or registry.champion(name)
        if version is None:
            raise ClaimsError(f"model {name!r} has no champion; give a version (claims models list {name})")
        card = registry.card(name, version)
        plots = registry.plots(name, version)
        holdout = registry.holdout(name)
        history = registry.history(name)
        challenges = [c for c in registry.challenges(name) if c.challenger == version]
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    champion = registry.champion(name)
    table = Table(title=f"{name} {version}{' [champion]' if version == champion else ''}", show_header=False)
    table.add_row("created", card.created_at.isoformat(timespec="seconds"))
    table.add_row("data hash", card.data_hash)
    table.add_row("code version", card.code_version)
    table.add_row("holdout hash", card.holdout_hash or "none")
    table.add_row("libraries", ", ".join(f"{k} {v}" for k, v in card.libraries.items()))
    for key, value in card.metrics.items():
        if not isinstance(value, dict | list):
            table.add_row(key, _metric(value))
    for key in ("holdout", "valid"):
        inner = card.metrics.get(key)
        if isinstance(inner, dict):
            table.add_row(
                key,
                ", ".join(f"{k} {_metric(v)}" for k, v in inner.items() if not isinstance(v, dict | list)),
            )
    for plot, path in plots.items():
        table.add_row(f"plot {plot}", str(path))
    if card.notes:
        table.add_row("notes", card.notes)
    out.print(table)
    for c in challenges:
        out.print(f"challenge {c.at:%Y-%m-%d %H:%M}: {'promoted' if c.promoted else 'refused'}: {c.reason}")
    for e in history[-10:]:
        out.print(f"{e.at:%Y-%m-%d %H:%M} {e.action} {e.previous or '-'} -> {e.version} ({e.reason})")
    if as_json:
        emit_json(
            {
                "card": card.model_dump(mode="json"),
                "champion": champion,
                "plots": {k: str(v) for k, v in plots.items()},
                "holdout": holdout.model_dump(mode="json") if holdout else None,
                "history": [e.model_dump(mode="json") for e in history],
                "challenges": [c.model_dump(mode="json") for c in challenges],
            }
        )


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    version: Annotated[str, typer.Argument(help="The challenger version to promote.")],
    margin: Annotated[
        float | None,
        typer.Option("--margin", help="Gain the challenger needs over the champion (default: setting)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote without a comparison (recorded as forced).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Judge only; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as the last line.")] = False,
) -> None:
    """Promote a challenger if it beats the champion on the frozen holdout by the margin (exit 1 if not)."""
    from flows.models import challenge
    from pipeline.registry import ModelRegistry

    settings = get_settings()
    registry = ModelRegistry(settings.models_dir)
    try:
        before = registry.champion(name)
        if force:
            registry.card(name, version)
            if not dry_run:
                registry.promote(name, version, reason="forced by hand (claims models promote --force)")
            summary: dict[str, Any] = {
                "name": name,
                "challenger": version,
                "champion": before,
                "promoted": not dry_run,
                "reason": "forced by hand",
            }
        else:
            summary = challenge(settings, name, version, margin=margin, promote=not dry_run).model_dump(
                mode="json"
            )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    verdict = "promoted" if summary["promoted"] else "not promoted"
    out.print(f"{name} {version}: {verdict}: {summary['reason']}", markup=False)
    out.print(f"champion of {name}: {registry.champion(name)} (was {before})", markup=False)
    if as_json:
        emit_json(summary)
    if not summary["promoted"] and not dry_run:
        raise typer.Exit(code=1)


@models_app.command("rollback")
def models_rollback(
    name: Annotated[str, typer.Argument(help="The model: doc-type, adjudication-gate, fraud...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as the last line.")] = False,
) -> None:
    """Return the champion pointer to the previous champion (from the champion history)."""
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        before = registry.champion(name)
        after = registry.rollback(name, reason="rolled back by hand (claims models rollback)")
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(f"champion of {name}: {after} (was {before})", markup=False)
    if as_json:
        emit_json({"name": name, "champion": after, "previous": before})


@rules_app.command("backtest")
def rules_backtest(
    from_version: Annotated[str, typer.Option("--from", help="Rule-set version decisions were made under.")],
    to_version: Annotated[str, typer.Option("--to", help="Rule-set version to replay them under.")],
    claims: Annotated[
        str, typer.Option("--claims", help="A generated corpus folder, or 'db' for the store.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as the last line.")] = False,
) -> None:
    """Replay a frozen set of claims under two rule-set versions; report changed decisions and amounts."""
    from adjudication.backtest import backtest, backtest_store
    from adjudication.rules import load_rule_book

    book = load_rule_book()
    try:
        for v in (from_version, to_version):
            book.get(v)  # unknown versions fail here, before any claim is loaded
        if claims == "db":
            from pipeline.store import open_store

            report = backtest_store(open_store(get_settings()), from_version, to_version)
        else:
            from synth.facts import load_facts

            folder = Path(claims)
            if not (folder / ".truth" / "truth.jsonl").exists():
                raise ClaimsError(
                    f"{folder}: not a generated corpus (no .truth/truth.jsonl); or use --claims db"
                )
            report = backtest(load_facts(folder), from_version, to_version)
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    summary = report.summary()
    table = Table(title=f"backtest {from_version} → {to_version}", show_header=False)
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), json.dumps(value, ensure_ascii=False, default=str))
    out.print(table)
    if as_json:
        emit_json(summary)


@review_app.command("adduser")
def review_adduser(
    username: Annotated[str, typer.Argument(help="Sign-in name: letters, digits, '.' or '_'.")],
    role: Annotated[
        str, typer.Option("--role", help="adjuster, senior_adjuster, claims_manager, operations or auditor.")
    ] = "adjuster",
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the app and the audit.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts), not a prompt.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Create a review-app account, or reset an existing one's password, role and name."""
    from pipeline.store import open_store
    from review.auth import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(open_store(get_settings()), username, password, role, name)
    except AccountError as exc:
        fail(ClaimsError(str(exc)), as_json)
        return
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(f"account {username} ({role}) ready")
    if as_json:
        emit_json({"ok": True, "username": username, "role": role})


@review_app.command("serve")
def review_serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the review app with uvicorn (put it behind TLS and set CLAIMS_REVIEW_SECURE_COOKIES=true)."""
    import uvicorn

    from review.app import create_app

    try:
        app = create_app(get_settings())
    except ClaimsError as exc:
        fail(exc, False)
        return
    uvicorn.run(app, host=host, port=port, proxy_headers=True)


@app.command()
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


@intake_app.command("addkey")
def intake_addkey(
    channel: Annotated[str, typer.Option("--channel", help="app, agent or hospital.")],
    name: Annotated[str, typer.Option("--name", help="Whose key: the app, agency or hospital (名称).")],
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Requests per minute (default CLAIMS_INTAKE_RATE_PER_MINUTE)."),
    ] = None,
    burst: Annotated[
        int | None, typer.Option("--burst", help="Requests at once (default CLAIMS_INTAKE_BURST).")
    ] = None,
    bank: Annotated[
        str | None, typer.Option("--bank", help="Hospital: the settlement account's bank.")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Hospital: corporate account for direct settlement (医疗直付)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON (last line).")] = False,
) -> None:
    """Make an API key for a channel; it is printed once and only its SHA-256 is stored."""
    from intake.keys import create_key
    from pipeline.store import open_store

    try:
        key, who = create_key(
            open_store(get_settings()),
            channel,
            name,
            rate_per_minute=rate,
            burst=burst,
            settlement_bank=bank,
            settlement_account=account,
        )
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    console.print(f"key {who.key_id} for {who.owner}: store it now, it is shown only this once")
    if as_json:
        emit_json({"ok": True, "key": key, "key_id": who.key_id, "channel": who.channel, "name": who.name})
    else:  # alone on stdout, so KEY=$(claims intake addkey ...) captures it
        sys.stdout.write(key + "\n")


@intake_app.command("keys")
def intake_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON (last line).")] = False,
) -> None:
    """List the API keys (ids, channels, names, limits; never the keys)."""
    from intake.keys import list_keys
    from pipeline.store import open_store

    keys = list_keys(open_store(get_settings()))
    table = Table(title="intake API keys")
    for col in ("key id", "channel", "name", "rate/min", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        revoked = f"{k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else ""
        rate = str(k["rate_per_minute"] or "default")
        table.add_row(
            k["key_id"], k["channel"], k["name"], rate, f"{k['created_at']:%Y-%m-%d %H:%M}", revoked
        )
    out.print(table)
    if as_json:
        emit_json({"keys": keys})


@intake_app.command("revokekey")
def intake_revokekey(
    key_id: Annotated[str, typer.Argument(help="The key id (from claims intake keys).")],
) -> None:
    """Revoke an API key at once (a running server stops accepting it within 30 seconds)."""
    from intake.keys import revoke_key
    from pipeline.store import open_store

    if not revoke_key(open_store(get_settings()), key_id):
        fail(ClaimsError(f"no active key {key_id}"), False)
    out.print(f"key {key_id} revoked")


@intake_app.command("run")
def intake_run(
    as_json: Annotated[bool, typer.Option("--json", help="Print the batch result as the last line.")] = False,
) -> None:
    """Run the intake batch now: every claim the intake API queued, to an outcome."""
    from flows.intake import intake_batch
    from flows.models import ensure_models

    settings = get_settings()
    for card in ensure_models(settings):
        console.print(f"trained {card.name} {card.version} from synthetic data (first run)")
    result = intake_batch(data_dir=str(settings.data_dir), database_url=settings.database_url)
    if result is None:
        out.print("no claims queued")
        if as_json:
            emit_json({"claims": []})
        return
    table = Table(title=f"batch {result.batch_id}")
    for col in ("claim", "route", "payable", "paid", "reasons"):
        table.add_column(col)
    for r in result.claims:
        table.add_row(r.claim_id, r.route, r.payable, r.paid or "", "; ".join(r.reasons)[:90])
    out.print(table)
    if as_json:
        emit_json(result.model_dump(mode="json"))


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
