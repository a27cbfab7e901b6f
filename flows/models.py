"""First-run models: a fresh machine has no champions, so the batch trains what is missing.

Nothing is downloaded: the doc-type classifier, the adjudication gate and the fraud model are
trained here from synthetic data (seconds to a minute on two cores), registered with their model
cards and promoted. Later, `flows/retrain.py` replaces them with models trained on the store's own
labels under the champion/challenger rule.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from pipeline.registry import Challenge, Evaluate, ModelCard, ModelRegistry
from pipeline.settings import Settings

log = logging.getLogger(__name__)

BOOTSTRAP_SEED = 2027


def train_doc_type_model(settings: Settings, *, claims: int = 160, seed: int = BOOTSTRAP_SEED) -> ModelCard:
    from classifiers.doc_type import train_doc_type
    from synth.doc_samples import doc_type_training_set

    documents, snapshot = doc_type_training_set(claims=claims, seed=seed)
    return train_doc_type(
        documents,
        ModelRegistry(settings.models_dir),
        data_hash=snapshot,
        params={"corpora": f"generated:{claims}"},
        seed=seed,
    )


def train_gate_model(settings: Settings, *, claims: int = 3000, seed: int = BOOTSTRAP_SEED) -> ModelCard:
    from adjudication.model import train_gate
    from synth.facts import gate_training_pairs

    pairs, snapshot = gate_training_pairs(claims, seed)
    return train_gate(
        settings,
        pairs,
        data_hash=snapshot,
        params={"claims": claims, "seed": seed, "misread_rate": 0.2},
        notes="synthetic labels: rules' outcome on misread facts vs the generator's truth",
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


# each model's champion/challenger metric and whether higher is better
PROMOTION_METRICS: dict[str, tuple[str, bool]] = {
    "doc-type": ("accuracy", True),
    "adjudication-gate": ("brier", False),
    "fraud": ("pr_auc", True),
    "fraud-table": ("pr_auc", True),
}


def holdout_scorer(name: str) -> Evaluate | None:
    """The function that scores a model of this name on its frozen holdout, if it has one."""
    if name in ("fraud", "fraud-table"):
        from fraud.promotion import holdout_metrics

        return holdout_metrics
    return None


def challenge(
    settings: Settings, name: str, version: str, *, margin: float | None = None, promote: bool = True
) -> Challenge:
    """Judge `version` against the champion the way every path does (CLI, training, retraining):
    both scored on the frozen holdout when the model has one and a scorer, by `promotion_margin`."""
    registry = ModelRegistry(settings.models_dir)
    metric, higher = PROMOTION_METRICS.get(name, ("", True))
    if not metric:
        from pipeline.errors import ClaimsError

        known = ", ".join(PROMOTION_METRICS)
        raise ClaimsError(f"no promotion metric for model {name!r} (known: {known}); use --force")
    scorer = holdout_scorer(name) if registry.holdout(name) is not None else None
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
