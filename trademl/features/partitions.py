"""The feature tables' session partitions: each table's build over a range, judged and stored.

Each function here is the whole body of one feature asset (trademl_assets/features.py): it reads
the curated (and reference) partitions its sessions need from the lake, calls the feature code of
its package and hands the rows to `trademl.data.layer_build.run_layer_build`, which checks schema,
point in time and coverage and writes partitions and ledger rows (source ``features``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.curate import read_adjusted
from trademl.data.lake import Lake
from trademl.data.layer_build import BuildOutput, LayerBuild, run_layer_build
from trademl.data.layer_output import LayerReport, layer_settings
from trademl.features.equities_xs import build_features, equities_xs_config, feature_metadata_rows, lookback_sessions, next_earnings_as_of
from trademl.features.feature_metadata import code_version, indicator_metadata_rows, store_feature_metadata
from trademl.features.indicators.specs import load_indicator_set
from trademl.features.indicators.tables import anchored_indicator_values, indicator_table
from trademl.features.market_context import build_market_context, market_context_settings, market_proxy, vix_known_at
from trademl.schemas import EQUITIES_XS, EQUITIES_XS_FEATURES, MARKET_CONTEXT

CURATED = "curated/equities_ohlcv_adj"
MACROS = "raw/macros_fred"
SHARES = "reference/shares_outstanding"
EARNINGS = "reference/earnings_calendar"
UNIVERSE = "reference/universe"
SOURCE = "features"


def curated_rows(lake: Lake, end: dt.date, *, start: dt.date | None = None, convention: str = "crsp") -> pd.DataFrame:
    """Stored curated rows (as-traded OHLCV + split and `convention` dividend factors) in [start, end]
    (start None = from the first stored session), sorted by symbol then date."""
    columns = ["symbol", "date", "open", "high", "low", "close", "volume", "split_factor", f"div_factor_{convention}"]
    return lake.read(CURATED, start=start, end=end, columns=columns, order="symbol").to_pandas()


def eligible_coverage(frame: pd.DataFrame, universe: pd.DataFrame, sessions: list[dt.date]) -> BuildOutput:
    """`frame` (all built rows) with coverage counted over the symbols reference/universe marks
    eligible on each session: a newly listed name without history is not a gap."""
    eligible = universe[universe["is_eligible"].astype(bool)]
    days = pd.to_datetime(eligible["date"]).dt.date
    keys = pd.MultiIndex.from_arrays([eligible["symbol"].to_numpy(), days.to_numpy()])
    counted = frame[pd.MultiIndex.from_arrays([frame["symbol"].to_numpy(), pd.to_datetime(frame["date"]).dt.date.to_numpy()]).isin(keys)]
    per_day = days.value_counts()
    return BuildOutput(frame=frame, expected={d: int(per_day.get(d, 0)) for d in sessions}, coverage_rows=counted)


def indicator_set_layer(set_name: str, lake: Lake) -> LayerBuild:
    """The build of ``features/indicators_<set>``: the set on every symbol's whole curated history
    (a fixed origin, so recursive indicators do not depend on the range run), re-anchored per session."""
    spec = indicator_table(set_name)
    indicator_set = load_indicator_set(set_name)
    settings = layer_settings()
    columns = tuple(indicator_set.output_columns())

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        end = min(known_through or sessions[-1], sessions[-1])
        rows = curated_rows(lake, end, convention=settings.price_convention)
        if rows.empty:
            return BuildOutput(frame=pd.DataFrame(columns=spec.schema.names), expected={d: 0 for d in sessions})
        values = anchored_indicator_values(rows, indicator_set, convention=settings.price_convention, start=sessions[0])
        values = values[values["date"] <= end]
        universe = lake.read(UNIVERSE, sessions[0], end, columns=["symbol", "date", "is_eligible"]).to_pandas()
        return eligible_coverage(values, universe, sessions)

    return LayerBuild(
        table=spec.name,
        source=SOURCE,
        build=build,
        inputs=(CURATED,),
        coverage_columns=columns,
        thresholds=settings.thresholds(spec.name),
        spot_checks=settings.spot_checks,
    )


def _as_of(rows: pd.DataFrame, known: pd.DataFrame, column: str, dates: str = "date") -> pd.Series:
    """Per (symbol, date) row of `rows`, `column` of the latest `known` row of the symbol dated <= date."""
    if known.empty:
        return pd.Series(np.nan, index=rows.index)
    left = rows[["symbol", "date"]].assign(_row=np.arange(len(rows)), _d=pd.to_datetime(rows["date"])).sort_values("_d")
    right = known.assign(_d=pd.to_datetime(known[dates])).sort_values(["_d"])[["symbol", "_d", column]]
    merged = pd.merge_asof(left, right, on="_d", by="symbol", direction="backward")
    return pd.Series(merged.sort_values("_row")[column].to_numpy(), index=rows.index)


def equities_xs_panel(lake: Lake, first: dt.date, end: dt.date, convention: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The build_features panel of [first, end] and the universe rows of those sessions.

    Prices are adjusted as of `end`: return features are ratios inside one consistently adjusted
    window, so any anchor >= t gives the same value at t. Level features must not depend on the
    anchor, so volume and shares are rescaled by the inverse of each row's price adjustment:
    close x volume is then the dollar volume as traded (adv, Amihud), volume / shares the
    turnover as traded and close x shares the market value as traded at that session.
    """
    prices = read_adjusted(lake, first, end, asof=end, convention=convention)
    if prices.empty:
        return pd.DataFrame(columns=["symbol", "date", "open", "high", "low", "close", "volume"]), pd.DataFrame()
    scale = (prices["adj_close"] / prices["close"]).to_numpy()
    panel = pd.DataFrame(
        {
            "symbol": prices["symbol"].to_numpy(),
            "date": pd.to_datetime(prices["date"]).to_numpy(),
            "open": prices["adj_open"].to_numpy(),
            "high": prices["adj_high"].to_numpy(),
            "low": prices["adj_low"].to_numpy(),
            "close": prices["adj_close"].to_numpy(),
            "volume": prices["volume"].to_numpy(dtype=float) / scale,
        }
    )
    shares = lake.read(SHARES, end=end, columns=["symbol", "date", "period_end", "shares_outstanding"]).to_pandas()
    shares = shares.sort_values(["date", "period_end"]).drop_duplicates(["symbol", "date"], keep="last")
    panel["shares_outstanding"] = _as_of(panel, shares, "shares_outstanding").to_numpy() / scale
    universe = lake.read(UNIVERSE, first, end, columns=["symbol", "date", "is_eligible", "sector"]).to_pandas()
    universe["date"] = pd.to_datetime(universe["date"])
    panel = panel.merge(universe[["symbol", "date", "sector"]], on=["symbol", "date"], how="left")
    earnings = lake.read(EARNINGS, end=end, columns=["symbol", "earnings_date", "time_of_day", "known_date"]).to_pandas()
    panel = next_earnings_as_of(panel, earnings)
    return panel, universe


