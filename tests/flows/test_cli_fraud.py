"""`claims fraud train` on its own: what it needs to be told, said in one line before anything is trained."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flows.cli.fraud import fraud_app


def _train(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    # the sub-app has one command, so typer runs it without its name
    result = CliRunner().invoke(fraud_app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_source_it_says_what_to_give(cli_home: Path) -> None:
    code, output, summary = _train()
    assert code == 2
    assert summary == {"ok": False, "error": "give --table FILE --label COLUMN, or --history FILE.parquet"}
    assert len([ln for ln in output.splitlines() if ln.strip()]) == 2  # the error line and the JSON


def test_a_table_needs_its_label_column(cli_home: Path) -> None:
    table = cli_home / "claims.csv"
    table.write_text("amount,fraud\n10,0\n", encoding="utf-8")
    code, _, summary = _train("--table", str(table))
    assert code == 2 and summary["error"] == "--table needs --label COLUMN (the 0/1 fraud label)"
    assert not (cli_home / "data" / "models" / "fraud").exists()  # nothing was trained
