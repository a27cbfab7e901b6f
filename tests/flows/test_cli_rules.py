"""`claims rules backtest` on its own: a rule-set change replayed over a corpus, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flows.cli.rules import rules_app
from synth.documents import generate_corpus


def _backtest(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    # the sub-app has one command, so typer runs it without its name
    result = CliRunner().invoke(rules_app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_backtest_replays_a_corpus_under_two_versions(cli_home: Path) -> None:
    generate_corpus(cli_home / "corpus", 2, 7, render=False)
    corpus = str(cli_home / "corpus")
    code, output, summary = _backtest("--from", "2025.1", "--to", "2026.1", "--claims", corpus)
    assert code == 0, output
    assert "backtest 2025.1 → 2026.1" in output
    assert summary["from_version"] == "2025.1" and summary["to_version"] == "2026.1"
    assert summary["claims"] == 2 and summary["decisions_changed"] >= 0


def test_an_unknown_version_is_refused_before_any_claim_is_read(cli_home: Path) -> None:
    code, _, summary = _backtest("--from", "1999.9", "--to", "2026.1", "--claims", "db")
    assert code == 2 and summary["ok"] is False
    assert "1999.9" in summary["error"] and "2025.1, 2026.1" in summary["error"]
    assert not (cli_home / "data" / "claims.db").exists()  # refused before the store was opened


def test_a_folder_that_is_no_corpus_says_what_to_give(cli_home: Path) -> None:
    (cli_home / "plain").mkdir()
    code, _, summary = _backtest("--from", "2025.1", "--to", "2026.1", "--claims", str(cli_home / "plain"))
    assert code == 2
    assert (
        summary["error"]
        == f"{cli_home / 'plain'}: not a generated corpus (no .truth/truth.jsonl); or use --claims db"
    )
