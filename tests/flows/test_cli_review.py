"""`claims review adduser` on its own: an account made from a password on stdin, bad ones refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from flows.cli.review import review_app
from pipeline.settings import Settings
from pipeline.store import open_store
from review.auth import authenticate

PASSWORD = "correct-horse-battery"


def _adduser(*args: str, password: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        review_app, ["adduser", *args, "--password-stdin", "--json"], input=password + "\n"
    )
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_adduser_makes_an_account_that_signs_in(cli_settings: Settings) -> None:
    code, output, summary = _adduser("sen1", "--role", "senior_adjuster", "--name", "李四", password=PASSWORD)
    assert code == 0, output
    assert "account sen1 (senior_adjuster) ready" in output
    assert summary == {"ok": True, "username": "sen1", "role": "senior_adjuster"}
    store = open_store(cli_settings)
    user = authenticate(store, "sen1", PASSWORD)
    assert user is not None and user.role == "senior_adjuster" and user.display_name == "李四"
    assert authenticate(store, "sen1", "wrong-password") is None
    store.engine.dispose()


@pytest.mark.parametrize(
    ("args", "password", "error"),
    [
        (("adj1",), "short", "at least 10 characters"),
        (("adj1", "--role", "boss"), PASSWORD, "role"),
        (("no spaces",), PASSWORD, "username"),
    ],
)
def test_a_bad_account_is_one_line(
    cli_settings: Settings, args: tuple[str, ...], password: str, error: str
) -> None:
    code, output, summary = _adduser(*args, password=password)
    assert code == 2 and summary["ok"] is False and error in summary["error"]
    assert len([ln for ln in output.splitlines() if ln.strip()]) == 2  # the error line and the JSON
