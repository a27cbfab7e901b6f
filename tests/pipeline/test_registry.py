"""Model registry: versions never overwritten, cards complete, champion swapped only when better,
a frozen holdout that never moves, plots stored with the version, and rollback through the history."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sklearn.linear_model import LogisticRegression

from pipeline.errors import ClaimsError
from pipeline.registry import ModelRegistry, data_hash

# the registry checks a plot's PNG signature, not the picture (fraud/plots.py draws real ones)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _model() -> LogisticRegression:
    return LogisticRegression().fit([[0.0], [1.0]], [0, 1])


def test_register_load_promote(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    model = _model()
    with pytest.raises(ClaimsError, match="no champion"):
        reg.load("doc-type")
    card1 = reg.register("doc-type", model, data_hash=data_hash("a"), metrics={"accuracy": 0.95})
    assert card1.libraries["scikit-learn"] != "absent"
    assert card1.code_version
    assert (tmp_path / "doc-type" / card1.version / "model_card.json").exists()
    assert reg.challenge("doc-type", card1.version, "accuracy").promoted is True
    loaded, card = reg.load("doc-type")
    # the card as registered, plus the verdict that made it champion
    assert card.model_copy(update={"challenges": []}) == card1 and card1.challenges == []
    assert [c.reason for c in card.challenges] == ["no champion yet"]
    assert loaded.predict([[1.0]]).tolist() == [1]

    worse = reg.register("doc-type", model, data_hash=data_hash("b"), metrics={"accuracy": 0.90})
    assert worse.version != card1.version
    assert reg.challenge("doc-type", worse.version, "accuracy").promoted is False
    assert reg.champion("doc-type") == card1.version
    (refused,) = reg.card("doc-type", worse.version).challenges
    assert not refused.promoted and refused.champion == card1.version
    assert refused == reg.challenges("doc-type")[-1]
    better = reg.register("doc-type", model, data_hash=data_hash("c"), metrics={"accuracy": 0.99})
    assert reg.challenge("doc-type", better.version, "accuracy", margin=0.01).promoted is True
    assert reg.champion("doc-type") == better.version
    assert reg.versions("doc-type") == sorted([card1.version, worse.version, better.version])
    assert reg.names() == ["doc-type"]
    assert not list((tmp_path / "doc-type").glob(".*"))  # no temp folders or pointers left


def test_margin_and_verdicts_are_recorded(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    first = reg.register("gate", _model(), data_hash="a", metrics={"brier": 0.100})
    reg.promote("gate", first.version)
    close = reg.register("gate", _model(), data_hash="b", metrics={"brier": 0.099})
    verdict = reg.challenge("gate", close.version, "brier", higher_is_better=False, margin=0.005)
    assert not verdict.promoted and verdict.on == "card"
    assert verdict.gain == pytest.approx(0.001) and "< margin 0.005" in verdict.reason
    clear = reg.register("gate", _model(), data_hash="c", metrics={"brier": 0.090})
    assert reg.challenge("gate", clear.version, "brier", higher_is_better=False, margin=0.005).promoted
    assert [c.promoted for c in reg.challenges("gate")] == [False, True]
    again = reg.challenge("gate", clear.version, "brier", higher_is_better=False)
    assert not again.promoted and "already champion" in again.reason


def test_plots_are_stored_with_the_version(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    src = tmp_path / "pr.png"
    src.write_bytes(PNG)
    card = reg.register("fraud", _model(), data_hash="x", plots={"roc": PNG, "pr": src})
    assert card.plots == ["plots/pr.png", "plots/roc.png"]
    plots = reg.plots("fraud", card.version)
    assert set(plots) == {"roc", "pr"} and plots["roc"].read_bytes() == PNG
    with pytest.raises(ClaimsError, match="not a PNG"):
        reg.register("fraud", _model(), data_hash="x", plots={"roc": b"GIF89a"})
    with pytest.raises(ClaimsError, match="plot name"):
        reg.register("fraud", _model(), data_hash="x", plots={"../roc": PNG})
    assert reg.versions("fraud") == [card.version]  # a failed registration leaves nothing behind


def test_rollback_walks_back_through_the_history(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    a, b, c = (reg.register("fraud", _model(), data_hash=h).version for h in "abc")
    with pytest.raises(ClaimsError, match="no earlier champion"):
        reg.rollback("fraud")
    for v in (a, b, c):
        reg.promote("fraud", v)
    assert reg.rollback("fraud") == b and reg.champion("fraud") == b
    assert reg.rollback("fraud") == a and reg.champion("fraud") == a  # two back, not back and forth
    with pytest.raises(ClaimsError, match="no earlier champion"):
        reg.rollback("fraud")
    reg.promote("fraud", c)
    reg.promote("fraud", c)  # already champion: no second history line
    assert reg.rollback("fraud") == a
    actions = [(e.action, e.previous, e.version) for e in reg.history("fraud")]
    assert actions == [
        ("promote", None, a),
        ("promote", a, b),
        ("promote", b, c),
        ("rollback", c, b),
        ("rollback", b, a),
        ("promote", a, c),
        ("rollback", c, a),
    ]
    lines = (tmp_path / "fraud" / "champion_history.jsonl").read_text().splitlines()
    assert all(json.loads(line)["by"] for line in lines)


def test_pointer_set_by_an_older_registry_counts_as_champion(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    a, b = (reg.register("doc-type", _model(), data_hash=h).version for h in "ab")
    (tmp_path / "doc-type" / "CHAMPION").write_text(a + "\n")  # no history line, as before
    reg.promote("doc-type", b)
    assert reg.rollback("doc-type") == a


def test_frozen_holdout_is_kept_and_both_models_are_scored_on_it(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    calls: list[str] = []

    def write(text: str):  # type: ignore[no-untyped-def]
        def _write(path: Path) -> None:
            calls.append(text)
            path.write_text(text)

        return _write

    first = reg.freeze_holdout("fraud", write("claims of 2024-10..12"), filename="h.csv", source_hash="s1")
    again = reg.freeze_holdout("fraud", write("other claims"), filename="h.csv", source_hash="s2")
    assert again == first and calls == ["claims of 2024-10..12"]  # never replaced
    assert first.hash == data_hash(b"claims of 2024-10..12")
    assert reg.holdout_file("fraud").read_text() == "claims of 2024-10..12"

    scores = {"champion": 0.80, "same": 0.801, "better": 0.85}
    seen: list[tuple[str, str]] = []

    def evaluate(model: Any, path: Path) -> dict[str, float]:
        seen.append((model["tag"], path.read_text()))
        return {"pr_auc": scores[model["tag"]]}

    champ = reg.register("fraud", {"tag": "champion"}, data_hash="d1", holdout_hash=first.hash)
    reg.promote("fraud", champ.version)
    same = reg.register("fraud", {"tag": "same"}, data_hash="d2", holdout_hash=first.hash)
    verdict = reg.challenge("fraud", same.version, "pr_auc", evaluate=evaluate, margin=0.002)
    assert not verdict.promoted and verdict.on == "holdout" and verdict.holdout_hash == first.hash
    assert verdict.champion_value == 0.80 and verdict.challenger_value == 0.801
    better = reg.register("fraud", {"tag": "better"}, data_hash="d3", holdout_hash=first.hash)
    assert reg.challenge("fraud", better.version, "pr_auc", evaluate=evaluate, margin=0.002).promoted
    assert reg.champion("fraud") == better.version
    assert {text for _, text in seen} == {"claims of 2024-10..12"}  # one holdout for everyone
    assert [tag for tag, _ in seen] == ["same", "champion", "better", "champion"]
    judged = reg.challenge("fraud", champ.version, "pr_auc", evaluate=evaluate, promote=False)
    assert not judged.promoted and reg.champion("fraud") == better.version


def test_card_holdout_scores_are_compared_when_both_have_them(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    frozen = reg.freeze_holdout("fraud", lambda p: p.write_text("h"), filename="h", source_hash="s")
    a = reg.register(
        "fraud",
        {},
        data_hash="a",
        holdout_hash=frozen.hash,
        metrics={"pr_auc": 0.99, "holdout": {"pr_auc": 0.7}},
    )
    reg.promote("fraud", a.version)
    # better on its own (easier) test months, worse on the common holdout: not promoted
    b = reg.register(
        "fraud",
        {},
        data_hash="b",
        holdout_hash=frozen.hash,
        metrics={"pr_auc": 0.999, "holdout": {"pr_auc": 0.6}},
    )
    verdict = reg.challenge("fraud", b.version, "pr_auc")
    assert verdict.on == "card-holdout" and not verdict.promoted


def test_concurrent_promotions_leave_a_consistent_pointer_and_history(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    versions = [reg.register("fraud", _model(), data_hash=str(i)).version for i in range(6)]

    def promote(v: str) -> None:
        for _ in range(5):
            ModelRegistry(tmp_path).promote("fraud", v)

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = reg.history("fraud")
    assert 6 <= len(history) <= 30  # a promotion of the serving version records nothing
    assert all(e.version != e.previous for e in history)
    assert all(e.previous == p.version for p, e in itertools.pairwise(history))
    assert reg.champion("fraud") == history[-1].version


def test_bad_names_and_versions(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    with pytest.raises(ClaimsError):
        reg.register("../escape", object(), data_hash="x")
    with pytest.raises(ClaimsError, match="no version"):
        reg.promote("fraud", "v9999")
    with pytest.raises(ClaimsError, match="no frozen holdout"):
        reg.challenge("fraud", reg.register("fraud", {}, data_hash="x").version, "pr_auc", evaluate=dict)
    with pytest.raises(ClaimsError, match="plain file name"):
        reg.freeze_holdout("fraud", lambda p: None, filename="../h", source_hash="s")


def test_data_hash_of_files(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n")
    assert data_hash(f) == data_hash(b"a,b\n1,2\n")
