"""`claims rules backtest`: what a rule-set change does to decisions already made, before it is in force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

rules_app = typer.Typer(help="Rule sets: list versions and backtest changes.", no_args_is_help=True)


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
