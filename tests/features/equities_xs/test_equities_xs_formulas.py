"""Each raw equities_xs formula on tiny explicit frames with hand-checked values, and the whole raw
build against the naive session-by-session reference (small windows and the v1 defaults)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from xs_reference import SMALL, bars, naive_raw, random_panel, session_dates

from trademl.features.equities_xs import EquitiesXsConfig, build_features
from trademl.schemas.features import EQUITIES_XS_SECTORS

DATES = session_dates("2024-01-02", 6)  # Tue 2 .. Tue 9 January 2024


def raw(panel: pd.DataFrame, cfg: EquitiesXsConfig = SMALL) -> pd.DataFrame:
    return build_features(panel, cfg, standardize=False)


def last(frame: pd.DataFrame, column: str, symbol: str = "A") -> float:
    return float(frame.loc[frame["symbol"] == symbol, column].iloc[-1])


def test_momentum_is_log_of_close_over_close_k_sessions_back():
    out = raw(bars("A", DATES, [100, 110, 121, 133.1, 146.41, 161.051]))
    assert last(out, "mom_3") == pytest.approx(3 * math.log(1.1), rel=1e-12)
    assert last(out, "mom_1") == pytest.approx(math.log(1.1), rel=1e-12)
    assert out["mom_3"].iloc[:3].isna().all()


def test_overnight_gap_is_mean_log_open_over_previous_close():
    close = [100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    open_ = [100.0, 101.0, 102.0, 99.0, 103.0, 104.0]
    out = raw(bars("A", DATES, close, open_=open_))
    expected = np.mean([math.log(99 / 100), math.log(103 / 100), math.log(104 / 100)])
    assert last(out, "gap_overnight_3") == pytest.approx(expected, rel=1e-12)


def test_intraday_gap_is_mean_log_close_over_open():
    close = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    open_ = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    out = raw(bars("A", DATES, close, open_=open_))
    assert last(out, "gap_intraday_3") == pytest.approx(np.mean(np.log([13 / 10, 14 / 10, 15 / 10])), rel=1e-12)


def test_drawdown_is_close_over_window_max_including_today_minus_one():
    out = raw(bars("A", DATES, [20.0, 10.0, 12.0, 11.0, 9.0, 13.0]))
    assert out["drawdown_3"].tolist()[2:] == pytest.approx([12 / 20 - 1, 11 / 12 - 1, 9 / 12 - 1, 0.0])


def test_realized_vol_is_annualised_sample_std_of_log_returns():
    close = [100.0, 110.0, 99.0, 118.8, 100.0, 105.0]
    out = raw(bars("A", DATES, close))
    r = np.diff(np.log(close))[-3:]
    assert last(out, "rv_3") == pytest.approx(math.sqrt(252) * np.std(r, ddof=1), rel=1e-12)


def test_downside_vol_is_root_mean_square_of_negative_returns_annualised():
    close = [100.0, 100.0, 100 * math.exp(0.1), 100.0, 100 * math.exp(-0.3)]
    out = raw(bars("A", DATES[:5], close))
    assert last(out, "downside_vol_3") == pytest.approx(math.sqrt(252 * (0.1**2 + 0.3**2) / 3), rel=1e-12)


def test_adv_is_mean_dollar_volume():
    out = raw(bars("A", DATES[:4], [10.0, 20.0, 30.0, 40.0], volume=[1, 2, 3, 4]))
    assert last(out, "adv_3") == pytest.approx((40 + 90 + 160) / 3)


def test_turnover_is_mean_volume_over_shares_outstanding():
    out = raw(bars("A", DATES[:3], [10.0, 10.0, 10.0], volume=[100, 200, 600], shares_outstanding=[1000.0, 1000.0, 2000.0]))
    assert last(out, "turnover_3") == pytest.approx((0.1 + 0.2 + 0.3) / 3)


def test_amihud_is_a_million_times_mean_abs_return_per_dollar_traded():
    close = [10.0, 11.0, 9.9, 10.89]
    volume = [1000, 2000, 3000, 4000]
    out = raw(bars("A", DATES[:4], close, volume=volume))
    terms = [abs(math.log(close[j] / close[j - 1])) / (close[j] * volume[j]) for j in (1, 2, 3)]
    assert last(out, "amihud_3") == pytest.approx(1e6 * sum(terms) / 3, rel=1e-12)


def test_amihud_skips_zero_volume_sessions_instead_of_dividing_by_zero():
    out = raw(bars("A", DATES[:4], [10.0, 11.0, 12.1, 13.31], volume=[1000, 0, 1000, 1000]), SMALL)
    assert math.isnan(last(out, "amihud_3"))  # only 2 of the 3 sessions observed, min_fraction 1.0
    loose = EquitiesXsConfig(**{**SMALL.__dict__, "min_fraction": 0.5})
    out = raw(bars("A", DATES[:4], [10.0, 11.0, 12.1, 13.31], volume=[1000, 0, 1000, 1000]), loose)
    assert last(out, "amihud_3") == pytest.approx(1e6 * math.log(1.1) * (1 / 12100 + 1 / 13310) / 2, rel=1e-12)


def test_log_mcap_is_log_of_close_times_shares():
    out = raw(bars("A", DATES[:2], [10.0, 20.0], shares_outstanding=[1e6, 2e6]))
    assert out["log_mcap"].tolist() == pytest.approx([math.log(1e7), math.log(4e7)])


def test_calendar_encodes_weekday_over_five_and_month_over_twelve():
    days = session_dates("2024-03-25", 5)  # Mon 25 .. Fri 29 March 2024 (Good Friday: Mon..Thu, then Mon 1 April)
    out = raw(bars("A", days, [1.0] * 5))
    dow = pd.DatetimeIndex(out["date"]).dayofweek.to_numpy()
    month = pd.DatetimeIndex(out["date"]).month.to_numpy()
    assert out["dow_sin"].to_numpy() == pytest.approx(np.sin(2 * np.pi * dow / 5))
    assert out["dow_cos"].to_numpy() == pytest.approx(np.cos(2 * np.pi * dow / 5))
    assert out["moy_sin"].to_numpy() == pytest.approx(np.sin(2 * np.pi * (month - 1) / 12))
    assert out.loc[0, "dow_sin"] == 0.0 and out.loc[0, "dow_cos"] == 1.0  # Monday
    assert out["moy_cos"].iloc[-1] == pytest.approx(math.cos(2 * math.pi * 3 / 12))  # 1 April


def test_days_to_earnings_counts_xnys_sessions_to_the_next_report():
    # Fri 2024-03-22: sessions to Tue 26 = 2; Thu 28 from Thu 28 = 0; report on Good Friday 29 -> Mon 1 April.
    days = pd.to_datetime(["2024-03-22", "2024-03-28", "2024-03-28"])
    panel = pd.concat(
        [
            bars("A", days[:1], [1.0], next_earnings_date=pd.to_datetime(["2024-03-26"])),
            bars("B", days[1:2], [1.0], next_earnings_date=pd.to_datetime(["2024-03-28"])),
            bars("C", days[2:], [1.0], next_earnings_date=pd.to_datetime(["2024-03-29"])),
        ]
    )
    out = raw(panel).set_index("symbol")["days_to_earnings"]
    assert out.to_dict() == {"A": 2.0, "B": 0.0, "C": 1.0}


def test_days_to_earnings_is_nan_when_unknown_or_already_past():
    panel = bars("A", DATES[2:4], [1.0, 1.0], next_earnings_date=[pd.NaT, pd.Timestamp("2024-01-02")])
    assert raw(panel)["days_to_earnings"].isna().all()


def test_sector_dummies_mark_the_gics_sector_and_nan_when_unknown():
    panel = pd.concat(
        [
            bars("A", DATES[:1], [1.0], sector=["Health Care"]),
            bars("B", DATES[:1], [1.0], sector=[None]),
            bars("C", DATES[:1], [1.0], sector=["Not A Sector"]),
        ]
    )
    out = raw(panel).set_index("symbol")[list(EQUITIES_XS_SECTORS)]
    assert out.loc["A"].to_dict() == {name: float(name == "sector_health_care") for name in EQUITIES_XS_SECTORS}
    assert out.loc[["B", "C"]].isna().all().all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_window_build_matches_the_naive_reference(seed):
    panel = random_panel(seed, holes=0.15)
    ours = raw(panel)
    ref = naive_raw(panel, SMALL)
    pd.testing.assert_frame_equal(ours[list(ref.columns)], ref, check_exact=False, rtol=1e-9, atol=1e-12, check_dtype=False)


def test_default_v1_build_matches_the_naive_reference_with_gaps():
    cfg = EquitiesXsConfig()
    panel = random_panel(7, n_symbols=3, n_sessions=160, holes=0.08)
    ours = raw(panel, cfg)
    ref = naive_raw(panel, cfg)
    assert ours["mom_126"].notna().sum() > 0 and ours["rv_60"].notna().sum() > 0
    pd.testing.assert_frame_equal(ours[list(ref.columns)], ref, check_exact=False, rtol=1e-9, atol=1e-12, check_dtype=False)
