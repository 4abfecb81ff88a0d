"""The label tables' session partitions: each label set's build over a range, judged and stored.

A label at session D needs data through D + h sessions (h = `label_horizon` of its set), so a
session is built only once that whole window is stored; until then it is RED
``WINDOW_NOT_OBSERVED`` (never filled from partial data). Daily labels read curated prices
adjusted as of the last session they use (forward returns are ratios inside that window, so any
anchor at or after D + h gives the same value); the triple barrier's volatility is an EWM, so
prices are read from the first stored curated session (a fixed origin). Sigma labels read the
as-traded intraday bars of raw/equities_minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.curate import read_adjusted
from trademl.data.lake import Lake
from trademl.data.layer_build import BuildOutput, LayerBuild, run_layer_build
from trademl.data.layer_output import LayerReport, layer_settings
from trademl.labels.label_sets import build_label_set, complete_through, label_horizon, label_set
from trademl.schemas import table_spec

CURATED = "curated/equities_ohlcv_adj"
MINUTE = "raw/equities_minute"
SOURCE = "labels"
ADJUSTED = {"adj_open": "open", "adj_high": "high", "adj_low": "low", "adj_close": "close", "adj_volume": "volume"}


def _last_stored(lake: Lake, table: str, until: dt.date) -> dt.date | None:
    days = [d for d in lake.partitions(table) if d <= until]
    return days[-1] if days else None


@dataclass(frozen=True)
class LabelWindow:
    """Which target sessions a label build can fill: data stored through `data_end` (None: nothing),
    so sessions up to `through` are `built` and the later ones `not_built` (with their reason)."""

    data_end: dt.date | None
    built: list[dt.date]
    not_built: dict[dt.date, tuple[str, str]]


def label_window(lake: Lake, table: str, set_name: str, sessions: list[dt.date], known_through: dt.date | None) -> LabelWindow:
    """The label window of `sessions` given what `table` (the label set's input) stores, or the
    data known through `known_through` (a point-in-time spot check)."""
    horizon = label_horizon(set_name)
    window_end = calendar.next_session(sessions[-1], horizon).date() if horizon else sessions[-1]
    data_end = _last_stored(lake, table, min(known_through or window_end, window_end))
    through = complete_through(set_name, data_end) if data_end is not None else None
    not_built = {}
    for day in sessions:  # one per target session
        if through is None or day > through:
            needs = calendar.next_session(day, horizon).date() if horizon else day
            not_built[day] = ("WINDOW_NOT_OBSERVED", f"needs data through {needs}; stored through {data_end or 'nothing'}")
    return LabelWindow(data_end, [d for d in sessions if d not in not_built], not_built)


def daily_label_layer(set_name: str, lake: Lake) -> LayerBuild:
    """The build of a daily label set's table (e.g. labels/equities_xs) from curated prices."""
    spec = table_spec(label_set(set_name).table)
    horizon = label_horizon(set_name)
    settings = layer_settings()

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        window = label_window(lake, CURATED, set_name, sessions, known_through)
        data_end, built, not_built = window.data_end, window.built, window.not_built
        if not built:
            return BuildOutput(frame=pd.DataFrame(columns=spec.schema.names), not_built=not_built)
        prices = read_adjusted(lake, lake.partitions(CURATED)[0], data_end, asof=data_end, convention=settings.price_convention)
        bars = prices.drop(columns=["open", "high", "low", "close", "volume"]).rename(columns=ADJUSTED)
        labels = build_label_set(set_name, bars)
        labels = labels[(labels["date"] >= built[0]) & (labels["date"] <= built[-1])]
        at_target = prices[pd.to_datetime(prices["date"]).dt.date.isin(set(built))]
        expected = pd.to_datetime(at_target["date"]).dt.date.value_counts().to_dict()
        return BuildOutput(frame=labels, expected={d: int(expected.get(d, 0)) for d in built}, not_built=not_built)

    return LayerBuild(
        table=spec.name,
        source=SOURCE,
        build=build,
        inputs=(CURATED,),
        lookahead=horizon,
        coverage_columns=tuple(c for c in spec.schema.names if c not in ("date", "symbol")),
        thresholds=settings.thresholds(spec.name),
        spot_checks=settings.spot_checks,
    )


def sigma_label_layer(lake: Lake, set_name: str = "sigma") -> LayerBuild:
    """The build of labels/sigma (spec 000) from the as-traded minute bars."""
    spec = table_spec(label_set(set_name).table)
    horizon = label_horizon(set_name)
    settings = layer_settings()

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        window = label_window(lake, MINUTE, set_name, sessions, known_through)
        data_end, built, not_built = window.data_end, window.built, window.not_built
        if not built:
            return BuildOutput(frame=pd.DataFrame(columns=spec.schema.names), not_built=not_built)
        bars = lake.read(MINUTE, built[0], data_end, columns=["symbol", "ts", "open", "high", "low", "close"], order="symbol").to_pandas()
        labels = build_label_set(set_name, bars)
        labels = labels[(labels["date"] >= built[0]) & (labels["date"] <= built[-1])]
        at_target = bars[calendar.session_of(pd.DatetimeIndex(bars["ts"])).isin(pd.DatetimeIndex(built))]
        counts = at_target.groupby(calendar.session_of(pd.DatetimeIndex(at_target["ts"])).date)["symbol"].nunique().to_dict()
        return BuildOutput(frame=labels, expected={d: int(counts.get(d, 0)) for d in built}, not_built=not_built)

    return LayerBuild(
        table=spec.name,
        source=SOURCE,
        build=build,
        inputs=(MINUTE,),
        lookahead=horizon,
        coverage_columns=("first_hour_ret", "overnight_ret", "fwd_5d_ret"),
        thresholds=settings.thresholds(spec.name),
        spot_checks=settings.spot_checks,
    )


def build_daily_labels(set_name: str, first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize a daily label set's table for the sessions of [first, last]."""
    return run_layer_build(daily_label_layer(set_name, lake), first, last, lake=lake, engine=engine)


def build_sigma_labels(first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize labels/sigma for the sessions of [first, last]."""
    return run_layer_build(sigma_label_layer(lake), first, last, lake=lake, engine=engine)
