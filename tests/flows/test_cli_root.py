"""The root's own commands (`ingest`, `ocr`, `reopen`) on a Typer of their own, as `flows.cli` registers
them: bad input is one line, and a senior reopens a decided claim."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from helpers import money
from typer.testing import CliRunner

from flows.cli.root import ingest, ocr, reopen
from pipeline.records import Claim, Outcome, Route
from pipeline.settings import Settings
from pipeline.store import open_store
from review.auth import Role, add_user

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery"

cli = typer.Typer()
cli.command("reopen")(reopen)
for command in (ingest, ocr):  # `run` imports Prefect and the flow: tests/flows/test_cli.py
    cli.command()(command)


def _cli(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_ingest_of_a_folder_without_claims_names_the_file(cli_settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, summary = _cli("ingest", str(tmp_path / "empty"))
    assert code == 2 and "claims.csv" in summary["error"]


def test_ocr_of_a_missing_file(cli_settings: Settings, tmp_path: Path) -> None:
    code, _, summary = _cli("ocr", str(tmp_path / "nothing.jpg"))
    assert code == 2 and summary["error"] == f"{tmp_path / 'nothing.jpg'}: no such file"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("C1", "--by", "senior1"), "a reopen needs a reason: --reason '...'"),
        (("C1", "--reason", "complaint"), "say who reopens it: --by USER"),
    ],
)
def test_reopen_needs_a_reason_and_a_person(
    cli_settings: Settings, args: tuple[str, ...], error: str
) -> None:
    code, _, summary = _cli("reopen", *args)
    assert code == 2 and summary["error"].startswith(error)


def test_a_senior_reopens_a_decided_claim_and_an_adjuster_may_not(cli_settings: Settings) -> None:
    store = open_store(cli_settings)
    store.save_claim(
        Claim(claim_id="C1", policy_number="P1", claimant="张三", incident_date=NOW.date(), submitted_at=NOW)
    )
    money.record(store, Outcome(claim_id="C1", route=Route.FLASH_PAY, payable=Decimal("50"), decided_at=NOW))
    add_user(store, "adj1", PASSWORD, Role.ADJUSTER)
    add_user(store, "senior1", PASSWORD, Role.SENIOR)

    code, _, summary = _cli("reopen", "C1", "--reason", "complaint", "--by", "adj1")
    assert code == 2 and "only a senior adjuster or a claims manager reopens a claim" in summary["error"]
    assert store.latest_decision_version("C1") == 1

    code, output, summary = _cli("reopen", "C1", "--reason", "complaint", "--by", "senior1")
    assert code == 0, output
    assert summary == {"ok": True, "claim_id": "C1", "decision_version": 2}
    assert "claim C1 reopened as decision v2: back in the review queue" in output
    assert store.review_tasks()[0]["claim_id"] == "C1"
    store.engine.dispose()
