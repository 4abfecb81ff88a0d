"""Brier score, log loss and reliability bins against scikit-learn and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sklearn_log_loss

from trademl.validation.calibration import (
    brier_score,
    expected_calibration_error,
    log_loss,
    reliability_curve,
)


def forecasts(seed: int = 0, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prob = rng.beta(2.0, 3.0, size=n)
    y = (rng.random(n) < prob).astype(int)
    return y, prob


def test_brier_score_hand_example():
    """(0.9-1)^2 + (0.2-0)^2 + (0.6-0)^2 + (0.5-1)^2 = 0.01 + 0.04 + 0.36 + 0.25 -> mean 0.165."""
    assert brier_score([1, 0, 0, 1], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.165)


def test_brier_score_matches_sklearn():
    y, p = forecasts()
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12)


def test_log_loss_matches_sklearn_and_the_natural_log_definition():
    y, p = forecasts(1)
    assert log_loss(y, p) == pytest.approx(sklearn_log_loss(y, p), rel=1e-10)
    assert log_loss([1, 0], [0.8, 0.3]) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)


def test_log_loss_of_a_certain_miss_is_capped_by_eps():
    assert log_loss([1], [0.0], eps=1e-15) == pytest.approx(-math.log(1e-15))


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_matches_sklearn_calibration_curve(strategy):
    y, p = forecasts(2)
    curve = reliability_curve(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    filled = curve[curve["count"] > 0]
    np.testing.assert_allclose(filled["observed_frequency"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(filled["mean_predicted"], prob_pred, rtol=1e-12)
    assert curve["count"].sum() == y.size


def test_reliability_bins_are_closed_on_the_left_and_keep_empty_bins():
    """Four uniform bins: 0.25 belongs to [0.25, 0.5), 1.0 to the last bin; [0.5, 0.75) is empty."""
    curve = reliability_curve([0, 1, 1, 0], [0.1, 0.25, 1.0, 0.3], n_bins=4)
    assert curve["count"].tolist() == [1, 2, 0, 1]
    assert curve["observed_frequency"].iloc[1] == pytest.approx(0.5)
    assert math.isnan(curve["mean_predicted"].iloc[2])
    assert curve["lower"].tolist() == [0.0, 0.25, 0.5, 0.75]


def test_expected_calibration_error_hand_example():
    """Bins [0, 0.5): forecasts 0.1, 0.3 (mean 0.2), outcomes 0, 1 (freq 0.5) -> gap 0.3;
    [0.5, 1]: 0.8, 0.9 (mean 0.85), outcomes 1, 1 -> gap 0.15. ECE = (2*0.3 + 2*0.15)/4 = 0.225."""
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9], n_bins=2) == pytest.approx(0.225)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 2], [0.1, 0.2], "binary outcomes"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\]"),
        ([0, 1], [0.1], "y_true has 2 entries but prob has 1"),
        ([0, 1], [0.1, np.nan], "NaN"),
        ([], [], "empty"),
    ],
)
def test_rejects_bad_input(y, p, message):
    with pytest.raises(ValueError, match=message):
        brier_score(y, p)


def test_rejects_unknown_binning_strategy_and_bad_bin_counts():
    with pytest.raises(ValueError, match="strategy must be"):
        reliability_curve([0, 1], [0.2, 0.7], strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        reliability_curve([0, 1], [0.2, 0.7], n_bins=0)
