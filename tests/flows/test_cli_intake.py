"""`claims intake addkey|keys|revokekey` on their own: a key made, listed without its secret, revoked."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flows.cli.intake import intake_app


def _last_json(stdout: str) -> dict:  # type: ignore[type-arg]
    return json.loads(stdout.strip().splitlines()[-1])


def test_a_key_is_shown_once_listed_without_its_secret_and_revoked(cli_home: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(intake_app, ["addkey", "--channel", "agent", "--name", "平安代理"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]  # alone on stdout, for KEY=$(claims intake addkey ...)
    assert key.startswith("cdi_")
    listed = runner.invoke(intake_app, ["keys", "--json"])
    (row,) = _last_json(listed.stdout)["keys"]
    assert row["channel"] == "agent" and row["name"] == "平安代理" and row["revoked_at"] is None
    assert key not in listed.stdout and key.startswith(f"cdi_{row['key_id']}_")

    revoked = runner.invoke(intake_app, ["revokekey", row["key_id"]])
    assert revoked.exit_code == 0 and f"key {row['key_id']} revoked" in revoked.stdout
    assert _last_json(runner.invoke(intake_app, ["keys", "--json"]).stdout)["keys"][0]["revoked_at"]
    again = runner.invoke(intake_app, ["revokekey", row["key_id"]])
    assert again.exit_code == 2 and f"no active key {row['key_id']}" in again.output


def test_an_unknown_channel_is_one_line_and_makes_no_key(cli_home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(intake_app, ["addkey", "--channel", "fax", "--name", "x", "--json"])
    assert result.exit_code == 2
    assert _last_json(result.stdout) == {
        "ok": False,
        "error": "unknown channel 'fax': choose app, agent, hospital",
    }
    assert _last_json(runner.invoke(intake_app, ["keys", "--json"]).stdout) == {"keys": []}
