"""`claims fraud train`: the fraud-risk model from a team's labelled table or a claims history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import console, emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

fraud_app = typer.Typer(help="Train and apply the fraud-risk model.", no_args_is_help=True)


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
    from flows.progress import open_progress
    from fraud.training import TRAINING_STEPS
    from pipeline.registry import ModelRegistry

    registry = ModelRegistry(get_settings().models_dir)
    try:
        if table is not None:
            if not label:
                raise ClaimsError("--table needs --label COLUMN (the 0/1 fraud label)")
            from fraud.table import train_from_table

            with open_progress("claims fraud train", console) as progress:
                progress.start_steps(len(TRAINING_STEPS))
                report = train_from_table(table, label, time, registry, on_step=progress.step)
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
            with open_progress("claims fraud train", console) as progress:
                progress.start_steps(len(TRAINING_STEPS))
                _, report = train_fraud_model(
                    history, registry=registry, client=client, on_step=progress.step
                )
        else:
            raise ClaimsError("give --table FILE --label COLUMN, or --history FILE.parquet")
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(report.render(), markup=False)
    if as_json:
        emit_json(report.model_dump(mode="json"))
