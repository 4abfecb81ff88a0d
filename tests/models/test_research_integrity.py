"""Research integrity on the embedded synthetic market: a planted edge is found and passes the bars,
no edge never does.

The market is built in memory through the library (synthetic connector -> curate -> equities_xs
features -> labels, tests/models/models_market.py): 100 symbols, 2021-01-04..2023-12-29, features
from 2021-08-02 (588 labelled sessions). The planted signal is a 5-session trailing return that
predicts the next session's return with rank IC = signal_strength. The strategy is the production
one (trademl.backtest.production: the portfolio constructor of configs/portfolio.yml, the cost model
of configs/backtest.yml, borrow on shorts), and the verdict is the policy's (configs/policy/
equities_xs.yml through trademl.models.policy.decide_promotion). For speed the grid is 4 trials (label horizon 1 / 20 x shallow / deep, 40 rounds) and
CPCV uses 6 groups (15 splits, 5 paths); benchmarks/bench_training.py runs the production grid and
CPCV over 10 seeds each way.
"""

from __future__ import annotations

import datetime as dt

import pytest
from models_market import small_config, synthetic_market

from trademl.backtest.production import production_strategy
from trademl.models.evaluation import run_cpcv
from trademl.models.policy import decide_promotion, load_policy
from trademl.models.settings import CpcvSettings, Trial

START, END, FIRST_FEATURE = dt.date(2021, 1, 4), dt.date(2023, 12, 29), dt.date(2021, 8, 2)
STRENGTH = 0.05
FAST = {"num_boost_round": 40, "max_bin": 63, "min_data_in_leaf": 200}
GRID = (
    Trial("h1_shallow", "xs_logret_fwd_1d", 1, {**FAST, "num_leaves": 7}),
    Trial("h1_deep", "xs_logret_fwd_1d", 1, {**FAST, "num_leaves": 31}),
    Trial("h20_shallow", "xs_logret_fwd_20d", 20, {**FAST, "num_leaves": 7}),
    Trial("h20_deep", "xs_logret_fwd_20d", 20, {**FAST, "num_leaves": 31}),
)
CFG = small_config(grid=GRID, cpcv=CpcvSettings(n_groups=6, n_test_groups=2, embargo_sessions=10, min_test_sessions=126), pbo_partitions=16)


def failed_bars(metrics: dict[str, float]) -> list[str]:
    """The SSOT 6.3 bars (trademl.models.policy defaults) that `metrics` miss."""
    checks = {
        "min_sharpe": metrics["oos_sharpe_net"] >= 1.0,
        "max_drawdown": metrics["max_drawdown"] <= 0.20,
        "min_dsr_margin": metrics["dsr_margin"] > 0.0,
        "max_pbo": metrics["pbo"] <= 0.05,
    }
    return [name for name, ok in checks.items() if not ok]


def evaluate(strength: float, seed: int):
    market = synthetic_market(signal_strength=strength, seed=seed, n_symbols=100, start=START, end=END, first_feature=FIRST_FEATURE)
    return run_cpcv(market.frame, CFG, strategy=production_strategy(market.panel))


@pytest.fixture(scope="module")
def planted():
    return evaluate(STRENGTH, seed=7)


def test_the_planted_signal_is_found_out_of_sample_with_rank_ic_near_its_strength(planted):
    assert planted.metrics["rank_ic_mean"] >= 0.8 * STRENGTH


def test_the_planted_signal_passes_every_bar(planted):
    assert failed_bars(planted.metrics) == [], planted.metrics


def test_the_next_session_trials_win_when_the_signal_is_next_session(planted):
    assert planted.selected.horizon == 1


def test_the_policy_promotes_the_planted_edge(planted):
    decision = decide_promotion(planted.metrics, None, load_policy("equities_xs"), green_ok=True)
    assert decision.promote, decision.reason


@pytest.fixture(scope="module")
def no_edge():
    return evaluate(0.0, seed=1)  # benchmarks/bench_training.py sweeps 10 seeds each way


def test_without_a_signal_at_least_one_bar_fails(no_edge):
    assert failed_bars(no_edge.metrics), no_edge.metrics
    assert abs(no_edge.metrics["rank_ic_mean"]) < 0.02


def test_the_policy_never_promotes_no_edge(no_edge):
    decision = decide_promotion(no_edge.metrics, None, load_policy("equities_xs"), green_ok=True)
    assert not decision.promote and decision.failed


# More seeds without an edge, on a lighter CPCV (2 trials, 4 groups: 6 splits, 3 paths) to keep the suite
# short; benchmarks/bench_training.py runs 6-10 null seeds on the full setup.
LIGHT_CFG = small_config(
    grid=(GRID[0], GRID[2]), cpcv=CpcvSettings(n_groups=4, n_test_groups=2, embargo_sessions=10, min_test_sessions=126),
    pbo_partitions=16,
)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_no_edge_is_never_promoted_on_other_seeds(seed):
    market = synthetic_market(signal_strength=0.0, seed=seed, n_symbols=100, start=START, end=END, first_feature=FIRST_FEATURE)
    report = run_cpcv(market.frame, LIGHT_CFG, strategy=production_strategy(market.panel))
    decision = decide_promotion(report.metrics, None, load_policy("equities_xs"), green_ok=True)
    assert not decision.promote, report.metrics
    assert {"min_sharpe", "min_dsr_margin"} & set(decision.failed_bars), decision.reason
