"""Document type (票据/清单/出院小结/…) from what OCR read on the pages, never from the file name.

One scikit-learn `Pipeline`: character n-gram TF-IDF over the page text (robust to OCR's misread
characters and to Chinese having no spaces) joined with a few layout features (lines, digits,
amounts, page shape), into a multinomial logistic regression whose probabilities are the
confidence the extraction stage compares with `settings.doc_type_min_confidence`.

Training data (labelled pages, `other` included) comes from `synth.doc_samples`; here, OCR-like
noise (dropped lines, misread characters) augments it so a hard photo's sparse text is still typed.

The first trainer of a registry freezes a holdout (固定留出集): labelled documents generated from a
seed no trainer uses, saved once through the registry (`holdout.jsonl.gz`). Every version's card
carries its scores there (`holdout_metrics`), and a challenger replaces the champion only if it
beats it on macro F1 there, both scored at promotion time (`ModelRegistry.challenge`).
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from classifiers.titles import settle_with_title
from pipeline.records import DocType, Page
from pipeline.registry import ModelCard, ModelRegistry
from pipeline.settings import get_settings

log = logging.getLogger(__name__)

MODEL_NAME = "doc-type"
HOLDOUT_FILE = "holdout.jsonl.gz"
PROMOTION_METRIC = "macro_f1"
"""Champion/challenger on the frozen holdout: every type counts alike, so a challenger that gains on
the many ID cards cannot hide losing the few inpatient bills."""
Document = Sequence[Page]
"""One document: its pages, as OCR (or the PDF text layer) gives them."""
Labelled = tuple[list[Page], str]
"""A document and its type, as the trainer and the holdout take them."""

# --- features ------------------------------------------------------------------------------------

_MONEY = re.compile(r"\d\.\d{2}(?!\d)")
_DIGIT = re.compile(r"\d")


def document_text(pages: Document) -> str:
    """Every line of every page in reading order, NFKC, one line per row of text."""
    return "\n".join(unicodedata.normalize("NFKC", ln.text) for p in pages for ln in p.lines)


class PageText(BaseEstimator, TransformerMixin):
    """Documents -> their text, for the TF-IDF step."""

    def fit(self, X: Sequence[Document], y: Any = None) -> PageText:
        return self

    def transform(self, X: Sequence[Document]) -> list[str]:
        return [document_text(d) for d in X]


class LayoutFeatures(BaseEstimator, TransformerMixin):
    """A few numbers about how the text sits on the page: cards are short and wide, lists are long."""

    names = ("log_lines", "mean_len", "digit_share", "money_lines", "aspect", "pages", "short_lines")

    def fit(self, X: Sequence[Document], y: Any = None) -> LayoutFeatures:
        self.n_features_in_ = len(self.names)
        return self

    def transform(self, X: Sequence[Document]) -> np.ndarray:
        rows = []
        for doc in X:
            lines = [ln.text for p in doc for ln in p.lines]
            chars = "".join(lines)
            n = max(len(lines), 1)
            first = doc[0] if doc else None
            rows.append(
                [
                    np.log1p(len(lines)),
                    len(chars) / n,
                    len(_DIGIT.findall(chars)) / max(len(chars), 1),
                    sum(bool(_MONEY.search(t)) for t in lines) / n,
                    (first.width / first.height) if first else 1.0,
                    float(len(doc)),
                    sum(len(t) <= 4 for t in lines) / n,
                ]
            )
        return np.asarray(rows, dtype=float)


def make_pipeline(C: float = 20.0, seed: int = 0) -> Pipeline:
    """The untrained model: text n-grams + layout -> logistic regression, its classes weighed evenly
    (inpatient bills are a few in a hundred generated documents, but a claim's most costly paper)."""
    text = Pipeline(
        [
            ("text", PageText()),
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
        ]
    )
    layout = Pipeline([("layout", LayoutFeatures()), ("scale", StandardScaler())])
    return Pipeline(
        [
            ("features", FeatureUnion([("text", text), ("layout", layout)])),
            ("clf", LogisticRegression(C=C, max_iter=3000, random_state=seed, class_weight="balanced")),
        ]
    )


def predict_doc_type(model: Any, pages: Document) -> tuple[DocType, float]:
    """The most probable type and its probability; the printed title picks between the two most
    probable (`classifiers.titles`)."""
    if isinstance(model, BaseEstimator):
        check_is_fitted(model)
    proba = model.predict_proba([list(pages)])[0]
    return settle_with_title([str(c) for c in model.classes_], [float(p) for p in proba], pages)


# --- augmentation ------------------------------------------------------------------------------

_CONFUSABLE = "0O1lI5S8B口日曰未末土士己已人入天夭"


def ocr_noise(page: Page, rng: random.Random, rate: float, keep: float = 1.0) -> Page:
    """Drop lines and misread a few characters, as photos of the page would; `keep` < 1 drops most."""
    if rate <= 0 and keep >= 1:
        return page
    lines = []
    for k, ln in enumerate(page.lines):
        if rng.random() < rate or (k > 0 and rng.random() > keep):
            continue
        text = "".join(rng.choice(_CONFUSABLE) if rng.random() < rate / 2 else ch for ch in ln.text)
        lines.append(ln.model_copy(update={"text": text}))
    return page.model_copy(update={"lines": lines})


# --- the `other` class -----------------------------------------------------------------------------

# --- fit, evaluate, register ---------------------------------------------------------------------


def _augmented(
    data: Sequence[tuple[list[Page], str]], rng: random.Random
) -> tuple[list[list[Page]], list[str]]:
    X = [d for d, _ in data]
    y = [label for _, label in data]
    for pages, label in data:
        keep = rng.uniform(0.1, 0.5)
        X.append([ocr_noise(p, rng, 0.04, keep=keep) for p in pages])
        y.append(label)
    return X, y


def fit_doc_type(
    documents: Sequence[tuple[list[Page], str]],
    *,
    test_size: float = 0.25,
    seed: int = 0,
    C: float = 20.0,
    sparse: bool = True,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit on labelled `documents` (`other` included); metrics on a held-out share.

    With `sparse`, every training document is also shown once with most of its lines gone, as
    OCR reads a hard photo, so a page with little text is not taken for a bank card by its shape.
    """
    data = list(documents)
    rng = random.Random(seed)
    idx = list(range(len(data)))
    rng.shuffle(idx)
    cut = int(len(idx) * (1 - test_size)) if test_size > 0 else len(idx)
    train, test = [data[i] for i in idx[:cut]], [data[i] for i in idx[cut:]]
    model = make_pipeline(C=C, seed=seed)
    model.fit(*_augmented(train, rng) if sparse else ([d for d, _ in train], [y for _, y in train]))
    metrics: dict[str, Any] = {
        "n_train": len(train),
        "n_test": len(test),
        "classes": sorted(set(y for _, y in data)),
    }
    if test:
        pred = model.predict([d for d, _ in test])
        truth = [y for _, y in test]
        metrics["accuracy"] = round(float(accuracy_score(truth, pred)), 4)
        metrics["macro_f1"] = round(float(f1_score(truth, pred, average="macro")), 4)
        proba = model.predict_proba([d for d, _ in test]).max(axis=1)
        metrics["min_confidence_correct"] = round(
            float(min(p for p, a, b in zip(proba, pred, truth, strict=True) if a == b)), 4
        )
        if test_size > 0:  # refit on everything once measured
            model = make_pipeline(C=C, seed=seed)
            model.fit(*_augmented(data, rng) if sparse else ([d for d, _ in data], [y for _, y in data]))
    return model, metrics


def write_holdout(documents: Sequence[Labelled], path: Path) -> None:
    """One JSON line per document (its type and its pages as read), gzip'd with no time stamp, so the
    same documents always give the same file and the same hash."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for pages, label in documents:
            row = {"label": label, "pages": [p.model_dump(mode="json") for p in pages]}
            gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))


