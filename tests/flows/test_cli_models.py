"""`claims models ...` on its own, over an empty registry: listing it, and the one-line refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli.models import models_app
from pipeline.settings import Settings, get_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _models(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(models_app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_list_of_an_empty_registry(env: Settings) -> None:
    code, output, summary = _models("list")
    assert code == 0
    assert output.startswith("no models under")  # rich may wrap the long path
    assert summary == {"root": str(env.models_dir), "models": []}


def test_show_without_a_champion_asks_for_a_version(env: Settings) -> None:
    code, _, summary = _models("show", "fraud")
    assert code == 2
    assert summary["error"] == "model 'fraud' has no champion; give a version (claims models list fraud)"


def test_train_names_the_models_it_knows(env: Settings) -> None:
    code, _, summary = _models("train", "bogus")
    assert code == 2 and summary["error"] == "unknown model 'bogus': choose doc-type, gate or fraud"


def test_rollback_with_no_earlier_champion_changes_nothing(env: Settings) -> None:
    code, _, summary = _models("rollback", "fraud")
    assert code == 2 and "no earlier champion to roll back to" in summary["error"]
    assert _models("list")[2]["models"] == []
