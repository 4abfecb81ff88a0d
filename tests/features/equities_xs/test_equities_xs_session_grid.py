"""Windows are counted in XNYS sessions, not rows; the min-periods rule; absent optional inputs; bad panels."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from xs_reference import SMALL, bars, session_dates

from trademl.features.equities_xs import EquitiesXsConfig, build_features
from trademl.schemas.features import EQUITIES_XS_SECTORS

DATES = session_dates("2024-01-02", 8)


def raw(panel: pd.DataFrame, cfg: EquitiesXsConfig = SMALL) -> pd.DataFrame:
    return build_features(panel, cfg, standardize=False)


def test_a_missing_session_does_not_make_mom_reach_further_back():
    close = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]
    panel = bars("A", DATES[:6], close).drop(index=2)  # no bar on the third session
    out = raw(panel).set_index("date")
    # mom_3 at session 4 (index 4) looks back to session 1, not 3 rows back (session 0).
    assert out.loc[DATES[4], "mom_3"] == pytest.approx(math.log(104 / 101), rel=1e-12)
    # mom_3 at session 5 needs session 2, which is missing: NaN rather than another row.
    assert math.isnan(out.loc[DATES[5], "mom_3"])
    # mom_1 right after the hole has no previous session's close.
    assert math.isnan(out.loc[DATES[3], "mom_1"])


def test_a_gap_in_a_symbol_leaves_other_symbols_untouched():
    a = bars("A", DATES[:5], [10.0, 11.0, 12.0, 13.0, 14.0])
    b = bars("B", DATES[:5], [20.0, 21.0, 22.0, 23.0, 24.0])
    together = raw(pd.concat([a, b.drop(index=1)]))
    alone = raw(a)
    pd.testing.assert_frame_equal(together[together["symbol"] == "A"].reset_index(drop=True), alone)


def test_window_with_fewer_observed_values_than_min_periods_is_nan():
    panel = bars("A", DATES[:6], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0], volume=[1, 2, 3, 4, 5, 6]).drop(index=4)
    strict = raw(panel, SMALL).set_index("date")  # min_fraction 1.0: all 3 sessions needed
    assert math.isnan(strict.loc[DATES[5], "adv_3"])
    loose = raw(panel, EquitiesXsConfig(**{**SMALL.__dict__, "min_fraction": 0.6})).set_index("date")  # ceil(1.8) = 2
    assert loose.loc[DATES[5], "adv_3"] == pytest.approx((13 * 4 + 15 * 6) / 2)


def test_leading_sessions_without_enough_history_are_nan():
    out = raw(bars("A", DATES[:4], [10.0, 11.0, 12.0, 13.0]))
    assert out["adv_3"].isna().tolist() == [True, True, False, False]
    assert out["rv_3"].isna().tolist() == [True, True, True, False]  # 3 returns need 4 closes


def test_absent_optional_columns_give_nan_features_not_errors():
    out = raw(bars("A", DATES[:4], [10.0, 11.0, 12.0, 13.0]))
    for name in ("turnover_3", "log_mcap", "days_to_earnings", *EQUITIES_XS_SECTORS):
        assert out[name].isna().all(), name
    assert out["adv_3"].notna().any()


def test_output_is_sorted_by_date_then_symbol_whatever_the_input_order():
    panel = pd.concat([bars("B", DATES[:3], [1.0, 2.0, 3.0]), bars("A", DATES[:3], [4.0, 5.0, 6.0])]).iloc[::-1]
    out = raw(panel)
    assert list(zip(out["date"], out["symbol"])) == [(d, s) for d in DATES[:3] for s in ("A", "B")]


def test_start_returns_only_sessions_on_or_after_it():
    out = build_features(bars("A", DATES[:6], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]), SMALL, standardize=False, start=DATES[4].date())
    assert list(out["date"]) == DATES[4:6]
    assert out["mom_3"].iloc[0] == pytest.approx(math.log(14 / 11))


def test_a_date_that_is_not_a_session_is_an_error():
    panel = bars("A", [pd.Timestamp("2024-01-06")], [1.0])  # a Saturday
    with pytest.raises(ValueError, match="not an XNYS session"):
        raw(panel)


def test_repeated_symbol_date_rows_are_an_error():
    panel = bars("A", [DATES[0], DATES[0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="repeated"):
        raw(panel)


def test_a_missing_required_column_is_an_error():
    with pytest.raises(ValueError, match="missing columns \\['volume'\\]"):
        raw(bars("A", DATES[:2], [1.0, 2.0]).drop(columns="volume"))
