"""Labels by name from configs/labels.yml (SSOT 3.4: "labels are configurable via YAML").

Each entry names a builder and its parameters; `build_label(name, frame)` runs it, and parameters
passed in code override the file (configs/env/<env>/labels.yml overrides per environment):

    labels:
      tb_10d: {builder: triple_barrier, pt_sl: [1.0, 1.0], max_holding: 10, vol_span: 100}

The builders are the label functions of this package; `triple_barrier` is the long-bars form of
`triple_barrier_labels` (every bar an event, barrier width = `daily_volatility` at the event bar).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trademl.config import typed_config
from trademl.labels.frames import require_columns, require_frame
from trademl.labels.horizon import forward_return_labels
from trademl.labels.sigma import (
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
)
from trademl.labels.triple_barrier import daily_volatility, triple_barrier_labels


def triple_barrier_on_bars(
    bars: pd.DataFrame,
    *,
    pt_sl: Sequence[float] = (1.0, 1.0),
    max_holding: int = 10,
    vol_span: int = 100,
    vol_min_periods: int = 20,
    price_col: str = "close",
    symbol_col: str = "symbol",
    time_col: str = "date",
) -> pd.DataFrame:
    """Triple-barrier labels for every bar of a long frame (symbol, time, close), point-in-time.

    The barrier width of the event at bar t is `daily_volatility(close, vol_span)` at t (returns up
    to t only); the outcome looks at the next `max_holding` bars of the same symbol and is NaN
    until that window is complete, or while the volatility has fewer than `vol_min_periods`
    returns. Returns `bars`' index with the symbol and time columns plus t1, ret (simple, per
    holding period) and label in {-1, 0, 1}.
    """
    require_frame(bars, "bars")
    require_columns(bars, [symbol_col, time_col, price_col], "bars")
    if bars.duplicated([symbol_col, time_col]).any():
        raise ValueError(f"bars hold duplicate ({symbol_col}, {time_col}) rows")
    close = bars.pivot(index=time_col, columns=symbol_col, values=price_col).sort_index()
    target = daily_volatility(close, span=vol_span, min_periods=vol_min_periods)
    events = pd.DataFrame({"t0": bars[time_col].to_numpy(), "symbol": bars[symbol_col].to_numpy()}, index=bars.index)
    out = triple_barrier_labels(close, events, pt_sl, target=target, max_holding=max_holding)
    return pd.concat([bars[[symbol_col, time_col]], out], axis=1)


BUILDERS: dict[str, Callable[..., pd.DataFrame]] = {
    "forward_returns": forward_return_labels,
    "triple_barrier": triple_barrier_on_bars,
    "next_hour_direction": label_next_hour_direction,
    "close_to_open_direction": label_close_to_open_direction,
    "forward_return_days": label_forward_return_days,
    "headfake_reversal": label_headfake_reversal,
    "pin_drift": label_pin_drift,
}


@dataclass(frozen=True)
class LabelDefinition:
    """One configs/labels.yml entry: the `builder` (a key of `BUILDERS`) and its keyword parameters."""

    builder: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class LabelCatalog:
    """configs/labels.yml ``labels:``: every configured label by name."""

    labels: Mapping[str, LabelDefinition]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> LabelCatalog:
        """Validate and build the catalog from the whole document; each entry needs a known builder."""
        labels = doc.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ValueError("configs/labels.yml: `labels` must map label names to {builder: ..., parameters}")
        out = {}
        for name, entry in labels.items():
            if not isinstance(entry or {}, Mapping):
                raise ValueError(f"configs/labels.yml labels.{name}: expected {{builder: ..., parameters}}, got {entry!r}")
            params = dict(entry or {})
            builder = params.pop("builder", None)
            if builder not in BUILDERS:
                raise ValueError(
                    f"configs/labels.yml labels.{name}.builder: {builder!r} is not one of {', '.join(sorted(BUILDERS))}"
                )
            out[str(name)] = LabelDefinition(str(builder), params)
        return cls(labels=out)


def label_catalog() -> LabelCatalog:
    """The current LabelCatalog (re-read when configs/labels.yml or its env override changes)."""
    return typed_config(LabelCatalog, "labels")


def label_names() -> list[str]:
    """The labels configs/labels.yml defines, sorted."""
    return sorted(label_catalog().labels)


def label_spec(name: str) -> tuple[str, dict[str, Any]]:
    """The builder name and parameters (a fresh dict) of configured label `name` (ValueError listing the known ones)."""
    labels = label_catalog().labels
    if name not in labels:
        raise ValueError(f"no label {name!r} in configs/labels.yml (defined: {', '.join(sorted(labels)) or 'none'})")
    entry = labels[name]
    return entry.builder, copy.deepcopy(dict(entry.params))


def build_label(name: str, frame: pd.DataFrame, **overrides: Any) -> pd.DataFrame:
    """Configured label `name` computed on `frame`; keyword arguments override its parameters."""
    builder, params = label_spec(name)
    func = BUILDERS[builder]
    params.update(overrides)
    try:
        inspect.signature(func).bind(frame, **params)
    except TypeError as exc:
        raise ValueError(f"label {name!r} ({builder}): {exc}") from None
    return func(frame, **params)
