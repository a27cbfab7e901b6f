"""`claims payments export|reconcile` and `claims reopen` as an operator runs them, bad input included."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from helpers import money
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.payments import payments_app
from pipeline.payout import Payee, pay
from pipeline.reasons import read_reasons
from pipeline.records import Claim, Outcome, Route
from pipeline.settings import Settings
from pipeline.store import CaseStore, open_store
from review.auth import add_user

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CARD = Payee(name="张三", bank="中国工商银行", account="4111111111111111")


def _paid_claim(store: CaseStore, claim_id: str, amount: str) -> None:
    store.save_claim(
        Claim(
            claim_id=claim_id, policy_number="P1", claimant="张三", incident_date=NOW.date(), submitted_at=NOW
        )
    )
    money.record(
        store, Outcome(claim_id=claim_id, route=Route.FLASH_PAY, payable=Decimal(amount), decided_at=NOW)
    )
    assert pay(store, claim_id, CARD, entitled="张三", issued_by="test").instruction is not None


def _run(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_export_again_and_reconcile(cli_settings: Settings) -> None:
    store = open_store(cli_settings)
    _paid_claim(store, "C1", "120.00")
    code, output, summary = _run("payments", "reconcile")
    assert code == 1 and "C1:d1: in no payment file yet" in output and summary["ok"] is False

    code, output, summary = _run("payments", "export")
    assert code == 0 and summary["file_id"] == "000001" and summary["count"] == 1
    first = Path(summary["files"][0]).read_bytes()
    code, output, summary = _run("payments", "export")
    assert code == 0 and summary["count"] == 0 and "no payment instruction is waiting" in output

    Path(cli_settings.payments_dir / "payments-000001.csv").unlink()
    code, output, _ = _run("payments", "reconcile")
    assert code == 1 and "payments-000001.csv is missing" in output
    code, _, summary = _run("payments", "export", "--again", "000001")
    assert code == 0 and Path(summary["files"][0]).read_bytes() == first
    code, output, summary = _run("payments", "reconcile")
    assert code == 0 and summary["ok"] is True and "no break" in output
    store.engine.dispose()


def test_bad_input_is_one_line_and_changes_nothing(cli_settings: Settings) -> None:
    code, output, summary = _run("payments", "reconcile")  # an empty store
    assert code == 2 and "holds no claims: nothing to reconcile" in summary["error"]
    assert len([ln for ln in output.splitlines() if ln.strip()]) == 2  # the error line and the JSON
    store = open_store(cli_settings)
    _paid_claim(store, "C1", "10.00")
    code, _, summary = _run("payments", "export", "--again", "000042")
    assert code == 2 and summary["error"].startswith("no payment file 000042")
    assert not cli_settings.payments_dir.exists() or not list(cli_settings.payments_dir.iterdir())
    code, _, summary = _run("reopen", "C1", "--by", "senior1")
    assert code == 2 and "needs a reason" in summary["error"]
    code, _, summary = _run("reopen", "C1", "--reason", "complaint", "--by", "nobody")
    assert code == 2 and "no active review-app account 'nobody'" in summary["error"]
    add_user(store, "adj1", "a-long-password", "adjuster")
    code, _, summary = _run("reopen", "C1", "--reason", "complaint", "--by", "adj1")
    assert code == 2 and "only a senior adjuster or a claims manager" in summary["error"]
    assert store.latest_decision_version("C1") == 1
    store.engine.dispose()


def test_a_senior_reopens_from_the_command_line(cli_settings: Settings) -> None:
    store = open_store(cli_settings)
    _paid_claim(store, "C1", "10.00")
    add_user(store, "senior1", "a-long-password", "senior_adjuster")
    code, output, summary = _run("reopen", "C1", "--reason", "发票疑似重复", "--by", "senior1")
    assert code == 0 and summary["decision_version"] == 2 and "back in the review queue" in output
    [task] = store.review_tasks()
    assert task["claim_id"] == "C1" and read_reasons(task["reasons"])[0].text.startswith(
        "REOPENED: 发票疑似重复"
    )
    code, _, summary = _run("reopen", "C1", "--reason", "again", "--by", "senior1")
    assert code == 2 and "no final decision to reopen: it is adjuster (v2)" in summary["error"]
    store.engine.dispose()


def test_the_payments_sub_app_on_an_empty_ledger(cli_settings: Settings) -> None:
    """The sub-app alone, as `claims payments` mounts it: nothing to export, and a store without claims
    is no ledger to reconcile (exit code 2, the problem named)."""
    runner = CliRunner()
    exported = runner.invoke(payments_app, ["export", "--json"])
    assert exported.exit_code == 0 and "no payment instruction is waiting for a file" in exported.stdout
    assert json.loads(exported.stdout.strip().splitlines()[-1]) == {"ok": True, "file_id": None, "count": 0}
    reconciled = runner.invoke(payments_app, ["reconcile", "--json"])
    assert reconciled.exit_code == 2
    assert json.loads(reconciled.stdout.strip().splitlines()[-1]) == {
        "ok": False,
        "error": f"the case store ({cli_settings.db_url}) holds no claims: nothing to reconcile",
    }
