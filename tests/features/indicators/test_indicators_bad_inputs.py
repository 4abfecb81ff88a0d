"""Bad input -> a ValueError that says what is wrong (parameters, frames, columns, time order, shapes)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from indicator_bars import make_bars, make_panel

from trademl.features.indicators import (
    BarBlock,
    BarIndicator,
    Indicator,
    compute_indicator_set,
    default_registry,
    get_indicator,
)
from trademl.features.indicators.smoothing import seeded_recursion
from trademl.features.indicators.windows import difference, rolling_sum, rolling_var, shift

PERIOD_INDICATORS = [name for name in default_registry().names() if "period" in get_indicator(name).parameter_names()]


@pytest.mark.parametrize("bad", [0, -1, -14])
@pytest.mark.parametrize("name", PERIOD_INDICATORS)
def test_non_positive_period_is_rejected(name: str, bad: int) -> None:
    with pytest.raises(ValueError, match=r"period must be >= \d, got " + str(bad)):
        get_indicator(name)(period=bad)


@pytest.mark.parametrize("bad", [2.5, "14", True, None])
@pytest.mark.parametrize("name", PERIOD_INDICATORS)
def test_non_integer_period_is_rejected(name: str, bad) -> None:
    with pytest.raises(ValueError, match="period must be an integer"):
        get_indicator(name)(period=bad)


def test_macd_fast_not_shorter_than_slow_is_rejected() -> None:
    with pytest.raises(ValueError, match="fast period must be shorter than slow"):
        get_indicator("macd")(fast=26, slow=12)


@pytest.mark.parametrize("param", ["fastk_period", "slowk_period", "slowd_period"])
def test_stoch_non_positive_periods_are_rejected(param: str) -> None:
    with pytest.raises(ValueError, match=f"{param} must be >= 1, got 0"):
        get_indicator("stoch")(**{param: 0})


def test_bbands_non_finite_deviation_is_rejected() -> None:
    with pytest.raises(ValueError, match="nbdev_up must be a finite number"):
        get_indicator("bbands")(nbdev_up=float("nan"))


def test_amihud_non_positive_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="scale must be > 0"):
        get_indicator("amihud_illiquidity")(scale=0.0)


@pytest.mark.parametrize("name", ["time_of_day", "day_of_week"])
def test_unknown_timezone_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        get_indicator(name)(timezone="Mars/Olympus")


def test_nan_only_close_is_rejected() -> None:
    bars = make_bars(50).assign(close=np.nan)
    with pytest.raises(ValueError, match=r"column 'close' has no finite value .*NaN-only"):
        get_indicator("rsi")().calculate(bars)


def test_nan_only_series_for_one_symbol_names_that_symbol() -> None:
    panel = make_panel({"AAA": 30, "BBB": 30})
    panel.loc[panel["symbol"] == "BBB", "volume"] = np.nan
    with pytest.raises(ValueError, match=r"'volume' has no finite value for symbol\(s\) \['BBB'\]"):
        get_indicator("obv")().calculate(panel)


@pytest.mark.parametrize("name", ["rsi", "atr", "mfi", "dist_vwap", "ibs"])
def test_missing_column_is_named(name: str) -> None:
    bars = make_bars(40).drop(columns=["close"])
    with pytest.raises(ValueError, match=r"needs column\(s\) \['close'\] which the bars frame lacks"):
        get_indicator(name)().calculate(bars)


def test_non_numeric_column_is_rejected() -> None:
    bars = make_bars(20).assign(close="high")
    with pytest.raises(ValueError, match="column 'close' must be numeric"):
        get_indicator("sma")(period=5).calculate(bars)


def test_unsorted_timestamps_are_rejected() -> None:
    bars = make_bars(30).iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError, match="timestamps are not strictly increasing"):
        get_indicator("ema")().calculate(bars)


def test_duplicate_timestamps_are_rejected() -> None:
    bars = make_bars(30)
    bars.loc[10, "ts"] = bars.loc[9, "ts"]
    with pytest.raises(ValueError, match=r"not strictly increasing.*\(row 10\)"):
        get_indicator("ema")().calculate(bars)


def test_unsorted_timestamps_inside_one_symbol_name_it() -> None:
    panel = make_panel({"AAA": 20, "BBB": 20})
    rows = panel.index[panel["symbol"] == "BBB"]
    panel.loc[rows, "ts"] = panel.loc[rows, "ts"].to_numpy()[::-1]
    with pytest.raises(ValueError, match="within symbol 'BBB'"):
        get_indicator("sma")(period=5).calculate(panel)


def test_unsorted_date_index_is_rejected() -> None:
    bars = make_bars(20).drop(columns="ts")
    bars.index = pd.date_range("2020-01-01", periods=20)[::-1]
    with pytest.raises(ValueError, match="not strictly increasing"):
        get_indicator("sma")(period=5).calculate(bars)


def test_interleaved_symbol_rows_are_rejected() -> None:
    panel = make_panel({"AAA": 5, "BBB": 5}).sort_values("ts", kind="stable").reset_index(drop=True)
    with pytest.raises(ValueError, match="are not contiguous; sort the panel by symbol then timestamp"):
        get_indicator("sma")(period=2).calculate(panel)


def test_null_symbol_is_rejected() -> None:
    panel = make_panel({"AAA": 5})
    panel.loc[3, "symbol"] = None
    with pytest.raises(ValueError, match="'symbol' has null values at row 3"):
        get_indicator("sma")(period=2).calculate(panel)


def test_missing_timestamp_is_rejected() -> None:
    bars = make_bars(10)
    bars.loc[4, "ts"] = pd.NaT
    with pytest.raises(ValueError, match="'ts' has missing timestamps at row 4"):
        get_indicator("sma")(period=2).calculate(bars)


@pytest.mark.filterwarnings("ignore:Could not infer format:UserWarning")
def test_unparsable_timestamps_are_rejected() -> None:
    bars = make_bars(5).assign(ts=["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="cannot read 'ts' as timestamps"):
        get_indicator("sma")(period=2).calculate(bars)


def test_empty_frame_is_rejected() -> None:
    with pytest.raises(ValueError, match="bars frame is empty"):
        get_indicator("sma")().calculate(make_bars(5).iloc[:0])


@pytest.mark.parametrize("bad", [np.ones((5, 5)), pd.Series([1.0, 2.0]), None])
def test_non_frame_input_is_rejected(bad) -> None:
    with pytest.raises(ValueError, match="bars must be a pandas DataFrame"):
        get_indicator("sma")().calculate(bad)


def test_time_of_day_on_date_only_bars_is_rejected() -> None:
    bars = make_bars(5)
    bars["date"] = bars.pop("ts").dt.date
    with pytest.raises(ValueError, match="time_of_day needs intraday timestamps"):
        get_indicator("time_of_day")().calculate(bars)


def test_day_of_week_without_any_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="day_of_week needs timestamps"):
        get_indicator("day_of_week")().calculate(make_bars(5).drop(columns="ts"))


def test_short_history_yields_warm_up_nans_not_an_error() -> None:
    """Fewer bars than the warm-up is valid input (a new listing): every value is NaN, as in TA-Lib."""
    result = get_indicator("adx")(period=14).calculate(make_bars(10))
    assert result["adx_14"].isna().all()


class _WrongShape(BarIndicator):
    name: ClassVar[str] = "wrong_shape"
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("wrong",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {"wrong": block.column("close")[:, :-1]}


class _MissingColumn(_WrongShape):
    name: ClassVar[str] = "missing_column"

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {"other": block.column("close")}


def test_block_result_of_wrong_length_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"block result has shape \(1, 9\), expected \(1, 10\)"):
        _WrongShape().calculate(make_bars(10))


def test_block_result_missing_a_declared_column_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"did not produce its declared column\(s\) \['wrong'\]"):
        compute_indicator_set(make_bars(10), [_MissingColumn()])


def test_empty_indicator_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="indicator set is empty"):
        compute_indicator_set(make_bars(10), [])


def test_duplicate_output_columns_in_a_list_are_rejected() -> None:
    with pytest.raises(ValueError, match="'rsi_14' is produced by more than one indicator"):
        compute_indicator_set(make_bars(10), [get_indicator("rsi")(), get_indicator("rsi")()])


class _CloseCopy(Indicator):
    """A plain (non-block) Indicator: the contract only requires calculate(df)."""

    name: ClassVar[str] = "close_copy"

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("close_copy",)

    def calculate(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"close_copy": df["close"] * 2.0}, index=df.index)


def test_plain_indicator_subclass_runs_inside_a_set() -> None:
    bars = make_bars(12)
    result = compute_indicator_set(bars, [get_indicator("sma")(period=3), _CloseCopy()])
    np.testing.assert_array_equal(result["close_copy"].to_numpy(), bars["close"].to_numpy() * 2.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: rolling_sum(np.ones(5), 2),
        lambda: rolling_sum(np.ones((1, 5)), 0),
        lambda: rolling_var(np.ones((1, 5)), 3, ddof=3),
        lambda: shift(np.ones((1, 5)), -1),
        lambda: difference(np.ones((1, 5)), 0),
        lambda: seeded_recursion(np.ones((1, 5)), seed_length=0, decay=0.5, gain=0.5),
    ],
    ids=["1-d input", "zero window", "ddof >= window", "negative shift", "zero difference", "zero seed"],
)
def test_array_primitives_reject_bad_arguments(call) -> None:
    with pytest.raises(ValueError):
        call()
