"""`claims synth docs|history` on their own: a one-claim corpus and a small history, with their summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from flows.cli.synth import synth_app


def _last_json(stdout: str) -> dict:  # type: ignore[type-arg]
    return json.loads(stdout.strip().splitlines()[-1])


def test_docs_without_rendering_writes_claims_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(
        synth_app, ["docs", "--out", str(out), "--claims", "1", "--no-render", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = _last_json(result.stdout)
    assert summary["claims"] == 1 and summary["bytes_written"] == 0
    assert "claims synth docs done: claims generated 1/1 in" in result.stderr  # progress on stderr
    assert "synthetic corpus in" in result.stdout  # rich may wrap the long path
    assert (out / ".truth" / "truth.jsonl").is_file() and (out / "claims.csv").is_file()


def test_the_same_seed_gives_the_same_corpus(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        args = ["docs", "--out", str(tmp_path / name), "--claims", "2", "--seed", "3", "--no-render"]
        assert runner.invoke(synth_app, args).exit_code == 0
    assert (tmp_path / "a" / "claims.csv").read_bytes() == (tmp_path / "b" / "claims.csv").read_bytes()


def test_docs_refuses_zero_claims(tmp_path: Path) -> None:
    result = CliRunner().invoke(synth_app, ["docs", "--out", str(tmp_path / "c"), "--claims", "0"])
    assert result.exit_code == 2 and "--claims" in result.output
    assert not (tmp_path / "c").exists()


def test_history_writes_the_rows_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "h.parquet"
    result = CliRunner().invoke(synth_app, ["history", "--rows", "200", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = _last_json(result.stdout)
    assert summary["rows"] == 200 and summary["seed"] == 0
    assert pq.read_metadata(out).num_rows == 200
