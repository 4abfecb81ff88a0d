"""equities_xs v1 (SSOT 3.1): daily cross-sectional equity features from adjusted bars.

Every window is over XNYS sessions (see session_grid): r_t = ln(close_t / close_{t-1}) is NaN when
either bar is missing, mom_k needs both close_t and close_{t-k}, and a rolling window is NaN below
its min-periods (EquitiesXsConfig.min_fraction). Features at t use only rows dated <= t; they are
invariant to the adjustment anchor (prices adjusted as of t or as of a later date give the same
return-based features) as long as the whole window is adjusted consistently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trademl.calendar import DateLike, all_sessions_index, as_date, previous_session, sessions_on_or_after
from trademl.features.equities_xs.session_grid import (
    SessionGrid,
    rolling_max,
    rolling_mean,
    rolling_std,
    session_days,
    session_grid,
    shift,
    zscore_by_session,
)
from trademl.features.equities_xs.settings import EquitiesXsConfig, equities_xs_config, lookback_sessions
from trademl.schemas.features import EQUITIES_XS_CALENDAR, EQUITIES_XS_SECTORS, GICS_SECTORS

REQUIRED_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")
OPTIONAL_COLUMNS = ("shares_outstanding", "sector", "next_earnings_date")
# What trademl.curate.read_adjusted names the adjusted bars.
ADJUSTED_COLUMNS = {"adj_open": "open", "adj_high": "high", "adj_low": "low", "adj_close": "close", "adj_volume": "volume"}

ReadPrices = Callable[..., pd.DataFrame]


def _positive(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.nan)


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(x)


# Symbols per block of the window features: each block's temporaries (64 x sessions floats, ~1.8 MB
# for 14 years) stay in cache and are reused by the allocator instead of faulting in fresh pages.
SYMBOL_BLOCK = 64


def _window_block(close: np.ndarray, open_: np.ndarray, volume: np.ndarray, shares: np.ndarray | None, cfg: EquitiesXsConfig) -> dict[str, np.ndarray]:
    """The window features of a block of symbols (rows) x sessions (columns)."""
    close, open_ = _positive(close), _positive(open_)
    volume = np.where(volume >= 0, volume, np.nan)
    prev_close = shift(close, 1)
    r = _log(close / prev_close)
    mp = cfg.min_periods
    sqrt_a = np.sqrt(cfg.annualization)
    out: dict[str, np.ndarray] = {}
    for k in cfg.momentum_windows:
        out[f"mom_{k}"] = _log(close / shift(close, k))
    g = cfg.gap_window
    out[f"gap_overnight_{g}"] = rolling_mean(_log(open_ / prev_close), g, mp(g))
    out[f"gap_intraday_{g}"] = rolling_mean(_log(close / open_), g, mp(g))
    for k in cfg.drawdown_windows:
        out[f"drawdown_{k}"] = close / rolling_max(close, k, mp(k)) - 1.0
    for k in cfg.rv_windows:
        out[f"rv_{k}"] = sqrt_a * rolling_std(r, k, mp(k, 2))
    d = cfg.downside_vol_window
    out[f"downside_vol_{d}"] = sqrt_a * np.sqrt(rolling_mean(np.minimum(r, 0.0) ** 2, d, mp(d)))
    w = cfg.liquidity_window
    dollar_volume = close * volume
    out[f"adv_{w}"] = rolling_mean(dollar_volume, w, mp(w))
    if shares is not None:
        out[f"turnover_{w}"] = rolling_mean(volume / _positive(shares), w, mp(w))
    with np.errstate(invalid="ignore", divide="ignore"):
        illiquidity = np.where(dollar_volume > 0, np.abs(r) / dollar_volume, np.nan)
    out[f"amihud_{w}"] = 1e6 * rolling_mean(illiquidity, w, mp(w))
    return out


def _rolling_features(panel: pd.DataFrame, grid: SessionGrid, cfg: EquitiesXsConfig) -> dict[str, np.ndarray]:
    """The window features at the panel's rows, in output (date-then-symbol) order, computed block
    of symbols by block (every window runs along one symbol's sessions) and written straight into
    the output columns, so no full symbols x sessions array per feature is ever allocated."""
    close, open_, volume = (grid.dense(panel[c]) for c in ("close", "open", "volume"))
    shares = grid.dense(pd.to_numeric(panel["shares_outstanding"], errors="coerce")) if "shares_outstanding" in panel else None
    n_t = grid.shape[1]
    block_of = (grid.out_s // SYMBOL_BLOCK).astype(np.int16)
    order = np.argsort(block_of, kind="stable")  # output rows grouped by block, in date order within
    bounds = np.searchsorted(block_of[order], np.arange(block_of.max(initial=0) + 2))
    out: dict[str, np.ndarray] = {}
    for b, lo in enumerate(range(0, grid.shape[0], SYMBOL_BLOCK)):
        rows = slice(lo, lo + SYMBOL_BLOCK)
        positions = order[bounds[b] : bounds[b + 1]]
        local = (grid.out_s[positions] - lo) * n_t + grid.out_t[positions]
        block = _window_block(close[rows], open_[rows], volume[rows], None if shares is None else shares[rows], cfg)
        for name, values in block.items():
            if name not in out:
                out[name] = np.empty(len(grid.out_flat))
            out[name][positions] = np.take(values.reshape(-1), local)
    if shares is None:
        out[f"turnover_{cfg.liquidity_window}"] = np.full(len(grid.out_flat), np.nan)
    return out


def _days_to_earnings(panel: pd.DataFrame, grid: SessionGrid) -> np.ndarray:
    """Per panel row: XNYS sessions from t to the first session on or after next_earnings_date
    (0 when it is t itself); NaN when absent, unknown or before t."""
    if "next_earnings_date" not in panel:
        return np.full(len(panel), np.nan)
    target = sessions_on_or_after(panel["next_earnings_date"])
    calendar = all_sessions_index()
    known = ~target.isna()
    pos = np.full(len(panel), -1, dtype=np.int64)
    pos[known] = calendar.searchsorted(target[known])
    days = (pos - (grid.first_position + grid.t)).astype(np.float64)  # per panel row
    return np.where(known & (days >= 0), days, np.nan)


def _log_mcap(panel: pd.DataFrame) -> np.ndarray:
    """ln(close x shares_outstanding) per row; NaN without (positive) shares."""
    if "shares_outstanding" not in panel:
        return np.full(len(panel), np.nan)
    shares = pd.to_numeric(panel["shares_outstanding"], errors="coerce").to_numpy(dtype=np.float64)
    close = panel["close"].to_numpy(dtype=np.float64)
    return _log(_positive(close * shares))


def _calendar_features(grid: SessionGrid) -> dict[str, np.ndarray]:
    """Per session: day of week (Mon = 0 .. Fri = 4, period 5) and month (Jan = 0 .. Dec = 11, period 12) on the unit circle."""
    dow = grid.sessions.dayofweek.to_numpy(dtype=np.float64)
    moy = grid.sessions.month.to_numpy(dtype=np.float64) - 1.0
    return {
        "dow_sin": np.sin(2 * np.pi * dow / 5),
        "dow_cos": np.cos(2 * np.pi * dow / 5),
        "moy_sin": np.sin(2 * np.pi * moy / 12),
        "moy_cos": np.cos(2 * np.pi * moy / 12),
    }


def _sector_features(panel: pd.DataFrame, grid: SessionGrid) -> dict[str, np.ndarray]:
    """Per output row: 1.0 for the row's GICS sector, 0.0 for the others; NaN everywhere when the
    sector is absent, null or not a GICS_SECTORS name."""
    if "sector" not in panel:
        return {name: np.full(len(grid.out_flat), np.nan) for name in EQUITIES_XS_SECTORS}
    codes = grid.gather(grid.dense(pd.Categorical(panel["sector"], categories=list(GICS_SECTORS)).codes, fill=-1, dtype=np.int64))
    known = codes >= 0
    return {
        name: np.where(known, (codes == i).astype(np.float64), np.nan) for i, name in enumerate(EQUITIES_XS_SECTORS)
    }


def _in_output_order(per_row: np.ndarray, grid: SessionGrid) -> np.ndarray:
    """Per-panel-row values in output (date-then-symbol) order; all-NaN input stays a cheap NaN column."""
    if np.isnan(per_row).all():
        return np.full(len(grid.out_flat), np.nan)
    return grid.gather(grid.dense(per_row))


def _check_panel(panel: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in panel.columns]
    if missing:
        raise ValueError(f"the panel is missing columns {missing}; it needs {list(REQUIRED_COLUMNS)}")


def build_features(
    panel: pd.DataFrame,
    cfg: EquitiesXsConfig | None = None,
    *,
    standardize: bool = True,
    start: DateLike | None = None,
) -> pd.DataFrame:
    """equities_xs features of every (symbol, session) row of `panel`, ordered by date then symbol.

    `panel`: adjusted daily bars `symbol, date, open, high, low, close, volume` (dates XNYS
    sessions), optionally `shares_outstanding`, `sector` (GICS name) and `next_earnings_date`
    (already point in time). An absent optional column gives NaN features, never an error.
    standardize=False: `symbol, date` and the raw columns (EquitiesXsConfig.continuous_features,
    then calendar, then sector dummies). standardize=True: `symbol, date` and `feat_<name>`, the
    continuous ones as per-date cross-sectional z-scores (population std, ddof 0) clipped to
    [-cfg.clip, cfg.clip], calendar and sector columns unscaled; with the v1 config exactly the
    columns of features/equities_xs, all float64. `start`: return only sessions >= start (the
    earlier sessions of the panel are lookback). `date` comes back as datetime64[ns] (midnight).
    """
    cfg = cfg or equities_xs_config()
    _check_panel(panel)
    grid = session_grid(panel["symbol"], panel["date"])
    window = _rolling_features(panel, grid, cfg)
    t_out, s_out = grid.out_t, grid.out_s

    prefix = "feat_" if standardize else ""
    columns: dict[str, np.ndarray] = {"symbol": grid.symbols[s_out], "date": grid.sessions.to_numpy()[t_out]}
    for name in cfg.continuous_features():
        if name in window:
            values = window.pop(name)
        elif name == "days_to_earnings":
            values = _in_output_order(_days_to_earnings(panel, grid), grid)
        else:
            values = _in_output_order(_log_mcap(panel), grid)
        if standardize:
            values = zscore_by_session(values, t_out, float(cfg.clip))
        columns[prefix + name] = values
    for name, per_session in _calendar_features(grid).items():
        columns[prefix + name] = per_session[t_out]
    for name, per_row in _sector_features(panel, grid).items():
        columns[prefix + name] = per_row
    if start is not None:  # rows are in date order: the sessions >= start are a tail (views, no copy)
        first = grid.sessions.searchsorted(pd.Timestamp(as_date(start, "start")))
        tail = int(np.searchsorted(t_out, first))
        columns = {name: values[tail:] for name, values in columns.items()}
    # One array per column, not copied into one block: a fresh 700 MB block costs seconds of page faults here.
    return pd.DataFrame(columns, copy=False)


def _adjusted_bars(prices: pd.DataFrame) -> pd.DataFrame:
    """read_adjusted's frame as a build_features panel: adj_* become open..volume (the as-traded
    open..volume it also carries are dropped); already-renamed frames pass as they are."""
    if any(c in prices.columns for c in ADJUSTED_COLUMNS):
        missing = [c for c in ADJUSTED_COLUMNS if c not in prices.columns]
        if missing:
            raise ValueError(f"read_prices returned no {missing}")
        keep = ["symbol", "date", *ADJUSTED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in prices.columns)]
        return prices[keep].rename(columns=ADJUSTED_COLUMNS)
    return prices[[c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in prices.columns]]


def _default_read_prices() -> ReadPrices:
    from trademl.curate import read_adjusted  # lazy: trademl.curate sits above nothing we import here

    return read_adjusted


def compute_equity_features(
    date: DateLike,
    universe: Sequence[str],
    *,
    panel: pd.DataFrame | None = None,
    lake: Any = None,
    read_prices: ReadPrices | None = None,
    attributes: pd.DataFrame | None = None,
    cfg: EquitiesXsConfig | None = None,
    standardize: bool = True,
) -> pd.DataFrame:
    """The features of session `date` for the symbols of `universe` that have a bar that session,
    ordered by symbol; the cross-section of the z-scores is exactly those symbols.

    Give either `panel` (a build_features panel: rows dated after `date` are ignored) or `lake`
    (prices read as `read_prices(lake, start, date, asof=date, symbols=universe)` over the
    lookback_sessions(cfg) sessions ending at `date`, adjusted as of `date` so a corporate action
    after `date` cannot change them; default trademl.curate.read_adjusted, whose adj_* columns
    become open..volume). `attributes`: optional `symbol, date` rows with shares_outstanding /
    sector / next_earnings_date merged onto the lake's prices.
    """
    if (panel is None) == (lake is None):
        raise ValueError("give exactly one of panel= or lake=")
    cfg = cfg or equities_xs_config()
    day = as_date(date)
    symbols = [str(s) for s in universe]
    first = previous_session(day, lookback_sessions(cfg) - 1).date()
    if panel is None:
        reader = read_prices or _default_read_prices()
        prices = _adjusted_bars(reader(lake, first, day, asof=day, symbols=symbols))
        if attributes is not None:
            extra = attributes.copy()
            extra["date"] = pd.to_datetime(extra["date"])
            prices = prices.assign(date=pd.to_datetime(prices["date"])).merge(extra, on=["symbol", "date"], how="left")
        panel = prices
    days = session_days(panel["date"])
    lo, hi = (session_days(pd.Series([pd.Timestamp(d)]))[0] for d in (first, day))
    window = panel.loc[panel["symbol"].isin(symbols).to_numpy() & (days >= lo) & (days <= hi)]
    if window.empty:
        return _empty(cfg, standardize)
    out = build_features(window, cfg, standardize=standardize, start=day)
    return out.sort_values("symbol", kind="stable").reset_index(drop=True)


def _empty(cfg: EquitiesXsConfig, standardize: bool) -> pd.DataFrame:
    prefix = "feat_" if standardize else ""
    names = (*cfg.continuous_features(), *EQUITIES_XS_CALENDAR, *EQUITIES_XS_SECTORS)
    frame = pd.DataFrame({"symbol": pd.Series([], dtype=object), "date": pd.Series([], dtype="datetime64[ns]")})
    for name in names:
        frame[prefix + name] = pd.Series([], dtype=np.float64)
    return frame
