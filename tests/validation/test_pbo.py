"""probability_of_backtest_overfitting (CSCV): hand cases, known answers, brute-force agreement."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from trademl.validation.pbo import probability_of_backtest_overfitting


def column_mean(rows: np.ndarray) -> np.ndarray:
    return rows.mean(axis=0)


def two_block_returns(first_half_means, second_half_means) -> np.ndarray:
    """4 rows x N strategies: rows 0-1 have the first means, rows 2-3 the second (S = 2 blocks)."""
    return np.array([first_half_means, first_half_means, second_half_means, second_half_means], dtype=float)


def test_in_sample_winner_that_comes_last_out_of_sample_is_overfit_in_every_combination():
    """S = 2: IS block A picks strategy 0 (mean 3), which ranks 1st of 3 from the bottom in block B;
    IS block B picks strategy 2, last in block A. Relative rank 1/(N+1) = 1/4 -> logit ln(1/3);
    PBO = 1."""
    result = probability_of_backtest_overfitting(
        two_block_returns([3, 2, 1], [1, 2, 3]), 2, metric=column_mean
    )
    assert result.pbo == 1.0
    np.testing.assert_allclose(result.logits, [math.log(1 / 3)] * 2)
    assert result.selected.tolist() == [0, 2]
    np.testing.assert_allclose(result.is_performance, [3.0, 3.0])
    np.testing.assert_allclose(result.oos_performance, [1.0, 1.0])


def test_in_sample_winner_that_also_wins_out_of_sample_is_not_overfit():
    """Strategy 0 is best in both blocks: rank 3 of 3 -> w = 3/4, logit ln 3 > 0; PBO = 0."""
    result = probability_of_backtest_overfitting(
        two_block_returns([3, 2, 1], [4, 1, 0]), 2, metric=column_mean
    )
    assert result.pbo == 0.0
    np.testing.assert_allclose(result.logits, [math.log(3)] * 2)


def test_out_of_sample_ties_take_the_average_rank():
    """OOS values tie between the IS winner and one other strategy: ranks 2 and 3 average to 2.5 ->
    w = 2.5 / 4 = 0.625."""
    result = probability_of_backtest_overfitting(
        two_block_returns([3, 2, 1], [2, 2, 1]), 2, metric=column_mean
    )
    assert result.oos_relative_rank[0] == pytest.approx(0.625)


def test_default_sharpe_metric_matches_a_brute_force_loop_over_combinations():
    """Vectorised block-sum Sharpe vs concatenating each combination's rows and calling np.std."""
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0005, 0.01, size=(123, 7))
    result = probability_of_backtest_overfitting(returns, n_partitions=6)
    used = returns[123 - 120 :].reshape(6, 20, 7)
    logits, is_perf = [], []
    for combo in itertools.combinations(range(6), 3):
        rest = [b for b in range(6) if b not in combo]
        ins, oos = used[list(combo)].reshape(-1, 7), used[rest].reshape(-1, 7)
        sr_in = ins.mean(0) / ins.std(0, ddof=1)
        sr_out = oos.mean(0) / oos.std(0, ddof=1)
        best = int(np.argmax(sr_in))
        rank = (sr_out < sr_out[best]).sum() + 1
        logits.append(math.log(rank / (7 + 1 - rank)))
        is_perf.append(sr_in[best])
    np.testing.assert_allclose(result.logits, logits, rtol=1e-12)
    np.testing.assert_allclose(result.is_performance, is_perf, rtol=1e-9)
    assert result.n_combinations == math.comb(6, 3) == 20
    assert result.rows_used == 120


def test_oldest_rows_beyond_a_multiple_of_the_partition_count_are_ignored():
    rng = np.random.default_rng(4)
    returns = rng.normal(0, 0.01, size=(35, 5))
    altered = returns.copy()
    altered[:3] = 10.0  # 35 = 4 * 8 + 3 -> the 3 oldest rows are dropped
    a = probability_of_backtest_overfitting(returns, 4)
    b = probability_of_backtest_overfitting(altered, 4)
    np.testing.assert_array_equal(a.logits, b.logits)


def test_all_noise_strategies_have_pbo_near_one_half():
    """With iid noise, IS and OOS are independent, so the IS winner's OOS rank is uniform and
    E[PBO] = 1/2 (even N: no exact-median ties). Averaged over 60 independent 400 x 30 panels."""
    values = [
        probability_of_backtest_overfitting(np.random.default_rng(seed).normal(0, 0.01, (400, 30)), 8).pbo
        for seed in range(60)
    ]
    assert np.mean(values) == pytest.approx(0.5, abs=0.07)


def test_one_strategy_with_a_true_edge_among_noise_has_pbo_near_zero():
    """Strategy 17 earns a per-period Sharpe of 0.3 on top of noise; it wins IS and stays on top OOS."""
    rng = np.random.default_rng(11)
    returns = rng.normal(0, 0.01, size=(1000, 40))
    returns[:, 17] += 0.003
    result = probability_of_backtest_overfitting(pd.DataFrame(returns), n_partitions=16)
    assert result.pbo < 0.02
    assert (result.selected == 17).mean() > 0.98
    assert result.prob_oos_loss == 0.0
    assert result.n_combinations == 12870


def test_performance_degradation_fit_is_least_squares_of_oos_on_is():
    rng = np.random.default_rng(5)
    result = probability_of_backtest_overfitting(rng.normal(0, 0.01, (200, 10)), 8)
    slope, intercept = np.polyfit(result.is_performance, result.oos_performance, 1)
    r = np.corrcoef(result.is_performance, result.oos_performance)[0, 1]
    assert result.degradation_slope == pytest.approx(slope)
    assert result.degradation_intercept == pytest.approx(intercept)
    assert result.degradation_r2 == pytest.approx(r**2)
    assert result.prob_oos_loss == pytest.approx(np.mean(result.oos_performance < 0))


@pytest.mark.parametrize(
    ("returns", "kwargs", "message"),
    [
        (np.zeros(10), {}, "2-D"),
        (np.zeros((40, 1)), {}, "at least 2 strategy columns"),
        (np.full((40, 3), np.nan), {}, "NaN or infinite"),
        (np.zeros((40, 3)), {"n_partitions": 5}, "even integer"),
        (np.zeros((40, 3)), {"n_partitions": 0}, "even integer"),
        (np.zeros((10, 3)), {"n_partitions": 8}, "need at least 2 per partition"),
        (np.zeros((400, 3)), {"n_partitions": 30}, "combinations"),
        (np.zeros((40, 3)), {"n_partitions": 4, "metric": lambda m: m.mean()}, "one value per strategy"),
    ],
)
def test_rejects_bad_input(returns, kwargs, message):
    with pytest.raises(ValueError, match=message):
        probability_of_backtest_overfitting(returns, **kwargs)