def equities_xs_layer(lake: Lake) -> LayerBuild:
    """The build of ``features/equities_xs`` v1 (SSOT 3.1) from curated prices, shares outstanding,
    sectors (reference/universe) and the earnings calendar, each as known at the session."""
    settings = layer_settings()
    cfg = equities_xs_config()
    lookback = lookback_sessions(cfg)

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        end = min(known_through or sessions[-1], sessions[-1])
        first = calendar.previous_session(sessions[0], lookback - 1).date()
        panel, universe = equities_xs_panel(lake, first, end, settings.price_convention)
        if panel.empty:
            return BuildOutput(frame=pd.DataFrame(columns=EQUITIES_XS.schema.names), expected={d: 0 for d in sessions})
        features = build_features(panel, cfg, standardize=True, start=sessions[0])
        features["date"] = pd.to_datetime(features["date"]).dt.date
        return eligible_coverage(features, universe, sessions)

    return LayerBuild(
        table=EQUITIES_XS.name,
        source=SOURCE,
        build=build,
        inputs=(CURATED,),
        marginal_inputs=(SHARES, EARNINGS, UNIVERSE),
        coverage_columns=settings.required(EQUITIES_XS.name, EQUITIES_XS_FEATURES),
        thresholds=settings.thresholds(EQUITIES_XS.name),
        spot_checks=settings.spot_checks,
    )


def build_equities_xs(first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize ``features/equities_xs`` for the sessions of [first, last] and record its feature
    metadata (once per parameter hash and code version)."""
    report = run_layer_build(equities_xs_layer(lake), first, last, lake=lake, engine=engine)
    store_feature_metadata(lake, feature_metadata_rows(equities_xs_config(), code_version(), pd.Timestamp.now(tz="UTC")))
    return report


def market_context_layer(lake: Lake) -> LayerBuild:
    """The build of ``features/market_context``: the equal-weight market proxy of every curated symbol
    (from the first stored session: a fixed origin for the GMM refits and the SMA), the VIX print
    and macro vintages known at each session from raw/macros_fred."""
    settings = layer_settings()
    cfg = market_context_settings()
    columns = tuple(c for c in MARKET_CONTEXT.schema.names if c != "date")

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        end = min(known_through or sessions[-1], sessions[-1])
        stored = [d for d in lake.partitions(CURATED) if d <= end]
        if not stored:
            return BuildOutput(frame=pd.DataFrame(columns=MARKET_CONTEXT.schema.names), expected={d: 1 for d in sessions})
        prices = read_adjusted(lake, stored[0], end, asof=end, convention=settings.price_convention)
        market = market_proxy(prices)
        targets = pd.DatetimeIndex([d for d in sessions if d <= end])
        vix = vix_known_at(lake, pd.DatetimeIndex(market.index))
        frame = build_market_context(market, vix, lake, targets, cfg)
        return BuildOutput(frame=frame, expected={d: 1 for d in sessions})

    return LayerBuild(
        table=MARKET_CONTEXT.name,
        source=SOURCE,
        build=build,
        inputs=(CURATED, MACROS),
        coverage_columns=columns,
        thresholds=settings.thresholds(MARKET_CONTEXT.name),
        spot_checks=settings.spot_checks,
    )


def build_market_context_range(first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize ``features/market_context`` for the sessions of [first, last]."""
    return run_layer_build(market_context_layer(lake), first, last, lake=lake, engine=engine)


def build_indicator_set(set_name: str, first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize ``features/indicators_<set>`` for the sessions of [first, last] and record its
    feature metadata (once per recipe and code version)."""
    report = run_layer_build(indicator_set_layer(set_name, lake), first, last, lake=lake, engine=engine)
    rows = indicator_metadata_rows(load_indicator_set(set_name), code=code_version(), created_at=pd.Timestamp.now(tz="UTC"))
    store_feature_metadata(lake, rows)
    return report
