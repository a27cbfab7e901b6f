"""What every `claims` command shares: the JSON summary is stdout's last line, an error is one line on
stderr and exit code 2, log lines on stderr with Prefect's own info lines only under --verbose."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

import pytest
import typer

from flows.cli.common import StderrLog, emit_json, fail, log_to_stderr
from pipeline.errors import ClaimsError


def test_the_summary_is_one_json_line_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json({"ok": True, "claimant": "张三", "paid": Decimal("12.50"), "day": dt.date(2026, 3, 1)})
    out, err = capsys.readouterr()
    assert err == "" and out.endswith("\n") and out.count("\n") == 1
    assert "张三" in out  # not escaped
    assert json.loads(out) == {"ok": True, "claimant": "张三", "paid": "12.50", "day": "2026-03-01"}


@pytest.mark.parametrize("as_json", [False, True])
def test_an_error_is_one_line_and_exit_code_2(capsys: pytest.CaptureFixture[str], as_json: bool) -> None:
    with pytest.raises(typer.Exit) as exit_:
        fail(ClaimsError("claims.csv: no header row"), as_json)
    assert exit_.value.exit_code == 2
    out, err = capsys.readouterr()
    assert err.strip() == "error: claims.csv: no header row"
    assert out == ('{"ok": false, "error": "claims.csv: no header row"}\n' if as_json else "")


@pytest.mark.parametrize("verbose", [False, True])
def test_prefect_info_lines_only_when_verbose_and_warnings_always(
    capsys: pytest.CaptureFixture[str], verbose: bool
) -> None:
    root = logging.getLogger()
    before = root.level
    undo = log_to_stderr(verbose)
    try:
        logging.getLogger("prefect.flow_runs").info("Beginning flow run 'quiet-fox'")
        logging.getLogger("prefect.task_runs").error("Task run 'ocr-document' failed: disk full")
        logging.getLogger("flows.steps").info("claim C1: decided")
        logging.getLogger("pipeline.ingest").warning("C2: a.jpg quarantined")
    finally:
        undo()
    assert root.level == before and not any(isinstance(h, StderrLog) for h in root.handlers)
    err = capsys.readouterr().err.splitlines()
    assert ("INFO prefect.flow_runs: Beginning flow run 'quiet-fox'" in err) is verbose
    assert ("INFO flows.steps: claim C1: decided" in err) is verbose
    assert "ERROR prefect.task_runs: Task run 'ocr-document' failed: disk full" in err
    assert "WARNING pipeline.ingest: C2: a.jpg quarantined" in err
