"""IndicatorRegistry: builtins discovery, registration rules, lookup errors listing known names."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from trademl.features.indicators import (
    BarBlock,
    BarIndicator,
    Indicator,
    IndicatorRegistry,
    UnknownIndicatorError,
    discover_indicators,
    get_indicator,
)
from trademl.features.indicators.builtins.momentum import RSI

EXPECTED_BUILTINS = {
    "sma", "ema", "wma", "rsi", "macd", "bbands", "atr", "natr", "adx", "cci", "mfi", "roc", "stoch",
    "williams_r", "obv", "log_return", "volume_change", "return_z_score", "vol_ratio", "atr_ratio",
    "amihud_illiquidity", "ibs", "parkinson_vol", "efficiency_ratio", "dist_vwap", "intraday_intensity",
    "vol_adj_mom", "time_of_day", "day_of_week",
}  # fmt: skip


class _Spread(BarIndicator):
    name: ClassVar[str] = "spread"
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("spread",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {"spread": block.column("high") - block.column("low")}


def test_register_builtins_discovers_every_builtin_module() -> None:
    registry = IndicatorRegistry()
    added = registry.register_builtins()
    assert set(added) == EXPECTED_BUILTINS
    assert set(registry.names()) == EXPECTED_BUILTINS


def test_register_builtins_is_idempotent() -> None:
    registry = IndicatorRegistry()
    registry.register_builtins()
    assert registry.register_builtins() == []
    assert len(registry) == len(EXPECTED_BUILTINS)


def test_discovered_classes_are_concrete_indicators_from_the_builtins_package() -> None:
    for indicator_class in discover_indicators("trademl.features.indicators.builtins"):
        assert issubclass(indicator_class, Indicator)
        assert indicator_class.__module__.startswith("trademl.features.indicators.builtins.")


def test_get_indicator_returns_the_builtin_class() -> None:
    assert get_indicator("rsi") is RSI
    assert get_indicator("williams_r")().output_columns == ("williams_r_14",)


def test_registering_a_taken_name_raises() -> None:
    registry = IndicatorRegistry()
    registry.register("rsi", RSI)
    with pytest.raises(ValueError, match="'rsi' is already registered"):
        registry.register("rsi", _Spread)


def test_unknown_name_error_lists_known_names() -> None:
    registry = IndicatorRegistry()
    registry.register_builtins()
    with pytest.raises(UnknownIndicatorError) as caught:
        registry.get("rsii")
    message = str(caught.value)
    assert "'rsii'" in message
    for name in ("rsi", "macd", "williams_r", "day_of_week"):
        assert name in message
    assert isinstance(caught.value, KeyError)


def test_unknown_name_in_empty_registry_says_none_registered() -> None:
    with pytest.raises(UnknownIndicatorError, match="none registered"):
        IndicatorRegistry().get("rsi")


def test_get_indicator_unknown_name_raises() -> None:
    with pytest.raises(UnknownIndicatorError, match="known indicators: .*adx"):
        get_indicator("no_such_indicator")


def test_registering_a_custom_indicator_makes_it_computable() -> None:
    registry = IndicatorRegistry()
    registry.register("spread", _Spread)
    bars = pd.DataFrame({"high": [3.0, 5.0], "low": [1.0, 4.5]})
    result = registry.create("spread").calculate(bars)
    np.testing.assert_array_equal(result["spread"].to_numpy(), [2.0, 0.5])


@pytest.mark.parametrize("bad_name", ["", "has space", "1abc", None])
def test_register_rejects_names_that_are_not_identifiers(bad_name) -> None:
    with pytest.raises(ValueError, match="identifier"):
        IndicatorRegistry().register(bad_name, _Spread)


def test_register_rejects_non_indicator_and_abstract_classes() -> None:
    registry = IndicatorRegistry()
    with pytest.raises(TypeError, match="not an Indicator"):
        registry.register("frame", pd.DataFrame)
    with pytest.raises(TypeError, match="abstract"):
        registry.register("bar", BarIndicator)


def test_create_rejects_unknown_parameters_naming_the_accepted_ones() -> None:
    registry = IndicatorRegistry()
    registry.register_builtins()
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['window'\]; accepted: \['period'\]"):
        registry.create("rsi", window=14)


def test_instances_expose_their_parameters() -> None:
    macd = get_indicator("macd")(fast=5, slow=35, signal=5)
    assert macd.params == {"fast": 5, "slow": 35, "signal": 5}
    assert repr(macd) == "MACD(fast=5, slow=35, signal=5)"
