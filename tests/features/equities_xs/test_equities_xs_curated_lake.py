"""compute_equity_features over a real lake through trademl.curate.read_adjusted: prices adjusted
as of the feature date, so a split after t changes nothing at t and a split before t is adjusted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from xs_reference import SMALL, session_dates

from trademl.data.lake import Lake
from trademl.features.equities_xs import compute_equity_features

DATES = session_dates("2024-03-01", 8)
EX_DATE = DATES[6]  # S0 splits 2:1 here
ECONOMIC = {"S0": [100.0, 102.0, 101.0, 104.0, 103.0, 106.0, 108.0, 107.0], "S1": [50.0, 49.0, 51.0, 52.0, 50.0, 53.0, 54.0, 55.0]}


def curated_rows(split: bool) -> pd.DataFrame:
    """As-traded curated rows; with `split`, S0 trades at half its economic price from EX_DATE on (split_factor 2)."""
    frames = []
    for symbol, prices in ECONOMIC.items():
        after = np.array([split and symbol == "S0" and d >= EX_DATE for d in DATES])
        close = np.where(after, np.array(prices) / 2, prices)
        frames.append(
            pd.DataFrame(
                {
                    "date": [d.date() for d in DATES],
                    "symbol": symbol,
                    "open": close,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close,
                    "volume": np.where(after, 2000, 1000),
                    "split_factor": np.where(after, 2.0, 1.0),
                    "div_factor_crsp": 1.0,
                    "div_factor_alpha_vantage": 1.0,
                    "delisting_return": np.nan,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def lakes(tmp_path_factory) -> dict[str, Lake]:
    out = {}
    for name, split in (("split", True), ("plain", False)):
        lake = Lake(tmp_path_factory.mktemp(name))
        lake.write_partitions("curated/equities_ohlcv_adj", curated_rows(split))
        out[name] = lake
    return out


def test_a_split_after_t_leaves_features_read_from_the_lake_at_t_unchanged(lakes):
    t = DATES[5]
    with_split = compute_equity_features(t, ["S0", "S1"], lake=lakes["split"], cfg=SMALL, standardize=False)
    without = compute_equity_features(t, ["S0", "S1"], lake=lakes["plain"], cfg=SMALL, standardize=False)
    pd.testing.assert_frame_equal(with_split, without)
    assert with_split.loc[0, "mom_3"] == pytest.approx(math.log(106 / 101), rel=1e-12)


def test_a_split_inside_the_window_is_adjusted_away_as_of_t(lakes):
    t = DATES[7]
    out = compute_equity_features(t, ["S0", "S1"], lake=lakes["split"], cfg=SMALL, standardize=False)
    plain = compute_equity_features(t, ["S0", "S1"], lake=lakes["plain"], cfg=SMALL, standardize=False)
    assert out.loc[0, "mom_3"] == pytest.approx(math.log(107 / 103), rel=1e-12)
    returns = [c for c in out.columns if c.startswith(("mom_", "gap_", "drawdown_", "rv_", "downside_vol_", "adv_", "amihud_"))]
    pd.testing.assert_frame_equal(out[returns], plain[returns], check_exact=False, rtol=1e-12)
