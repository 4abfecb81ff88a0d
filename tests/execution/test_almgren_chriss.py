"""Specification of Almgren–Chriss schedules and schedule costs (trademl.execution.almgren_chriss)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.execution.almgren_chriss import cost_variance, expected_cost, kappa, optimal_trajectory

# the worked example of Almgren & Chriss (2000), section 3: 1e6 shares over 5 days, 50 $ stock
X, T, SIGMA, EPS, ETA, GAMMA = 1e6, 5.0, 0.95, 0.0625, 2.5e-6, 2.5e-7
LAM = 2e-6


def test_trajectory_matches_the_sinh_closed_form():
    N = 10
    tau = T / N
    eta_t = ETA - GAMMA * tau / 2
    k = math.acosh(1 + tau**2 * LAM * SIGMA**2 / (2 * eta_t)) / tau
    t = np.arange(N + 1) * tau
    expected = np.sinh(k * (T - t)) / np.sinh(k * T) * X
    np.testing.assert_allclose(optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, LAM), expected, rtol=1e-12, atol=1e-6)
    assert kappa(T, N, SIGMA, ETA, GAMMA, LAM) == pytest.approx(k, rel=1e-12)


def test_trajectory_solves_the_discrete_euler_lagrange_equations():
    # independent of the closed form: minimise E + lam V directly, a tridiagonal linear system
    # (eta~/tau)(2 x_j - x_{j-1} - x_{j+1}) + lam sigma^2 tau x_j = 0 for j = 1..N-1, x_0 = X, x_N = 0
    N = 25
    tau = T / N
    eta_t = ETA - GAMMA * tau / 2
    c = eta_t / tau
    A = np.diag(np.full(N - 1, 2 * c + LAM * SIGMA**2 * tau)) - c * np.eye(N - 1, k=1) - c * np.eye(N - 1, k=-1)
    b = np.zeros(N - 1)
    b[0] = c * X
    interior = np.linalg.solve(A, b)
    np.testing.assert_allclose(optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, LAM)[1:-1], interior, rtol=1e-9)


def test_optimal_trajectory_minimises_mean_variance_objective_against_perturbations():
    N = 20
    x = optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, LAM)
    objective = lambda y: expected_cost(y, T, ETA, GAMMA, EPS) + LAM * cost_variance(y, T, SIGMA)  # noqa: E731
    best = objective(x)
    rng = np.random.default_rng(0)
    for _ in range(50):
        y = x.copy()
        y[1:-1] += rng.normal(0, 1e3, N - 1)  # small moves keep the schedule monotone (epsilon term unchanged)
        assert objective(y) > best


def test_expected_cost_and_variance_match_the_papers_closed_form_for_the_optimal_schedule():
    N = 5
    tau = T / N
    eta_t = ETA - GAMMA * tau / 2
    x = optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, LAM)
    k = kappa(T, N, SIGMA, ETA, GAMMA, LAM)
    e_closed = 0.5 * GAMMA * X**2 + EPS * X + eta_t * X**2 * math.tanh(0.5 * k * tau) * (
        tau * math.sinh(2 * k * T) + 2 * T * math.sinh(k * tau)
    ) / (2 * tau**2 * math.sinh(k * T) ** 2)
    v_closed = 0.5 * SIGMA**2 * X**2 * (
        tau * math.sinh(k * T) * math.cosh(k * (T - tau)) - T * math.sinh(k * tau)
    ) / (math.sinh(k * T) ** 2 * math.sinh(k * tau))
    assert expected_cost(x, T, ETA, GAMMA, EPS) == pytest.approx(e_closed, rel=1e-10)
    assert cost_variance(x, T, SIGMA) == pytest.approx(v_closed, rel=1e-10)


@settings(max_examples=100, deadline=None)
@given(holdings=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30))
def test_expected_cost_equals_the_unsimplified_impact_sum_for_any_schedule(holdings):
    # E = sum_k [ tau x_k g(n_k/tau) + n_k h(n_k/tau) ] with g(v) = gamma v, h(v) = eps sgn(v) + eta v
    x = np.array([X, *holdings, 0.0])
    N = x.size - 1
    tau = T / N
    n = -np.diff(x)
    direct = np.sum(tau * x[1:] * GAMMA * n / tau + n * (EPS * np.sign(n) + ETA * n / tau))
    assert expected_cost(x, T, ETA, GAMMA, EPS) == pytest.approx(direct, rel=1e-9, abs=1e-6)


def test_cost_mean_and_variance_match_monte_carlo_of_the_price_model():
    N = 5
    tau = T / N
    x = optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, LAM)
    n = -np.diff(x)
    rng = np.random.default_rng(42)
    paths = 200_000
    xi = rng.standard_normal((paths, N))
    s0 = 50.0
    # S_k = S_{k-1} + sigma sqrt(tau) xi_k - tau g(n_k/tau); sale price S~_k = S_{k-1} - h(n_k/tau)
    drift = np.cumsum(SIGMA * math.sqrt(tau) * xi - GAMMA * n, axis=1)
    s_prev = s0 + np.hstack([np.zeros((paths, 1)), drift[:, :-1]])
    proceeds = np.sum(n * (s_prev - EPS - ETA * n / tau), axis=1)
    shortfall = X * s0 - proceeds
    mean_se = shortfall.std() / math.sqrt(paths)
    assert abs(shortfall.mean() - expected_cost(x, T, ETA, GAMMA, EPS)) < 4 * mean_se
    assert shortfall.var() == pytest.approx(cost_variance(x, T, SIGMA), rel=0.02)


def test_zero_risk_aversion_gives_twap():
    N = 8
    np.testing.assert_allclose(optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, 0.0), X * (1 - np.arange(9) / 8), rtol=1e-15)


def test_schedule_tends_to_twap_as_risk_aversion_vanishes():
    N = 8
    twap = X * (1 - np.arange(N + 1) / N)
    np.testing.assert_allclose(optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, 1e-14), twap, rtol=1e-6)


def test_higher_risk_aversion_front_loads_monotonically():
    N = 10
    lams = [0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4]
    paths = np.array([optimal_trajectory(X, T, N, SIGMA, ETA, GAMMA, lam) for lam in lams])
    assert np.all(np.diff(paths[:, 1:-1], axis=0) < 0)  # every interior holding falls as lam grows
    assert np.all(np.diff(paths, axis=1) <= 0)  # each schedule only sells


def test_large_urgency_does_not_overflow():
    x = optimal_trajectory(X, 100.0, 50, SIGMA, ETA, 0.0, 1.0)  # kappa T ~ 1e3: sinh overflows
    assert np.isfinite(x).all() and x[0] == X and x[-1] == 0.0
    assert x[1] < 1e-6 * X


def test_single_interval_sells_everything_at_once():
    np.testing.assert_array_equal(optimal_trajectory(X, T, 1, SIGMA, ETA, GAMMA, LAM), [X, 0.0])


def test_buy_programme_mirrors_sell_programme():
    sell = optimal_trajectory(X, T, 10, SIGMA, ETA, GAMMA, LAM)
    buy = optimal_trajectory(-X, T, 10, SIGMA, ETA, GAMMA, LAM)
    np.testing.assert_allclose(buy, -sell)
    assert expected_cost(buy, T, ETA, GAMMA, EPS) == pytest.approx(expected_cost(sell, T, ETA, GAMMA, EPS))


@pytest.mark.parametrize(
    "args, match",
    [
        ((X, T, 0, SIGMA, ETA, GAMMA, LAM), "N must be >= 1"),
        ((X, T, 2.5, SIGMA, ETA, GAMMA, LAM), "N must be an integer"),
        ((X, -1.0, 5, SIGMA, ETA, GAMMA, LAM), "T must be positive"),
        ((X, T, 5, -0.1, ETA, GAMMA, LAM), "sigma"),
        ((X, T, 5, SIGMA, 0.0, GAMMA, LAM), "eta must be positive"),
        ((X, T, 5, SIGMA, 1e-7, 1e-6, LAM), r"eta - gamma\*tau/2"),
        ((X, T, 5, SIGMA, ETA, GAMMA, -1.0), "risk aversion"),
        ((math.nan, T, 5, SIGMA, ETA, GAMMA, LAM), "X must be finite"),
    ],
)
def test_optimal_trajectory_rejects_bad_parameters(args, match):
    with pytest.raises(ValueError, match=match):
        optimal_trajectory(*args)


def test_schedule_costs_reject_unfinished_or_short_schedules():
    with pytest.raises(ValueError, match="fully liquidated"):
        expected_cost([X, 0.5 * X], T, ETA, GAMMA)
    with pytest.raises(ValueError, match="N\\+1 >= 2"):
        cost_variance([X], T, SIGMA)
    with pytest.raises(ValueError, match="NaN"):
        cost_variance([X, math.nan, 0.0], T, SIGMA)
