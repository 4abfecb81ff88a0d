"""The embedded synthetic market as a training frame, built in memory through the library.

trademl.data.connectors.synthetic (as-traded bars, corporate actions, universe sectors) ->
trademl.curate.adjusted_ohlcv (adjusted as of the last session) -> trademl.features.equities_xs
.build_features -> trademl.labels.build_label_set("equities_xs"), joined like
trademl.models.dataset.training_frame joins the stored tables. Also the wide next-session simple
returns the stand-in strategy trades on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl.curate import adjusted_ohlcv
from trademl.curate.market_panel import MarketPanel, market_panel
from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector
from trademl.features.equities_xs import build_features
from trademl.labels.label_sets import build_label_set
from trademl.schemas import EQUITIES_XS_FEATURES


@dataclass(frozen=True)
class SyntheticMarket:
    """`frame`: features + labels per (date, symbol); `returns`: wide simple close-to-close returns."""

    frame: pd.DataFrame
    returns: pd.DataFrame
    panel: MarketPanel  # what the production strategy trades against (trademl.curate.market_panel)


def _fetch(conn: SyntheticConnector, dataset: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    return conn.fetch(FetchRequest(dataset, start, end)).frame


def synthetic_market(*, signal_strength: float, seed: int, n_symbols: int, start: dt.date, end: dt.date, first_feature: dt.date) -> SyntheticMarket:
    """Features from `first_feature` on (earlier sessions are the features' lookback) with every label."""
    config = SyntheticConfig().with_overrides(
        n_symbols=n_symbols, seed=seed, signal_strength=signal_strength, origin=start, minute_missing_prob=0.0
    )
    conn = SyntheticConnector(config)
    bars = _fetch(conn, "equities_eod", start, end)
    corp = _fetch(conn, "corp_actions", start, end)
    adjusted = adjusted_ohlcv(bars, corp, asof=end)
    panel = pd.DataFrame(
        {
            "symbol": adjusted["symbol"].to_numpy(),
            "date": pd.to_datetime(adjusted["date"]).to_numpy(),
            "open": adjusted["adj_open"].to_numpy(),
            "high": adjusted["adj_high"].to_numpy(),
            "low": adjusted["adj_low"].to_numpy(),
            "close": adjusted["adj_close"].to_numpy(),
            "volume": adjusted["adj_volume"].to_numpy(dtype=float),
        }
    )
    features = build_features(panel, standardize=True, start=first_feature)
    features["date"] = pd.to_datetime(features["date"]).dt.date
    labels = build_label_set("equities_xs", panel)
    labels["date"] = pd.to_datetime(labels["date"]).dt.date
    label_cols = ["date", "symbol", "logret_fwd_1d", "xs_logret_fwd_1d", "xs_logret_fwd_5d", "xs_logret_fwd_20d"]
    frame = features[["date", "symbol", *EQUITIES_XS_FEATURES]].merge(labels[label_cols], on=["date", "symbol"], how="inner")
    frame = frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    close = panel.pivot(index="date", columns="symbol", values="close").sort_index()
    returns = close.pct_change(fill_method=None)
    returns.index = pd.DatetimeIndex(returns.index).date
    curated = panel.assign(date=pd.to_datetime(panel["date"]).dt.date, volume=panel["volume"].round().astype("int64"),
                           split_factor=1.0, div_factor_crsp=1.0)  # prices already adjusted: factors of 1
    return SyntheticMarket(frame=frame, returns=returns.astype(np.float64), panel=market_panel(curated))


def standin_strategy(returns: pd.DataFrame, *, cost_bps: float = 5.0) -> Callable[[pd.DataFrame], pd.Series]:
    """The stand-in for trademl.backtest.strategy_returns: net daily returns of a cross-sectional
    rank long-short book (demeaned ranks: dollar neutral, gross 1) decided at the close of t and
    earning close t -> t+1, minus a flat `cost_bps` per unit of turnover (sum |w_t - w_{t-1}|)."""
    forward = returns.shift(-1)
    cost = cost_bps * 1e-4

    def strategy(scores: pd.DataFrame) -> pd.Series:
        wide = scores.pivot(index="date", columns="symbol", values="score").sort_index()
        ranks = wide.rank(axis=1)
        centred = ranks.sub(ranks.mean(axis=1), axis=0)
        weights = centred.div(centred.abs().sum(axis=1), axis=0).fillna(0.0)
        fwd = forward.reindex(index=weights.index, columns=weights.columns)
        gross = (weights * fwd.fillna(0.0)).sum(axis=1)
        turnover = weights.diff().abs().sum(axis=1)
        turnover.iloc[0] = weights.iloc[0].abs().sum()
        net = gross - cost * turnover
        return net[fwd.notna().any(axis=1)].astype(np.float64)

    return strategy


def random_frame(*, n_sessions: int, n_symbols: int, seed: int, signal: float = 1.0, end: str = "2024-06-28") -> pd.DataFrame:
    """A small training frame over the `n_sessions` XNYS sessions ending `end`: random features,
    labels with `signal` x feat_mom_5 planted in the 1-session label (the rest noise)."""
    from trademl import calendar

    days = calendar.sessions(calendar.previous_session(end, n_sessions - 1), end)
    rng = np.random.default_rng(seed)
    n = n_sessions * n_symbols
    frame = pd.DataFrame({
        "date": np.repeat(days.date, n_symbols),
        "symbol": np.tile([f"S{i:03d}" for i in range(n_symbols)], n_sessions),
    })
    for name in EQUITIES_XS_FEATURES:
        frame[name] = rng.standard_normal(n)
    noise = rng.standard_normal((4, n)) * 0.01
    frame["logret_fwd_1d"] = signal * 0.01 * frame["feat_mom_5"].to_numpy() + noise[0]
    frame["xs_logret_fwd_1d"] = frame["logret_fwd_1d"] - frame.groupby("date")["logret_fwd_1d"].transform("mean")
    frame["xs_logret_fwd_5d"] = noise[1] * 2
    frame["xs_logret_fwd_20d"] = noise[2] * 4
    return frame


def small_config(**overrides: object):
    """configs/training/equities_xs.yml with a tiny grid and CPCV, one thread: unit-test sized."""
    import dataclasses

    from trademl.models.settings import CpcvSettings, Trial, training_config

    fast = {"num_boost_round": 10, "max_bin": 15, "min_data_in_leaf": 20}
    base = {
        "grid": (Trial("h1_small", "xs_logret_fwd_1d", 1, {**fast, "num_leaves": 4}),
                 Trial("h5_small", "xs_logret_fwd_5d", 5, {**fast, "num_leaves": 4})),
        "cpcv": CpcvSettings(n_groups=4, n_test_groups=2, embargo_sessions=2, min_test_sessions=10),
        "pbo_partitions": 4,
        "num_threads": 1,
        "lightgbm": {**training_config().lightgbm, **fast},
    }
    base.update(overrides)
    return dataclasses.replace(training_config(), **base)
