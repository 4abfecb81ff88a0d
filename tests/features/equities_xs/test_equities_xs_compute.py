"""compute_equity_features: one session's features from a panel or from the lake's adjusted prices."""

from __future__ import annotations

import pandas as pd
import pytest
from xs_reference import random_panel, session_dates

from trademl.calendar import previous_session
from trademl.features.equities_xs import EquitiesXsConfig, build_features, compute_equity_features, next_earnings_as_of
from trademl.schemas.features import EQUITIES_XS_FEATURES

V1 = EquitiesXsConfig()
DATES = session_dates("2024-01-02", 180)
T = DATES[150]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return random_panel(31, n_symbols=5, n_sessions=180, holes=0.05)


def as_read_adjusted(panel: pd.DataFrame, calls: list) -> callable:
    """A read_prices stand-in with trademl.curate.read_adjusted's signature and adj_* columns."""

    def read(lake, start, end, *, asof=None, symbols=None, convention="crsp"):
        calls.append({"lake": lake, "start": start, "end": end, "asof": asof, "symbols": symbols})
        rows = panel[(panel["date"] >= pd.Timestamp(start)) & (panel["date"] <= pd.Timestamp(end)) & panel["symbol"].isin(symbols)]
        renamed = rows.rename(columns={c: f"adj_{c}" for c in ("open", "high", "low", "close", "volume")})
        return renamed[["symbol", "date", "adj_open", "adj_high", "adj_low", "adj_close", "adj_volume"]].assign(close=1.0)

    return read


def test_panel_entry_gives_the_rows_of_t_of_a_build_on_the_universe(panel):
    universe = ["S3", "S0", "S1"]
    out = compute_equity_features(T, universe, panel=panel, cfg=V1)
    full = build_features(panel[panel["symbol"].isin(universe) & (panel["date"] <= T)], V1)
    expected = full[full["date"] == T].sort_values("symbol").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-12)
    assert list(out.columns) == ["symbol", "date", *EQUITIES_XS_FEATURES]


def test_panel_entry_ignores_rows_after_t(panel):
    later = panel.assign(close=panel["close"].where(panel["date"] <= T, panel["close"] * 3))
    a = compute_equity_features(T, ["S0", "S1", "S2"], panel=panel, cfg=V1)
    b = compute_equity_features(T, ["S0", "S1", "S2"], panel=later, cfg=V1)
    pd.testing.assert_frame_equal(a, b)


def test_lake_entry_reads_the_lookback_adjusted_as_of_t(panel):
    calls: list = []
    lake = object()
    out = compute_equity_features(T.date(), ["S2", "S4"], lake=lake, read_prices=as_read_adjusted(panel, calls), cfg=V1)
    assert calls == [{"lake": lake, "start": previous_session(T, 126).date(), "end": T.date(), "asof": T.date(), "symbols": ["S2", "S4"]}]
    expected = compute_equity_features(T, ["S2", "S4"], panel=panel, cfg=V1)
    cols = [c for c in out.columns if c not in ("feat_turnover_20", "feat_log_mcap") and not c.startswith("feat_sector_")]
    pd.testing.assert_frame_equal(out[cols], expected[cols], check_exact=False, rtol=1e-12)


def test_lake_entry_merges_attributes_onto_the_prices(panel):
    attributes = next_earnings_as_of(
        panel[["symbol", "date", "shares_outstanding", "sector"]],
        pd.DataFrame({"symbol": ["S2"], "earnings_date": [DATES[155]], "time_of_day": ["amc"], "known_date": [DATES[100]]}),
    )
    other = sorted(set(panel.loc[panel["date"] == T, "symbol"]) - {"S2"})[0]
    out = compute_equity_features(T, ["S2", other], lake="root", read_prices=as_read_adjusted(panel, []), attributes=attributes, cfg=V1, standardize=False)
    dte = out.set_index("symbol")["days_to_earnings"]
    assert dte["S2"] == 5.0 and pd.isna(dte[other])
    assert out["log_mcap"].notna().all()


def test_a_symbol_without_a_bar_at_t_is_left_out(panel):
    holed = panel[~((panel["symbol"] == "S1") & (panel["date"] == T))]
    out = compute_equity_features(T, ["S0", "S1"], panel=holed, cfg=V1)
    assert out["symbol"].tolist() == ["S0"]


def test_no_bar_at_t_gives_an_empty_frame_with_the_columns(panel):
    out = compute_equity_features(T, ["NOPE"], panel=panel, cfg=V1)
    assert out.empty and list(out.columns) == ["symbol", "date", *EQUITIES_XS_FEATURES]


def test_exactly_one_source_must_be_given(panel):
    with pytest.raises(ValueError, match="exactly one of panel= or lake="):
        compute_equity_features(T, ["S0"], cfg=V1)
    with pytest.raises(ValueError, match="exactly one of panel= or lake="):
        compute_equity_features(T, ["S0"], panel=panel, lake="root", cfg=V1)