def read_holdout(path: Path) -> list[Labelled]:
    """The documents `write_holdout` saved."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [([Page.model_validate(p) for p in row["pages"]], str(row["label"])) for row in rows]


def holdout_metrics(model: Any, path: Path) -> dict[str, Any]:
    """Score a fitted model on a frozen holdout file as it types documents in service (the printed
    title settling between its two best guesses): accuracy, macro F1 and F1 per type.

    The same function judges champion and challenger, so both are measured on the same documents.
    """
    documents = read_holdout(path)
    X = [pages for pages, _ in documents]
    truth = [label for _, label in documents]
    classes = [str(c) for c in model.classes_]
    proba = model.predict_proba(X)
    pred = [
        settle_with_title(classes, [float(v) for v in row], pages)[0].value
        for row, pages in zip(proba, X, strict=True)
    ]
    types = sorted(set(truth))
    per_type = f1_score(truth, pred, labels=types, average=None, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, pred)),
        "macro_f1": float(f1_score(truth, pred, labels=types, average="macro", zero_division=0)),
        "errors": sum(a != b for a, b in zip(pred, truth, strict=True)),
        "f1_by_type": {t: round(float(v), 4) for t, v in zip(types, per_type, strict=True)},
    }


def freeze_holdout(
    registry: ModelRegistry, build: Callable[[], tuple[Sequence[Labelled], str]], description: str = ""
) -> None:
    """Save the model's holdout if the registry has none (`build()` makes it only then); one already
    frozen is kept, so every challenger is judged on the documents the first one was."""
    if registry.holdout(MODEL_NAME) is not None:
        return
    documents, source = build()
    registry.freeze_holdout(
        MODEL_NAME,
        lambda path: write_holdout(documents, path),
        filename=HOLDOUT_FILE,
        source_hash=source,
        rows=len(documents),
        description=description,
    )


def train_doc_type(
    documents: Sequence[Labelled],
    registry: ModelRegistry,
    *,
    data_hash: str,
    params: dict[str, Any] | None = None,
    seed: int = 7,
    promote: bool = True,
    holdout: Callable[[], tuple[Sequence[Labelled], str]] | None = None,
    holdout_note: str = "",
    margin: float | None = None,
    notes: str = "char 1-3-gram TF-IDF + layout features -> logistic regression",
) -> ModelCard:
    """Fit on labelled documents (which include `other` examples) and register a new version with
    its card (data hash, held-out accuracy and macro F1, and its scores on the frozen holdout).

    `holdout()` (documents and their data hash) is called only when the registry has no frozen
    holdout yet. With `promote`, the new version replaces the champion only if it beats it by
    `margin` (default: the `promotion_margin` setting) on macro F1 over the frozen holdout, both
    scored now; without a holdout, on the macro F1 each card wrote at training time.
    """
    model, metrics = fit_doc_type(documents, seed=seed)
    if holdout is not None:
        freeze_holdout(registry, holdout, holdout_note)
    frozen = registry.holdout(MODEL_NAME)
    if frozen is not None:
        metrics["holdout"] = holdout_metrics(model, registry.holdout_file(MODEL_NAME))
    card = registry.register(
        MODEL_NAME,
        model,
        data_hash=data_hash,
        metrics=metrics,
        params={"seed": seed, **(params or {})},
        notes=notes,
        holdout_hash=frozen.hash if frozen is not None else None,
    )
    if promote:
        verdict = registry.challenge(
            MODEL_NAME,
            card.version,
            PROMOTION_METRIC,
            evaluate=holdout_metrics if frozen is not None else None,
            margin=get_settings().promotion_margin if margin is None else margin,
        )
        log.info("doc-type %s: %s", card.version, verdict.reason)
    log.info("doc-type %s: %s", card.version, metrics)
    return registry.card(MODEL_NAME, card.version)


class DocTypeModel:
    """A fitted doc-type pipeline with its registry version, callable as `extract`'s classifier."""

    def __init__(self, model: Any, version: str | None = None) -> None:
        self.model = model
        self.version = version

    def __call__(self, pages: Document) -> tuple[DocType, float]:
        return predict_doc_type(self.model, pages)


def load_doc_type(registry: ModelRegistry, version: str | None = None) -> DocTypeModel:
    """The champion (or a given version) of the doc-type model."""
    model, card = registry.load(MODEL_NAME, version)
    return DocTypeModel(model, card.version)
