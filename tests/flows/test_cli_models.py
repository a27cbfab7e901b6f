"""`claims models ...` on its own, over an empty registry: listing it, and the one-line refusals."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli.models import models_app
from pipeline.settings import Settings


def _models(*args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(models_app, [*args, "--json"])
    return result.exit_code, result.output, json.loads(result.stdout.strip().splitlines()[-1])


def test_list_of_an_empty_registry(cli_settings: Settings) -> None:
    code, output, summary = _models("list")
    assert code == 0
    assert output.startswith("no models under")  # rich may wrap the long path
    assert summary == {"root": str(cli_settings.models_dir), "models": []}


def test_show_without_a_champion_asks_for_a_version(cli_settings: Settings) -> None:
    code, _, summary = _models("show", "fraud")
    assert code == 2
    assert summary["error"] == "model 'fraud' has no champion; give a version (claims models list fraud)"


def test_train_names_the_models_it_knows(cli_settings: Settings) -> None:
    code, _, summary = _models("train", "bogus")
    assert code == 2 and summary["error"] == "unknown model 'bogus': choose doc-type, gate or fraud"


def test_rollback_with_no_earlier_champion_changes_nothing(cli_settings: Settings) -> None:
    code, _, summary = _models("rollback", "fraud")
    assert code == 2 and "no earlier champion to roll back to" in summary["error"]
    assert _models("list")[2]["models"] == []


def test_train_refuses_the_holdouts_seed(cli_settings: Settings) -> None:
    """A model must not learn the documents and claims it will be judged on."""
    from synth import HOLDOUT_SEED

    for name in ("doc-type", "gate"):
        code, _, summary = _models("train", name, "--seed", str(HOLDOUT_SEED))
        assert code == 2 and "draws the frozen holdouts" in summary["error"]
    assert _models("list")[2]["models"] == []
