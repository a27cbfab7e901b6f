"""The fraud model's old module, kept only so that models saved before it was split still load.

A registry's `model.joblib` pickles each class by its module path: champions saved before the split
name `fraud.model.FraudClassifier` and `fraud.model._Calibrator`, and unpickle through these two
re-exports. Code imports from `fraud.estimator`, `fraud.training`, `fraud.promotion` and `fraud.scoring`.
"""

from __future__ import annotations

from fraud.estimator import Calibrator as _Calibrator
from fraud.estimator import FraudClassifier

__all__ = ["FraudClassifier", "_Calibrator"]
