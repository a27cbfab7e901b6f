"""What every `claims` command shares: the JSON summary is stdout's last line, an error is one line on
stderr and exit code 2."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import typer

from flows.cli.common import emit_json, fail
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
