"""The doc-type classifier: trained on a small synthetic corpus, it types held-out documents of another
seed, says `other` for papers that are not claim documents, is saved through the registry, and
replaces the champion only by beating it on the frozen holdout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifiers.doc_type import (
    HOLDOUT_FILE,
    MODEL_NAME,
    PROMOTION_METRIC,
    fit_doc_type,
    holdout_metrics,
    load_doc_type,
    predict_doc_type,
    read_holdout,
    train_doc_type,
)
from ocr.elements import Page, TextLine
from pipeline.records import DocType
from pipeline.registry import ModelRegistry
from synth.doc_samples import doc_type_training_set, other_documents, training_documents
from synth.documents import generate_corpus


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("doc-type")
    # 60 claims: the invoice layouts (nine provincial papers, the regional e-bill, the older
    # e-invoice) each need inpatient examples, a fifth of the claims
    generate_corpus(root / "train", 60, 11, render=False, problem_rate=0.2)
    generate_corpus(root / "test", 10, 12, render=False, problem_rate=0.2)
    return root / "train", root / "test"


@pytest.fixture(scope="module")
def train_docs(corpora: tuple[Path, Path]) -> list[tuple[list[Page], str]]:
    """The training corpus's documents, re-drawn once for the module."""
    return training_documents(corpora[0], seed=1)


@pytest.fixture(scope="module")
def model(train_docs: list[tuple[list[Page], str]]) -> Any:
    docs = list(train_docs)
    # `other` holds eight kinds of paper (lab reports, tickets, other invoices, blank pages ...)
    model, metrics = fit_doc_type(docs + other_documents(120, seed=1), seed=1)
    assert metrics["accuracy"] >= 0.97, metrics
    return model


def test_held_out_documents_of_another_seed(model: Any, corpora: tuple[Path, Path]) -> None:
    docs = training_documents(corpora[1], seed=2, noise=0.06) + other_documents(20, seed=99)
    right = sum(predict_doc_type(model, pages)[0].value == label for pages, label in docs)
    assert right / len(docs) >= 0.97
    assert {label for _, label in docs} >= {"claim_form", "id_card", "bank_card", "expense_list", "other"}


def test_unrelated_paper_is_other(model: Any) -> None:
    texts = [
        "增值税普通发票",
        "购买方 名称：深圳市某某科技有限公司",
        "纳税人识别号：440300083885931",
        "价税合计 ¥3495.00",
    ]
    lines = [
        TextLine(
            text=t,
            box=((100, 100 + 60 * k), (900, 100 + 60 * k), (900, 140 + 60 * k), (100, 140 + 60 * k)),
            score=0.99,
        )
        for k, t in enumerate(texts)
    ]
    doc_type, _ = predict_doc_type(model, [Page(number=1, width=1600, height=1000, lines=lines)])
    assert doc_type is DocType.OTHER


def test_train_saves_a_champion_with_a_card(corpora: tuple[Path, Path], tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    # the larger corpus: with a dozen discharge and certificate layouts, ten claims show too few of them
    docs, snapshot = doc_type_training_set([corpora[0]], seed=3)
    card = train_doc_type(docs, registry, data_hash=snapshot, seed=3)
    assert card.name == MODEL_NAME and len(card.data_hash) == 64
    assert card.metrics["accuracy"] >= 0.9 and "macro_f1" in card.metrics
    assert registry.champion(MODEL_NAME) == card.version
    model = load_doc_type(registry)
    assert model.version == card.version
    pages, label = training_documents(corpora[1], seed=4)[0]
    assert model(pages)[0].value == label


def test_a_challenger_is_judged_on_the_holdout_the_first_training_froze(
    train_docs: list[tuple[list[Page], str]], corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models")
    docs = train_docs[::2] + other_documents(30, seed=5)  # half the corpus: enough, and fast
    held = training_documents(corpora[1], seed=6) + other_documents(20, seed=6)
    # a model that knows three types of ten: whatever it is shown, it cannot name the rest
    few = [d for d in docs if d[1] in {"id_card", "bank_card", "other"}]

    first = train_doc_type(few, registry, data_hash="few", seed=1, holdout=lambda: (held, "held"))
    frozen = registry.holdout(MODEL_NAME)
    assert frozen is not None and frozen.rows == len(held) and first.holdout_hash == frozen.hash
    assert [(p, y) for p, y in read_holdout(registry.holdout_file(MODEL_NAME))] == held
    assert registry.champion(MODEL_NAME) == first.version  # no champion yet: the first one serves

    def never() -> tuple[list, str]:  # type: ignore[type-arg]
        raise AssertionError("a frozen holdout is never built again")

    better = train_doc_type(docs, registry, data_hash="all", seed=1, holdout=never)
    assert registry.holdout(MODEL_NAME) == frozen  # a second trainer does not replace it
    assert better.metrics["holdout"][PROMOTION_METRIC] > first.metrics["holdout"][PROMOTION_METRIC] + 0.2
    (verdict,) = better.challenges
    assert verdict.promoted and verdict.on == "holdout" and verdict.holdout_hash == frozen.hash
    assert verdict.metric == "macro_f1" and verdict.champion == first.version
    assert registry.champion(MODEL_NAME) == better.version

    worse = train_doc_type(few, registry, data_hash="few-again", seed=2, holdout=never)
    (refused,) = worse.challenges
    assert not refused.promoted and refused.on == "holdout" and refused.champion == better.version
    assert refused.reason.startswith("macro_f1 ") and "< margin" in refused.reason
    # both scored at promotion time on the same documents, by the function the cards used
    assert refused.champion_metrics["n"] == refused.challenger_metrics["n"] == len(held)
    assert refused.champion_value == pytest.approx(better.metrics["holdout"]["macro_f1"])
    assert registry.champion(MODEL_NAME) == better.version
    assert registry.challenges(MODEL_NAME)[-1] == refused
    assert (registry.root / MODEL_NAME / "holdout" / HOLDOUT_FILE).exists()


def test_holdout_metrics_score_as_in_service(model: Any, tmp_path: Path) -> None:
    from classifiers.doc_type import write_holdout

    docs = other_documents(6, seed=4)
    path = tmp_path / HOLDOUT_FILE
    write_holdout(docs, path)
    first = path.read_bytes()
    write_holdout(docs, path)
    assert path.read_bytes() == first  # no time stamp: the same documents hash the same
    metrics = holdout_metrics(model, path)
    assert metrics["n"] == 6 and metrics["f1_by_type"].keys() == {"other"}
    assert metrics["accuracy"] == pytest.approx(1 - metrics["errors"] / 6)
