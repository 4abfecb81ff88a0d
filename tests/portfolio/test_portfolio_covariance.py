"""Specification of the Ledoit-Wolf shrunk risk model (trademl.portfolio.covariance)."""

from __future__ import annotations

import numpy as np
import pytest

from trademl.portfolio import ledoit_wolf_shrunk, shrunk_covariance


def covcor_reference(x: np.ndarray, target: str) -> tuple[np.ndarray, float]:
    """Ledoit & Wolf's covCor.m transcribed entry by entry with N x N matrices (the slow textbook form)."""
    t, n = x.shape
    sample = x.T @ x / t
    var = np.diag(sample)
    sd = np.sqrt(var)
    rbar = 0.0 if target == "diagonal" else ((sample / np.outer(sd, sd)).sum() - n) / (n * (n - 1))
    prior = rbar * np.outer(sd, sd)
    np.fill_diagonal(prior, var)
    y = x**2
    phi_mat = y.T @ y / t - 2 * (x.T @ x) * sample / t + sample**2
    theta = (x**3).T @ x / t - var[:, None] * sample - sample * var[:, None] + var[:, None] * sample
    np.fill_diagonal(theta, 0.0)
    rho = np.trace(phi_mat) + rbar * (np.outer(1 / sd, sd) * theta).sum()
    gamma = ((sample - prior) ** 2).sum()
    shrinkage = max(0.0, min(1.0, (phi_mat.sum() - rho) / gamma / t))
    return shrinkage * prior + (1 - shrinkage) * sample, shrinkage


def factor_returns(t: int, n: int, seed: int = 0) -> np.ndarray:
    """Demeaned T x N returns of one common factor plus name-specific noise of different sizes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.01, (t, 1)) + rng.normal(0, 1, (t, n)) * rng.uniform(0.01, 0.03, n)
    return x - x.mean(axis=0)


@pytest.mark.parametrize("target", ["constant_correlation", "diagonal"])
@pytest.mark.parametrize(("t", "n"), [(60, 5), (30, 40), (250, 12)])
def test_shrunk_covariance_equals_the_textbook_estimator(target, t, n):
    x = factor_returns(t, n)
    cov, intensity, _ = ledoit_wolf_shrunk(x, target)
    expected, expected_intensity = covcor_reference(x, target)
    assert intensity == pytest.approx(expected_intensity, rel=1e-10)
    np.testing.assert_allclose(cov, expected, rtol=1e-10, atol=1e-14)


def test_shrinkage_keeps_each_names_sample_variance():
    x = factor_returns(60, 30)
    cov, _, _ = ledoit_wolf_shrunk(x, "constant_correlation")
    np.testing.assert_allclose(np.diag(cov), (x**2).mean(axis=0), rtol=1e-12)


def test_more_names_than_sessions_still_gives_a_positive_definite_matrix():
    x = factor_returns(60, 200)
    cov, intensity, _ = ledoit_wolf_shrunk(x, "constant_correlation")
    assert 0.0 < intensity <= 1.0
    assert np.linalg.eigvalsh(cov).min() > 0.0


def test_name_with_gaps_gets_the_variance_of_its_observed_sessions():
    x = factor_returns(60, 6, seed=3)
    x[:25, 2] = np.nan  # 35 observed sessions >= min_history
    model = shrunk_covariance(x, min_history=20)
    observed = x[25:, 2]
    assert model.cov[2, 2] == pytest.approx(((observed - observed.mean()) ** 2).mean(), rel=1e-12)
    assert model.has_history.all()


def test_name_without_enough_history_gets_the_median_variance():
    x = factor_returns(60, 5, seed=4)
    x[:45, 4] = np.nan  # 15 observations < min_history 20
    model = shrunk_covariance(x, min_history=20)
    others = shrunk_covariance(x[:, :4], min_history=20)
    assert not model.has_history[4] and model.has_history[:4].all()
    assert model.cov[4, 4] == pytest.approx(np.median(np.diag(others.cov)))
    np.testing.assert_allclose(model.cov[:4, :4], others.cov)


def test_no_history_at_all_gives_the_fallback_vol_and_no_correlation():
    model = shrunk_covariance(np.full((0, 3), np.nan), fallback_vol=0.30)
    np.testing.assert_allclose(model.cov, np.eye(3) * 0.30**2 / 252)
    np.testing.assert_allclose(model.vol * np.sqrt(252), [0.30, 0.30, 0.30])


def test_name_with_constant_returns_is_treated_as_without_history():
    x = factor_returns(60, 5, seed=5)
    x[:, 1] = 0.0  # a halted name: stale prices, zero returns
    model = shrunk_covariance(x, min_history=20)
    assert not model.has_history[1]
    assert model.cov[1, 1] == pytest.approx(np.median(np.diag(model.cov)[[0, 2, 3, 4]]))
