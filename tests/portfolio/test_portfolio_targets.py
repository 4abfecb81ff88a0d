"""Specification of targets over many sessions (trademl.portfolio.build_targets)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.portfolio import build, build_targets

N_NAMES = 8


@pytest.fixture
def panel(returns) -> pd.DataFrame:
    """120 sessions of returns of 8 names with a common factor."""
    return returns([0.01, 0.02, 0.03, 0.015, 0.025, 0.02, 0.01, 0.03], seed=11, market=0.01)


def long_scores(days, seed: int = 12) -> pd.DataFrame:
    """Random scores of the 8 names on each of `days`."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "date": np.repeat(days, N_NAMES),
            "symbol": [f"S{i:02d}" for i in range(N_NAMES)] * len(days),
            "score": rng.normal(size=len(days) * N_NAMES),
        }
    )


def test_targets_equal_build_session_by_session_with_the_previous_targets(cfg, panel, sessions):
    days = sessions[-5:]
    frame = long_scores(days)
    targets = build_targets(frame, panel, cfg)
    previous = None
    for day in days:
        expected = build(frame[frame["date"] == day], cfg, returns=panel.loc[:day], previous=previous)["weights"]
        got = targets[targets["date"] == day].set_index("symbol")["weight"]
        np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=0, atol=1e-15)
        previous = expected


def test_targets_have_one_row_per_session_and_name(cfg, panel, sessions):
    targets = build_targets(long_scores(sessions[-4:]), panel, cfg)
    assert list(targets.columns) == ["date", "symbol", "weight"]
    assert targets["weight"].dtype == np.float64
    assert sorted(targets["date"].unique()) == sessions[-4:]
    assert not targets.duplicated(["date", "symbol"]).any()
    assert (targets.groupby("date").size() == N_NAMES).all()


def test_consecutive_targets_respect_the_turnover_limit(cfg, panel, sessions):
    targets = build_targets(long_scores(sessions[-6:]), panel, cfg)
    wide = targets.pivot(index="date", columns="symbol", values="weight").fillna(0.0)
    assert (wide.diff().abs().sum(axis=1).iloc[1:] <= cfg.turnover_limit + 1e-12).all()


def test_flat_start_ramps_up_under_the_turnover_limit(cfg, panel, sessions):
    targets = build_targets(long_scores(sessions[-3:]), panel, cfg, initial=pd.Series(dtype=float))
    first = targets[targets["date"] == sessions[-3]]
    assert first["weight"].abs().sum() <= cfg.turnover_limit + 1e-12


def test_empty_scores_give_an_empty_target_frame(cfg, panel):
    targets = build_targets(long_scores([]), panel, cfg)
    assert targets.empty and list(targets.columns) == ["date", "symbol", "weight"]


def test_targets_without_returns_use_the_fallback_vol(cfg, sessions):
    frame = long_scores(sessions[-2:])
    targets = build_targets(frame, None, cfg)
    first = build(frame[frame["date"] == sessions[-2]], cfg)["weights"]
    got = targets[targets["date"] == sessions[-2]].set_index("symbol")["weight"]
    pd.testing.assert_series_equal(got.rename(None), first.rename(None), check_names=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shock=st.floats(-0.5, 0.5), score_seed=st.integers(0, 1000), n_future=st.integers(1, 4))
def test_later_returns_and_scores_leave_earlier_targets_unchanged(cfg, panel, sessions, shock, score_seed, n_future):
    cfg = dataclasses.replace(cfg, per_name_cap=0.3, max_short_weight=0.3)  # let the vol target and turnover bind
    days = sessions[-8:-4]
    base = build_targets(long_scores(days), panel.loc[: days[-1]], cfg)
    appended = [calendar.next_session(sessions[-1], k).date() for k in range(1, n_future + 1)]
    changed = pd.concat([panel, pd.DataFrame(0.0, index=appended, columns=panel.columns)])
    changed.loc[changed.index > days[-1]] = shock  # every return after the last targeted session, in the panel or not
    later = sessions[-4:] + appended
    more_scores = pd.concat([long_scores(days), long_scores(later, seed=score_seed)], ignore_index=True)
    extended = build_targets(more_scores, changed, cfg)
    pd.testing.assert_frame_equal(extended[extended["date"].isin(days)].reset_index(drop=True), base)
