"""`claims rules backtest` on its own: a rule-set change replayed over a corpus, bad input refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli.rules import rules_app
from pipeline.settings import get_settings
from synth.documents import generate_corpus


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _backtest(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    # the sub-app has one command, so typer runs it without its name
    result = CliRunner().invoke(rules_app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_backtest_replays_a_corpus_under_two_versions(env: Path) -> None:
    generate_corpus(env / "corpus", 2, 7, render=False)
    code, output, summary = _backtest("--from", "2025.1", "--to", "2026.1", "--claims", str(env / "corpus"))
    assert code == 0, output
    assert "backtest 2025.1 → 2026.1" in output
    assert summary["from_version"] == "2025.1" and summary["to_version"] == "2026.1"
    assert summary["claims"] == 2 and summary["decisions_changed"] >= 0


def test_an_unknown_version_is_refused_before_any_claim_is_read(env: Path) -> None:
    code, _, summary = _backtest("--from", "1999.9", "--to", "2026.1", "--claims", "db")
    assert code == 2 and summary["ok"] is False
    assert "1999.9" in summary["error"] and "2025.1, 2026.1" in summary["error"]
    assert not (env / "data" / "claims.db").exists()  # refused before the store was opened


def test_a_folder_that_is_no_corpus_says_what_to_give(env: Path) -> None:
    (env / "plain").mkdir()
    code, _, summary = _backtest("--from", "2025.1", "--to", "2026.1", "--claims", str(env / "plain"))
    assert code == 2
    assert (
        summary["error"]
        == f"{env / 'plain'}: not a generated corpus (no .truth/truth.jsonl); or use --claims db"
    )
