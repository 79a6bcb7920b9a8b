"""scikit-learn's own estimator checks, on tiny networks trained for two epochs."""

from __future__ import annotations

from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit.estimators import AutoencoderOutlierDetector, AutoencoderTransformer

TINY: dict[str, Any] = {"hidden_dims": (4,), "latent_dim": 2, "epochs": 2, "batch_size": 64, "device": "cpu"}

EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""Checks expected to fail, with the reason: none. scikit-learn itself skips ``check_array_api_input``
unless ``SCIPY_ARRAY_API=1`` is set before SciPy is imported (the estimators take NumPy/pandas only)."""


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """The checks each estimator is expected to fail, with reasons (none)."""
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [
        AutoencoderTransformer(**TINY),
        AutoencoderOutlierDetector(**TINY),
        AutoencoderOutlierDetector(score_method="mahalanobis", **TINY),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Any) -> None:
    check(estimator)
