"""First-run models and the one way every path trains and judges them.

Nothing is downloaded: the doc-type classifier, the adjudication gate and the fraud model are
trained here from synthetic data (seconds to a minute on two cores), registered with their model
cards and promoted. The first training of each also freezes its holdout (synthetic, from
`synth.HOLDOUT_SEED`, which no trainer may use); `claims models train`, `claims models promote` and
the nightly retrain (`flows/retrain.py`, which adds the store's labels) judge every later challenger
against the champion on that holdout, both scored at promotion time (`challenge`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ClaimsError
from pipeline.records import Page
from pipeline.registry import Challenge, Evaluate, ModelCard, ModelRegistry, data_hash
from pipeline.settings import Settings

if TYPE_CHECKING:
    from adjudication.model import Pair

log = logging.getLogger(__name__)

BOOTSTRAP_SEED = 2027


def training_seed(seed: int) -> int:
    """The seed, unless it is the frozen holdouts' own: a model must not learn the claims it is
    judged on."""
    from synth import HOLDOUT_SEED

    if seed == HOLDOUT_SEED:
        raise ClaimsError(
            f"--seed {seed} draws the frozen holdouts (synth.HOLDOUT_SEED): train with another seed"
        )
    return seed


def train_doc_type_model(
    settings: Settings,
    *,
    claims: int = 160,
    seed: int = BOOTSTRAP_SEED,
    corpus: Sequence[Path] = (),
    labelled: Sequence[tuple[list[Page], str]] = (),
    promote: bool = True,
    holdout_claims: int | None = None,
) -> ModelCard:
    """The doc-type model from generated documents (or corpus folders) plus `labelled` documents (the
    adjusters' type corrections, from the retrain); freezes the holdout on the first training."""
    from classifiers.doc_type import train_doc_type
    from synth import HOLDOUT_SEED
    from synth.doc_samples import DOC_TYPE_HOLDOUT_CLAIMS, doc_type_holdout_set, doc_type_training_set

    documents, snapshot = doc_type_training_set(corpus, claims=claims, seed=training_seed(seed))
    n_holdout = DOC_TYPE_HOLDOUT_CLAIMS if holdout_claims is None else holdout_claims
    labels = [json.dumps([label, [p.model_dump(mode="json") for p in pages]]) for pages, label in labelled]
    return train_doc_type(
        [*documents, *labelled],
        ModelRegistry(settings.models_dir),
        data_hash=data_hash(snapshot, *labels) if labels else snapshot,
        params={
            "corpora": [str(c) for c in corpus] or f"generated:{claims}",
            "synthetic": len(documents),
            "store_labels": len(labelled),
        },
        seed=seed,
        promote=promote,
        holdout=lambda: doc_type_holdout_set(n_holdout),
        holdout_note=f"generated: {n_holdout} claims' documents plus other papers, seed {HOLDOUT_SEED}",
        margin=settings.promotion_margin,
    )


def train_gate_model(
    settings: Settings,
    *,
    claims: int = 3000,
    seed: int = BOOTSTRAP_SEED,
    labelled: Sequence[Pair] = (),
    promote: bool = True,
    holdout_claims: int | None = None,
) -> ModelCard:
    """The gate from a synthetic book plus `labelled` claims (adjusters' decisions, from the retrain);
    freezes the holdout on the first training."""
    from adjudication.model import train_gate
    from synth import HOLDOUT_SEED
    from synth.facts import GATE_HOLDOUT_CLAIMS, gate_holdout_pairs, gate_training_pairs

    pairs, snapshot = gate_training_pairs(claims, training_seed(seed))
    n_holdout = GATE_HOLDOUT_CLAIMS if holdout_claims is None else holdout_claims
    labels = [f"{f.model_dump_json()}|{d.value}|{amount}" for f, d, amount in labelled]
    source = "synthetic labels: rules' outcome on misread facts vs the generator's truth"
    return train_gate(
        settings,
        [*pairs, *labelled],
        data_hash=data_hash(snapshot, *labels) if labels else snapshot,
        params={
            "claims": claims,
            "seed": seed,
            "misread_rate": 0.2,
            "synthetic": len(pairs),
            "store_labels": len(labelled),
        },
        notes=f"adjusters' decisions from the store ({len(labelled)}) plus {source}" if labelled else source,
        promote=promote,
        holdout=lambda: gate_holdout_pairs(n_holdout),
        holdout_note=f"synthetic book of {n_holdout} claims (rule-approved ones kept), seed {HOLDOUT_SEED}",
        margin=settings.promotion_margin,
    )


def train_fraud_on_synthetic(
    settings: Settings, *, rows: int = 200_000, seed: int = BOOTSTRAP_SEED
) -> ModelCard:
    from fraud.training import train_fraud_model
    from synth.history import generate_history

    registry = ModelRegistry(settings.models_dir)
    with tempfile.TemporaryDirectory(prefix="fraud-history-") as tmp:
        path = Path(tmp) / "history.parquet"
        generate_history(rows, path, seed=seed)
        _, report = train_fraud_model(path, registry=registry)
    return registry.card("fraud", report.version or "")


# each model's champion/challenger metric (on its frozen holdout) and whether higher is better:
# the doc-type and gate ones are `PROMOTION_METRIC` in classifiers.doc_type and adjudication.model
PROMOTION_METRICS: dict[str, tuple[str, bool]] = {
    "doc-type": ("macro_f1", True),
    "adjudication-gate": ("review_cost", False),
    "fraud": ("pr_auc", True),
    "fraud-table": ("pr_auc", True),
}


def holdout_scorer(name: str, settings: Settings) -> Evaluate | None:
    """The function that scores a model of this name on its frozen holdout, if it has one."""
    if name in ("fraud", "fraud-table"):
        from fraud.promotion import holdout_metrics

        return holdout_metrics
    if name == "doc-type":
        from classifiers.doc_type import holdout_metrics as doc_type_metrics

        return doc_type_metrics
    if name == "adjudication-gate":
        from adjudication.model import holdout_scorer as gate_scorer

        return gate_scorer(settings.gate_threshold)
    return None


def challenge(
    settings: Settings, name: str, version: str, *, margin: float | None = None, promote: bool = True
) -> Challenge:
    """Judge `version` against the champion the way every path does (CLI, training, retraining):
    both scored on the frozen holdout when the model has one and a scorer, by `promotion_margin`."""
    registry = ModelRegistry(settings.models_dir)
    metric, higher = PROMOTION_METRICS.get(name, ("", True))
    if not metric:
        known = ", ".join(PROMOTION_METRICS)
        raise ClaimsError(f"no promotion metric for model {name!r} (known: {known}); use --force")
    scorer = holdout_scorer(name, settings) if registry.holdout(name) is not None else None
    return registry.challenge(
        name,
        version,
        metric,
        evaluate=scorer,
        margin=settings.promotion_margin if margin is None else margin,
        higher_is_better=higher,
        promote=promote,
    )


TRAINERS = {
    "doc-type": train_doc_type_model,
    "adjudication-gate": train_gate_model,
    "fraud": train_fraud_on_synthetic,
}


def ensure_models(settings: Settings, names: tuple[str, ...] = tuple(TRAINERS)) -> list[ModelCard]:
    """Train and promote every named model that has no champion yet; returns the new cards."""
    registry = ModelRegistry(settings.models_dir)
    cards = []
    for name in names:
        if registry.champion(name) is None:
            log.warning("no %s model yet: training one from synthetic data", name)
            card = TRAINERS[name](settings)
            if registry.champion(name) is None:  # first version: promote even without a rival
                registry.promote(name, card.version)
            cards.append(card)
    return cards
