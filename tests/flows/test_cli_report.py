"""`claims report` as an operator runs it: the table with definitions, --by, --json, --csv, --html,
an empty period and the one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers.service import build_service_store
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.common import out
from flows.cli.report import CSV_COLUMNS
from pipeline.indicators import indicators
from pipeline.settings import Settings
from pipeline.store import open_store

PERIOD = ["--from", "2026-03-01", "--to", "2026-04-30"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.stdout, result.output


def test_the_table_json_csv_and_html(
    cli_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_service_store(open_store(cli_settings))
    monkeypatch.setattr(out, "width", 400)  # a wide terminal: each definition on its figure's line
    code, stdout, _ = _run(*PERIOD)
    assert code == 0 and "理赔服务时效" in stdout and "71.4% (5 of 7)" in stdout and "70.0%" in stdout
    line = next(x for x in stdout.splitlines() if "理赔服务时效 claim service time, median" in x)
    assert "13.5 h (6 claims)" in line and "median days from complete documents" in line

    code, stdout, _ = _run(*PERIOD, "--by", "channel", "--json")
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert (
        code == 0
        and summary["ok"]
        and [g["name"] for g in summary["groups"]] == ["all", "agent", "app", "batch"]
    )
    figures = {f["key"]: f for f in summary["groups"][0]["figures"]}
    assert figures["denial_share"]["count"] == 2 and figures["denial_share"]["of"] == 7

    code, stdout, _ = _run(*PERIOD, "--by", "month", "--csv")
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert code == 0 and tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3 * len(indicators())  # all, 2026-03, 2026-04
    april = {r["indicator"]: r for r in rows if r["group"] == "2026-04"}
    assert april["complex_clock_breaches"]["value"] == "1" and april["flash_pay_share"]["target"] == "0.7"

    page = tmp_path / "out" / "report.html"
    code, _, output = _run(*PERIOD, "--html", str(page))
    assert code == 0 and f"report written: {page}" in output.replace("\n", "")
    assert "<svg" in page.read_text(encoding="utf-8")


def test_a_period_without_claims(cli_settings: Settings) -> None:
    code, stdout, _ = _run("--from", "2025-01-01", "--to", "2025-01-31")
    assert code == 0 and "no claims decided between 2025-01-01 and 2025-01-31" in stdout
    code, stdout, output = _run("--from", "2025-01-01", "--to", "2025-01-31", "--csv")
    assert code == 0 and stdout == ",".join(CSV_COLUMNS) + "\n"  # the header alone; the note on stderr
    assert "no claims decided between 2025-01-01 and 2025-01-31" in output
    code, stdout, _ = _run("--from", "2025-01-01", "--to", "2025-01-31", "--json")
    assert code == 0 and json.loads(stdout.strip().splitlines()[-1])["groups"][0]["claims"] == 0


def test_bad_input_is_one_line(cli_settings: Settings) -> None:
    code, _, output = _run(*PERIOD, "--by", "region")
    assert code == 2 and output.strip() == (
        "error: --by 'region': not a grouping; choose one of product, channel, month"
    )
    code, _, output = _run("--from", "2026-02-30")
    assert code == 2 and output.strip() == "error: --from '2026-02-30': not a date; write it as YYYY-MM-DD"
    code, _, output = _run("--from", "2026-03-02", "--to", "2026-03-01")
    assert code == 2 and output.strip() == "error: --to 2026-03-01 is before --from 2026-03-02"
