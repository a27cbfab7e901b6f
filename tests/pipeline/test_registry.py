"""Model registry: versions never overwritten, cards complete, champion swapped only when better."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from pipeline.errors import ClaimsError
from pipeline.registry import ModelRegistry, data_hash


def test_register_load_promote(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ClaimsError, match="no champion"):
        reg.load("doc-type")
    card1 = reg.register("doc-type", model, data_hash=data_hash("a"), metrics={"accuracy": 0.95})
    assert card1.libraries["scikit-learn"] != "absent"
    assert card1.code_version
    assert (tmp_path / "doc-type" / card1.version / "model_card.json").exists()
    assert reg.promote_if_better("doc-type", card1.version, "accuracy") is True
    loaded, card = reg.load("doc-type")
    assert card == card1
    assert loaded.predict([[1.0]]).tolist() == [1]

    worse = reg.register("doc-type", model, data_hash=data_hash("b"), metrics={"accuracy": 0.90})
    assert worse.version != card1.version
    assert reg.promote_if_better("doc-type", worse.version, "accuracy") is False
    assert reg.champion("doc-type") == card1.version
    better = reg.register("doc-type", model, data_hash=data_hash("c"), metrics={"accuracy": 0.99})
    assert reg.promote_if_better("doc-type", better.version, "accuracy", min_gain=0.01) is True
    assert reg.champion("doc-type") == better.version
    assert reg.versions("doc-type") == sorted([card1.version, worse.version, better.version])
    assert not list((tmp_path / "doc-type").glob(".*"))  # no temp folders or pointers left


def test_bad_names_and_versions(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    with pytest.raises(ClaimsError):
        reg.register("../escape", object(), data_hash="x")
    with pytest.raises(ClaimsError, match="no version"):
        reg.promote("fraud", "v9999")


def test_data_hash_of_files(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n")
    assert data_hash(f) == data_hash(b"a,b\n1,2\n")
