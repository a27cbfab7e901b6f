"""`claims synth ...`: the synthetic claim documents and claims histories nobody must hand-write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import console, emit_json, out

synth_app = typer.Typer(help="Generate synthetic claim documents and histories.", no_args_is_help=True)


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
    from flows.progress import open_progress
    from synth.documents import generate_corpus

    with open_progress("claims synth docs", console, claims="claims generated") as progress:
        summary = generate_corpus(
            out_dir, claims, seed, render=render, problem_rate=problem_rate, progress=progress.claims_counted
        )
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
