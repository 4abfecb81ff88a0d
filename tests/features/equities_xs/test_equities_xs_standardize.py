"""standardize=True: per-date cross-sectional z-scores (ddof 0) clipped; calendar and sectors unscaled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from xs_reference import SMALL, bars, random_panel, session_dates

from trademl.features.equities_xs import EquitiesXsConfig, build_features
from trademl.schemas import conform
from trademl.schemas.features import EQUITIES_XS, EQUITIES_XS_CALENDAR, EQUITIES_XS_FEATURES, EQUITIES_XS_SECTORS

NO_CLIP = EquitiesXsConfig(**{**SMALL.__dict__, "clip": 1e9})


def test_each_date_has_mean_zero_and_population_std_one_before_clipping():
    out = build_features(random_panel(11, n_symbols=8, holes=0.0), NO_CLIP)
    for _, day in out.groupby("date"):
        for name in ("feat_mom_3", "feat_adv_3", "feat_log_mcap"):
            x = day[name].dropna().to_numpy()
            if len(x) < 2:
                continue
            assert x.mean() == pytest.approx(0.0, abs=1e-12)
            assert x.std(ddof=0) == pytest.approx(1.0, rel=1e-12)


def test_z_score_matches_the_raw_value_minus_mean_over_population_std():
    panel = pd.concat([bars(s, session_dates("2024-01-02", 2), [10.0, c]) for s, c in zip("ABCD", [11.0, 12.0, 9.0, 10.0])])
    raw = build_features(panel, NO_CLIP, standardize=False)
    std = build_features(panel, NO_CLIP)
    x = raw.loc[raw["date"] == raw["date"].max(), "mom_1"].to_numpy()
    expected = (x - x.mean()) / x.std(ddof=0)
    got = std.loc[std["date"] == std["date"].max(), "feat_mom_1"].to_numpy()
    assert got == pytest.approx(expected, rel=1e-12)


def test_values_beyond_the_clip_are_clipped_to_its_bounds():
    dates = session_dates("2024-01-02", 2)
    panel = pd.concat([bars(f"S{i}", dates, [10.0, 10.0]) for i in range(20)] + [bars("OUT", dates, [10.0, 1000.0])])
    out = build_features(panel, EquitiesXsConfig(**{**SMALL.__dict__, "clip": 2.0}))
    day = out[out["date"] == dates[1]].set_index("symbol")["feat_mom_1"]
    assert day["OUT"] == 2.0
    assert day.drop("OUT").between(-2.0, 2.0).all() and day.min() < 0


def test_a_cross_section_of_equal_values_scores_zero():
    dates = session_dates("2024-01-02", 2)
    panel = pd.concat([bars(s, dates, [10.0, 11.0]) for s in "ABC"])
    out = build_features(panel, SMALL)
    assert out.loc[out["date"] == dates[1], "feat_mom_1"].tolist() == [0.0, 0.0, 0.0]


def test_calendar_and_sector_columns_pass_through_unscaled():
    panel = random_panel(5)
    raw = build_features(panel, SMALL, standardize=False)
    std = build_features(panel, SMALL)
    for name in (*EQUITIES_XS_CALENDAR, *EQUITIES_XS_SECTORS):
        np.testing.assert_array_equal(std[f"feat_{name}"].to_numpy(), raw[name].to_numpy())


def test_nan_raw_values_stay_nan_and_do_not_enter_the_cross_section():
    panel = random_panel(3, n_symbols=5, holes=0.0)
    raw = build_features(panel, NO_CLIP, standardize=False)
    std = build_features(panel, NO_CLIP)
    assert (std["feat_mom_3"].isna() == raw["mom_3"].isna()).all()


def test_v1_output_is_exactly_the_features_table_columns_in_float64():
    out = build_features(random_panel(2, n_sessions=30), EquitiesXsConfig())
    assert list(out.columns) == ["symbol", "date", *EQUITIES_XS_FEATURES]
    assert all(out[c].dtype == np.float64 for c in EQUITIES_XS_FEATURES)
    table = conform(EQUITIES_XS.name, out)
    assert table.num_rows == len(out)


def test_z_scores_do_not_depend_on_how_sessions_are_chunked(monkeypatch):
    from trademl.features.equities_xs import session_grid

    panel = random_panel(9, n_symbols=6, n_sessions=40, holes=0.2)
    whole = build_features(panel, SMALL)
    monkeypatch.setattr(session_grid, "ROW_CHUNK", 7)  # a chunk is a few sessions, never a split session
    chunked = build_features(panel, SMALL)
    pd.testing.assert_frame_equal(whole, chunked, check_exact=False, rtol=1e-12, atol=1e-15)
