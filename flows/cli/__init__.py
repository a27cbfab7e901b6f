"""The `claims` command: the one entry point for operations, adjusters' admins and data scientists.

One typer sub-app per noun, each in its own module (`claims models ...` in `models.py`, `claims intake
...` in `intake.py`, and so on); the root's own commands (`run`, `ingest`, `ocr`, `extract`, `serve`,
`reopen`) are in `root.py`, `claims report` in `report.py`. Each command is a thin layer over a stage
or a flow. Heavy libraries (Prefect, OCR models, LightGBM) are imported inside the command that needs
them, so `claims ocr FILE` starts fast. `--json` always prints one machine-readable object as the last
line of stdout.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from flows.cli import root
from flows.cli.common import log_to_stderr
from flows.cli.fraud import fraud_app
from flows.cli.intake import intake_app
from flows.cli.models import models_app
from flows.cli.payments import payments_app
from flows.cli.report import report
from flows.cli.review import review_app
from flows.cli.rules import rules_app
from flows.cli.synth import synth_app
from pipeline import logs
from pipeline.settings import get_settings

app = typer.Typer(
    name="claims",
    help="claims-di: read, check, triage, adjudicate and risk-score medical insurance claims.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(synth_app, name="synth")
app.add_typer(fraud_app, name="fraud")
app.add_typer(models_app, name="models")
app.add_typer(rules_app, name="rules")
app.add_typer(review_app, name="review")
app.add_typer(intake_app, name="intake")
app.add_typer(payments_app, name="payments")
app.command("reopen")(root.reopen)
app.command("report")(report)
for command in (root.ingest, root.run, root.ocr, root.extract, root.serve):
    app.command()(command)


@app.callback()
def _main(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log at INFO level, Prefect's own lines included.")
    ] = False,
) -> None:
    ctx.call_on_close(log_to_stderr(verbose))
    logs.install()  # no ID, account or phone number in clear in any log line of any command
    # Prefect, wherever it runs under us: no telemetry, state in our data dir (never ~/.prefect)
    for key, value in get_settings().prefect_env().items():
        os.environ.setdefault(key, value)


def main() -> None:  # pragma: no cover - console-script shim
    app()
