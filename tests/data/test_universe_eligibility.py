"""reference/universe computed from bars, listings and delistings: each rule, its PIT conventions, the config."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from trademl import calendar
from trademl.config import load_config
from trademl.data.universe_eligibility import UNIVERSE_COLUMNS, UniverseSettings, eligible_universe, universe_from_lake
from trademl.schemas import UNIVERSE

RULES = UniverseSettings(
    price_floor=5.0, adv_floor=1_000_000.0, adv_window=3, min_history=2, share_classes=("COMMON",), unknown_share_class_eligible=True
)
DAYS = calendar.sessions("2024-03-01", "2024-03-15")  # 11 sessions


def _bars(symbol: str, closes: list[float], volumes: list[float], days: pd.DatetimeIndex = DAYS) -> pd.DataFrame:
    return pd.DataFrame({"date": days[: len(closes)], "symbol": symbol, "close": closes, "volume": volumes})


def _row(frame: pd.DataFrame, symbol: str, day: pd.Timestamp) -> pd.Series:
    hit = frame[(frame["symbol"] == symbol) & (pd.to_datetime(frame["date"]) == day)]
    assert len(hit) == 1, f"no single row for {symbol} on {day.date()}"
    return hit.iloc[0]


def test_output_has_exactly_the_universe_columns():
    out = eligible_universe(_bars("AAA", [10.0] * 5, [1e6] * 5), None, None, DAYS[:5], RULES)
    assert list(out.columns) == [n for n in UNIVERSE.schema.names if n in UNIVERSE_COLUMNS]
    assert list(out.columns) == ["date", "symbol", "is_listed", "is_eligible", "listed_date", "delist_date", "share_class", "sector", "exclusion_reason"]


def test_settings_come_from_configs_universe_yml():
    s = UniverseSettings.from_config(load_config("universe"))
    assert (s.adv_window, s.adv_floor, s.price_floor, s.share_classes) == (60, 1_000_000.0, 5.0, ("COMMON",))


def test_a_malformed_setting_names_the_file_and_key():
    doc = {**load_config("universe"), "adv_window": "sixty"}
    with pytest.raises(ValueError, match=r"configs/universe.yml adv_window"):
        UniverseSettings.from_config(doc)


def test_history_counts_sessions_with_a_bar_before_t():
    out = eligible_universe(_bars("AAA", [10.0] * 4, [1e6] * 4), None, None, DAYS[:4], RULES)
    reasons = out["exclusion_reason"].tolist()
    assert reasons[:2] == ["INSUFFICIENT_HISTORY", "INSUFFICIENT_HISTORY"]  # 0 and 1 bars before t
    assert out["is_eligible"].tolist() == [False, False, True, True]


def test_price_floor_is_on_the_previous_close():
    # Close drops below $5 on the 4th session: the 4th is still eligible, the 5th is not.
    out = eligible_universe(_bars("AAA", [10, 10, 10, 4, 4], [1e6] * 5), None, None, DAYS[:5], RULES)
    assert out["is_eligible"].tolist() == [False, False, True, True, False]
    assert out["exclusion_reason"].iloc[4] == "PRICE_BELOW_FLOOR"


def test_adv_is_the_mean_dollar_volume_of_the_previous_window_excluding_t():
    # Dollar volume 10 x 50k = $0.5m until a $100m day on session 5; the window of 3 averages it in
    # from session 6 on, and it ages out after session 8.
    vol = [5e4] * 4 + [1e7] + [5e4] * 5
    out = eligible_universe(_bars("AAA", [10.0] * 10, vol), None, None, DAYS[:10], RULES)
    assert out["exclusion_reason"].iloc[4] == "ADV_BELOW_FLOOR"  # the big day itself is not known before its open
    assert out["is_eligible"].tolist()[5:9] == [True, True, True, False]


def test_only_listed_share_classes_are_eligible():
    bars = pd.concat([_bars("AAA", [10.0] * 4, [1e6] * 4), _bars("AAAP", [10.0] * 4, [1e6] * 4), _bars("ZZZ", [10.0] * 4, [1e6] * 4)])
    listings = pd.DataFrame({"symbol": ["AAA", "AAAP"], "share_class": ["Common", "PREFERRED"], "sector": ["Energy", "Energy"]})
    out = eligible_universe(bars, listings, None, DAYS[3:4], RULES)
    got = out.set_index("symbol")
    assert got.loc["AAA", "is_eligible"] and got.loc["AAA", "share_class"] == "COMMON" and got.loc["AAA", "sector"] == "Energy"
    assert got.loc["AAAP", "exclusion_reason"] == "SHARE_CLASS"
    assert got.loc["ZZZ", "is_eligible"]  # no class known: judged by the other rules (unknown_share_class_eligible)
    strict = eligible_universe(bars, listings, None, DAYS[3:4], RULES.__class__(**{**RULES.__dict__, "unknown_share_class_eligible": False}))
    assert strict.set_index("symbol").loc["ZZZ", "exclusion_reason"] == "SHARE_CLASS"


def test_a_non_session_in_the_grid_is_rejected():
    with pytest.raises(ValueError, match="2024-03-02 is not one"):
        eligible_universe(_bars("AAA", [10.0] * 3, [1e6] * 3), None, None, [dt.date(2024, 3, 1), dt.date(2024, 3, 2)], RULES)


def test_vendor_security_types_map_to_share_classes():
    from trademl.data.universe_eligibility import share_class_of

    got = share_class_of(pd.Series(["CS", "Common Stock", "PFD", "etf", None, "Tracking"]))
    assert got.tolist() == ["COMMON", "COMMON", "PREFERRED", "ETF", None, "TRACKING"]


def test_delisted_names_keep_rows_through_their_delist_date():
    bars = _bars("GONE", [10.0] * 6, [1e6] * 6)
    delistings = pd.DataFrame({"symbol": ["GONE"], "delist_date": [DAYS[6].date()]})
    out = eligible_universe(bars, None, delistings, DAYS, RULES)
    assert pd.to_datetime(out["date"]).max() == DAYS[6]
    last = _row(out, "GONE", DAYS[6])
    assert not last["is_listed"] and not last["is_eligible"] and last["exclusion_reason"] == "DELISTED"
    assert last["delist_date"] == DAYS[6].date()
    before = _row(out, "GONE", DAYS[5])
    assert before["is_listed"] and before["delist_date"] is None  # not known before it happens


def test_a_delisting_after_t_leaves_the_universe_through_t_unchanged():
    bars = _bars("GONE", [10.0] * 6, [1e6] * 6)
    delistings = pd.DataFrame({"symbol": ["GONE"], "delist_date": [DAYS[6].date()]})
    without = eligible_universe(bars, None, None, DAYS[:6], RULES)
    with_later = eligible_universe(bars, None, delistings, DAYS[:6], RULES)
    pd.testing.assert_frame_equal(without, with_later)


def test_names_appear_from_their_listed_date():
    bars = _bars("NEW", [10.0] * 4, [1e6] * 4, DAYS[5:9])
    listings = pd.DataFrame({"symbol": ["NEW"], "listed_date": [DAYS[4].date()], "share_class": ["COMMON"]})
    out = eligible_universe(bars, listings, None, DAYS, RULES)
    assert pd.to_datetime(out["date"]).min() == DAYS[4]
    assert (out["listed_date"] == DAYS[4].date()).all()


@hsettings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=2, max_value=9), scale=st.floats(min_value=0.01, max_value=100.0))
def test_changing_bars_after_t_leaves_the_universe_through_t_unchanged(cut, scale):
    rng = np.random.default_rng(3)
    close = list(rng.uniform(3.0, 12.0, len(DAYS)))
    vol = list(rng.uniform(5e4, 3e5, len(DAYS)))
    base = pd.concat([_bars("AAA", close, vol), _bars("BBB", close[::-1], vol[::-1])], ignore_index=True)
    t = DAYS[cut]
    later = pd.to_datetime(base["date"]) >= t  # bars from t on are not known before t's open
    changed = base.copy()
    changed.loc[later, "close"] *= scale
    changed.loc[later, "volume"] *= scale
    extra = _bars("AAA", [50.0], [1e9], calendar.sessions("2024-03-18", "2024-03-18"))
    changed = pd.concat([changed, extra], ignore_index=True)
    a = eligible_universe(base, None, None, DAYS, RULES)
    b = eligible_universe(changed, None, None, DAYS, RULES)
    through = lambda f: f[pd.to_datetime(f["date"]) <= t].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(through(a), through(b))


@pytest.fixture(scope="module")
def synthetic():
    from trademl.data.connectors.base import FetchRequest
    from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

    conn = SyntheticConnector(
        SyntheticConfig().with_overrides(
            n_symbols=30, origin=dt.date(2023, 1, 3), outages=(),
            lifecycle={"ipo_fraction": 0.5, "delist_fraction": 0.5, "lifecycle_years": 1.5, "stable_symbols": 2},
        )
    )
    get = lambda ds, a, b: conn.fetch(FetchRequest(ds, dt.date.fromisoformat(a), dt.date.fromisoformat(b))).frame  # noqa: E731
    return conn, get("equities_eod", "2023-01-03", "2024-06-28"), get("delistings", "2023-01-03", "2024-06-28"), get(
        "universe", "2023-07-03", "2024-06-28"
    )


def test_reproduces_the_synthetic_markets_universe_from_its_bars(synthetic):
    """Same floors as configs/synthetic.yml: every flag and reason agrees on the sessions both list
    (the synthetic vendor also keeps rows after a delisting; this stops at the delist date)."""
    conn, bars, delistings, universe = synthetic
    el = conn.config.eligibility
    rules = UniverseSettings(el.price_floor, el.adv_floor, el.adv_window, el.min_history, ("COMMON",), True)
    grid = pd.DatetimeIndex(sorted(pd.to_datetime(universe["date"]).unique()))
    mine = eligible_universe(bars, None, delistings, grid, rules)
    key = ["date", "symbol"]
    theirs = universe.assign(date=pd.to_datetime(universe["date"]))
    both = theirs.merge(mine.assign(date=pd.to_datetime(mine["date"])), on=key, suffixes=("_v", "_m"))
    assert len(both) == len(mine) and len(both) > 5000
    assert (both["is_listed_v"] == both["is_listed_m"]).all()
    assert (both["is_eligible_v"] == both["is_eligible_m"]).all()
    assert (both["exclusion_reason_v"].fillna("") == both["exclusion_reason_m"].fillna("")).all()
    assert both["exclusion_reason_m"].isin(["ADV_BELOW_FLOOR", "INSUFFICIENT_HISTORY", "PRICE_BELOW_FLOOR"]).any()


def test_universe_from_lake_reads_enough_history_for_the_trailing_rules(synthetic, tmp_path):
    from trademl.data.lake import Lake

    conn, bars, delistings, _ = synthetic
    lake = Lake(tmp_path / "lake")
    lake.write_partitions("raw/equities_bars", bars)
    lake.write_partitions("reference/delistings", delistings)
    rules = UniverseSettings(5.0, 1e6, 60, 20, ("COMMON",), True)
    got = universe_from_lake(lake, dt.date(2024, 5, 1), dt.date(2024, 5, 31), rules)
    grid = calendar.sessions("2024-05-01", "2024-05-31")
    want = eligible_universe(bars, None, delistings, grid, rules)
    # listed_date is the first bar the lake holds; compare everything else.
    cols = [c for c in want.columns if c != "listed_date"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), want[cols].reset_index(drop=True))
    assert got["is_eligible"].sum() > 0
