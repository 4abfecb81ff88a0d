"""Indicator-set tables: registered specs and values re-anchored to the adjustment known at each session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.features.indicators import compute_indicator_set, load_indicator_set
from trademl.features.indicators.tables import (
    anchored_indicator_values,
    close_stamps,
    indicator_set_names,
    indicator_table,
    register_indicator_tables,
)
from trademl.schemas import table_spec

SESSIONS = calendar.sessions("2024-01-02", "2024-12-31")
SPLIT_AT = 150  # index of the ex-date session of a 2:1 split


def _curated(split: bool = True, dividend: bool = True, seed: int = 3) -> pd.DataFrame:
    """One symbol's curated rows: as-traded prices that halve at the split, with the factors known per session."""
    rng = np.random.default_rng(seed)
    n = len(SESSIONS)
    econ = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))  # economic (total-return) price path
    split_factor = np.where(np.arange(n) >= SPLIT_AT, 2.0, 1.0) if split else np.ones(n)
    div_factor = np.where(np.arange(n) >= 60, 0.99, 1.0) if dividend else np.ones(n)
    traded = econ / split_factor * div_factor / div_factor[-1]  # continuous except at the corporate actions
    frame = pd.DataFrame({"symbol": "AAA", "date": SESSIONS.date, "close": traded})
    frame["open"] = traded * np.exp(rng.normal(0, 0.004, n))
    frame["high"] = np.maximum(frame["open"], traded) * 1.01
    frame["low"] = np.minimum(frame["open"], traded) * 0.99
    frame["volume"] = rng.integers(10_000, 20_000, n) * split_factor.astype(int)
    frame["split_factor"], frame["div_factor_crsp"] = split_factor, div_factor
    return frame


def test_every_configured_set_has_a_registered_table():
    specs = register_indicator_tables()
    assert [s.name for s in specs] == [f"features/indicators_{n}" for n in indicator_set_names()]
    minimal = table_spec("features/indicators_minimal")
    assert minimal.schema.names == ["date", "symbol", *load_indicator_set("minimal").output_columns()]


def test_registering_twice_is_a_no_op():
    assert indicator_table("minimal") == indicator_table("minimal")


def test_without_corporate_actions_values_equal_the_plain_indicator_set():
    rows = _curated(split=False, dividend=False)
    minimal = load_indicator_set("minimal")
    out = anchored_indicator_values(rows, minimal)
    plain = compute_indicator_set(rows.assign(ts=close_stamps(rows["date"])), minimal)
    np.testing.assert_allclose(out[plain.columns].to_numpy(), plain.to_numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("t", [40, SPLIT_AT - 1, SPLIT_AT + 5])
def test_values_at_t_do_not_change_when_later_sessions_and_a_split_arrive(t):
    rows = _curated()
    default = load_indicator_set("default")
    full = anchored_indicator_values(rows, default)
    truncated = anchored_indicator_values(rows.iloc[: t + 1], default)
    day = SESSIONS[t].date()
    a = full[full["date"] == day].drop(columns=["symbol", "date"]).to_numpy()
    b = truncated[truncated["date"] == day].drop(columns=["symbol", "date"]).to_numpy()
    np.testing.assert_array_equal(a, b)  # bit-identical: the inputs of a bar never depend on later data


def test_sma_before_a_split_is_on_the_as_traded_scale_known_then():
    rows = _curated(dividend=False)
    out = anchored_indicator_values(rows, load_indicator_set("minimal"))
    t = SPLIT_AT - 1
    expected = rows["close"].iloc[t - 19 : t + 1].mean()  # no split known at t: as-traded prices
    assert out["sma_20"].iloc[t] == pytest.approx(expected, rel=1e-12)


def test_start_keeps_only_sessions_from_start():
    out = anchored_indicator_values(_curated(), load_indicator_set("minimal"), start=SESSIONS[200])
    assert out["date"].min() == SESSIONS[200].date() and len(out) == len(SESSIONS) - 200


def test_missing_factor_column_is_named():
    with pytest.raises(ValueError, match="div_factor_alpha_vantage"):
        anchored_indicator_values(_curated(), load_indicator_set("minimal"), convention="alpha_vantage")


def test_close_stamps_use_the_early_close_of_half_days():
    stamps = close_stamps(pd.Series([dt.date(2024, 11, 29), dt.date(2024, 12, 2)]))
    assert [s.strftime("%H:%M") for s in stamps] == ["18:00", "21:00"]  # 13:00 and 16:00 New York


def test_close_stamps_reject_a_non_session():
    with pytest.raises(ValueError, match="2024-12-25 is not an XNYS session"):
        close_stamps(pd.Series([dt.date(2024, 12, 25)]))
