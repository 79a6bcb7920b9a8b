"""scikit-learn estimators backed by aekit models: a PCA-like transformer and an outlier detector.

Importing this package loads scikit-learn and torch.
"""

from __future__ import annotations

from aekit.estimators.base import AbstractAutoencoderEstimator
from aekit.estimators.detectors import AutoencoderOutlierDetector
from aekit.estimators.transformers import AutoencoderTransformer

__all__ = ["AbstractAutoencoderEstimator", "AutoencoderOutlierDetector", "AutoencoderTransformer"]
