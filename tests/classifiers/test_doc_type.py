"""The doc-type classifier: trained on a small synthetic corpus, it types held-out documents of another
seed, says `other` for papers that are not claim documents, and is saved through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifiers.doc_type import MODEL_NAME, fit_doc_type, load_doc_type, predict_doc_type, train_doc_type
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
def model(corpora: tuple[Path, Path]) -> Any:
    docs = training_documents(corpora[0], seed=1)
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
