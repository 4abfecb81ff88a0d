"""Triple-barrier labels (López de Prado, AFML ch. 3) and the EWM volatility target they scale by.

For an event at bar t0 with target volatility v (a per-bar return scale, e.g. `daily_volatility`)
the path return after j bars is r_j = close[t0 + j] / close[t0] - 1, j = 1..max_holding. The
upper barrier is +pt_sl[0] * v, the lower barrier -pt_sl[1] * v (a multiplier of 0 disables that
barrier) and the vertical barrier is bar t0 + max_holding. The first barrier touched wins:

* label  1: r_j >= upper first (touching exactly on the barrier counts as a touch),
* label -1: r_j <= lower first (same convention),
* label  0: neither horizontal barrier is touched by bar t0 + max_holding (t1 = vertical barrier).

`ret` is r at the touch bar (a gap can carry it past the barrier) and `t1` the index value of
that bar. Bars are the rows of `close`: pass a frame reindexed to the XNYS sessions when
"bars" should mean sessions. Symbols are columns and never mix.

Completeness: a NaN close is a missing observation, not a bar to skip. By default
(`require_full_window=True`) an event is labelled only when all of close[t0 .. t0 + max_holding]
is observed; otherwise label, ret and t1 are NaN/NaT. This avoids a censoring bias at the end of
the sample, where only early-touching events could be labelled. With `require_full_window=False`
an event is labelled as soon as its path is observed up to its first touch.

Vectorisation and memory: events are processed in chunks; each chunk gathers an
(n_events x max_holding) matrix of forward closes from a zero-copy sliding-window view of the
NaN-padded price matrix and finds the first crossing with `argmax`. Peak extra memory is about
20 bytes x chunk_size x max_holding (the default chunk keeps it near 40 MB) plus one padded copy of
`close`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from trademl.labels.frames import non_negative_float, positive_int

DEFAULT_CHUNK_CELLS = 2_000_000
_OUT_COLUMNS = ["t1", "ret", "label"]


def daily_volatility(
    close: pd.Series | pd.DataFrame, span: int = 100, *, min_periods: int = 20
) -> pd.Series | pd.DataFrame:
    """EWM standard deviation of per-bar simple returns (per bar, not annualised), point-in-time.

    The value at bar t uses closes up to and including t only (pandas `ewm(span).std()` of
    close[t] / close[t-1] - 1, `adjust=True`), so it is known at t's close. Accepts one series
    (index = time), a wide frame (one column per symbol; columns never mix) or a long series with
    a (symbol, time) MultiIndex, and returns the same shape. A missing close leaves NaN returns
    that the EWM skips. NaN until `min_periods` returns are available.
    """
    span = positive_int(span, "span")
    min_periods = positive_int(min_periods, "min_periods")
    if min_periods < 2:
        raise ValueError("min_periods must be >= 2: a standard deviation needs two returns")
    wide, shape = _as_wide_prices(close, "close")
    rets = wide.pct_change(fill_method=None)
    vol = rets.ewm(span=span, min_periods=min_periods).std()
    return _restore_shape(vol, shape, close)


def triple_barrier_labels(
    close: pd.Series | pd.DataFrame,
    events: pd.DataFrame | pd.Series | pd.Index,
    pt_sl: Sequence[float] = (1.0, 1.0),
    *,
    target: float | Sequence[float] | np.ndarray | pd.Series | pd.DataFrame,
    max_holding: int,
    require_full_window: bool = True,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """First-touch triple-barrier outcome per event: t1, ret (simple return to touch), label in {-1, 0, 1}.

    close: one price series (index = bar time), a wide frame (one column per symbol) or a long
    series indexed by (symbol, time). events: the event times t0 -- a DatetimeIndex/Index, a
    Series of times, or a DataFrame with a `t0` column (else its index is t0) and, for more than
    one symbol, a `symbol` column. target: per-bar return scale of each event -- a scalar, one
    value per event (array, or a Series on the events' index), or a series/frame shaped like
    `close` read at (t0, symbol), e.g. `daily_volatility(close)`. The result has the events'
    index; label is float (NaN where undefined, see module docstring).
    """
    pt, sl = _pt_sl(pt_sl)
    h = positive_int(max_holding, "max_holding")
    wide, _ = _as_wide_prices(close, "close")
    t0, sym_pos, out_index = _event_positions(events, wide)
    rows = wide.index.get_indexer(t0)
    if (rows < 0).any():
        bad = t0[rows < 0][0]
        raise ValueError(f"event t0={bad!r} is not in the index of close")
    trgt = _event_target(target, wide, t0, sym_pos, rows, out_index)
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_CELLS // h)
    chunk_size = positive_int(chunk_size, "chunk_size")

    prices = wide.to_numpy(dtype="float64", na_value=np.nan)
    n_bars = prices.shape[0]
    padded = np.vstack([prices, np.full((h, prices.shape[1]), np.nan)])
    windows = sliding_window_view(padded, h, axis=0)  # (n_bars + 1, n_symbols, h), no copy

    n = len(rows)
    touch_pos = np.full(n, -1, dtype=np.int64)
    ret = np.full(n, np.nan)
    label = np.full(n, np.nan)
    for start in range(0, n, chunk_size):
        sl_ = slice(start, min(start + chunk_size, n))
        pos, r, lab = _first_touch(
            prices[rows[sl_], sym_pos[sl_]],
            windows[rows[sl_] + 1, sym_pos[sl_]],
            trgt[sl_] * pt,
            trgt[sl_] * sl,
            pt > 0,
            sl > 0,
            require_full_window,
        )
        touch_pos[sl_] = np.where(pos >= 0, rows[sl_] + 1 + pos, -1)
        ret[sl_], label[sl_] = r, lab
    valid = touch_pos >= 0
    t1_values = wide.index[np.minimum(np.maximum(touch_pos, 0), n_bars - 1)]
    t1 = pd.Series(t1_values, index=out_index).where(pd.Series(valid, index=out_index))
    return pd.DataFrame({"t1": t1, "ret": ret, "label": label}, index=out_index)[_OUT_COLUMNS]


def _first_touch(
    p0: np.ndarray,
    path: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    use_upper: bool,
    use_lower: bool,
    require_full_window: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offset (0-based, -1 if undefined), return and label of the first touch for a chunk of paths."""
    with np.errstate(invalid="ignore"):
        r = path / p0[:, None] - 1.0
        up = (r >= upper[:, None]) if use_upper else np.zeros(r.shape, dtype=bool)
        dn = (r <= -lower[:, None]) if use_lower else np.zeros(r.shape, dtype=bool)
    hit = up | dn
    missing = np.isnan(r)
    n, h = r.shape
    first_hit = np.where(hit.any(axis=1), hit.argmax(axis=1), h)
    first_missing = np.where(missing.any(axis=1), missing.argmax(axis=1), h)
    ok_target = np.isfinite(upper) & np.isfinite(lower)
    observed = first_missing == h if require_full_window else first_hit < first_missing
    touched = (first_hit < h) & observed & ok_target
    vertical = (first_hit == h) & (first_missing == h) & ok_target
    pos = np.where(touched, first_hit, np.where(vertical, h - 1, -1))
    idx = np.arange(n)
    at = np.maximum(pos, 0)
    ret = np.where(pos >= 0, r[idx, at], np.nan)
    label = np.where(touched, np.where(up[idx, at], 1.0, -1.0), np.where(vertical, 0.0, np.nan))
    return pos, ret, label


def _pt_sl(pt_sl: Sequence[float]) -> tuple[float, float]:
    try:
        items = list(pt_sl)
    except TypeError as exc:
        raise ValueError(f"pt_sl must be a pair (profit_take, stop_loss), got {pt_sl!r}") from exc
    if len(items) != 2:
        raise ValueError(f"pt_sl must be a pair (profit_take, stop_loss), got {pt_sl!r}")
    return non_negative_float(items[0], "pt_sl[0]"), non_negative_float(items[1], "pt_sl[1]")


def _as_wide_prices(close: pd.Series | pd.DataFrame, name: str) -> tuple[pd.DataFrame, str]:
    """Prices as a wide float frame (time x symbol) plus the input's shape kind."""
    if isinstance(close, pd.Series):
        if isinstance(close.index, pd.MultiIndex):
            if close.index.nlevels != 2:
                raise ValueError(f"{name} with a MultiIndex must be indexed by (symbol, time)")
            if not close.index.is_unique:
                raise ValueError(f"{name} has duplicate (symbol, time) entries")
            wide, kind = close.unstack(level=0), "long"
        else:
            wide, kind = close.to_frame(name=close.name if close.name is not None else "close"), "series"
    elif isinstance(close, pd.DataFrame):
        wide, kind = close, "wide"
    else:
        raise ValueError(f"{name} must be a pandas Series or DataFrame, got {type(close).__name__}")
    if wide.empty:
        raise ValueError(f"{name} is empty")
    if not wide.index.is_unique:
        raise ValueError(f"{name} has duplicate timestamps")
    if not wide.index.is_monotonic_increasing:
        raise ValueError(f"{name} timestamps are not sorted ascending")
    if not wide.columns.is_unique:
        raise ValueError(f"{name} has duplicate symbol columns")
    values = wide.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError(f"{name} has no finite values (NaN-only)")
    if np.isinf(values).any() or (values[finite] <= 0).any():
        raise ValueError(f"{name} must hold positive finite prices")
    return wide.astype("float64"), kind


def _restore_shape(wide: pd.DataFrame, kind: str, original: pd.Series | pd.DataFrame):
    if kind == "wide":
        return wide
    if kind == "series":
        return wide.iloc[:, 0].rename(original.name)
    long = wide.stack(future_stack=True).swaplevel(0, 1)
    return long.reindex(original.index).rename(original.name)


def _event_positions(
    events: pd.DataFrame | pd.Series | pd.Index, wide: pd.DataFrame
) -> tuple[pd.Index, np.ndarray, pd.Index]:
    """Event times, the column position of each event's symbol in `wide`, and the output index."""
    symbols = None
    if isinstance(events, pd.Index):
        t0, out_index = events, events
    elif isinstance(events, pd.Series):
        t0, out_index = pd.Index(events.to_numpy()), events.index
    elif isinstance(events, pd.DataFrame):
        t0 = pd.Index(events["t0"].to_numpy()) if "t0" in events.columns else events.index
        out_index = events.index
        if "symbol" in events.columns:
            symbols = events["symbol"].to_numpy()
    else:
        raise ValueError(f"events must be an Index, Series or DataFrame, got {type(events).__name__}")
    if len(t0) == 0:
        raise ValueError("events is empty")
    if pd.isna(t0).any():
        raise ValueError("events has missing t0 times")
    if isinstance(wide.index, pd.DatetimeIndex):
        t0 = pd.DatetimeIndex(t0)
        if (t0.tz is None) != (wide.index.tz is None):
            raise ValueError("event times and close index must both be timezone-aware or both naive")
    if symbols is None:
        if wide.shape[1] != 1:
            raise ValueError("events need a 'symbol' column when close holds more than one symbol")
        return t0, np.zeros(len(t0), dtype=np.int64), out_index
    cols = wide.columns.get_indexer(symbols)
    if (cols < 0).any():
        raise ValueError(f"event symbol {symbols[cols < 0][0]!r} is not a column of close")
    return t0, cols.astype(np.int64), out_index


def _event_target(
    target: object,
    wide: pd.DataFrame,
    t0: pd.Index,
    sym_pos: np.ndarray,
    rows: np.ndarray,
    out_index: pd.Index,
) -> np.ndarray:
    """Per-event target as float64 (NaN allowed: those events are unlabelled); ValueError if <= 0."""
    n = len(rows)
    if not isinstance(target, (pd.Series, pd.DataFrame)) and np.ndim(target) == 0:
        vals = np.full(n, float(target))  # type: ignore[arg-type]
    elif isinstance(target, pd.DataFrame) or (
        isinstance(target, pd.Series) and not target.index.equals(out_index)
    ):
        tw = _as_wide_target(target, wide)
        if not tw.index.equals(wide.index):
            raise ValueError("target shaped like close must have the same time index as close")
        cols = tw.columns.get_indexer(wide.columns[sym_pos])
        if (cols < 0).any():
            raise ValueError("target is missing a symbol column present in the events")
        vals = tw.to_numpy(dtype="float64", na_value=np.nan)[rows, cols]
    else:
        vals = np.asarray(target, dtype="float64").reshape(-1)
        if len(vals) != n:
            raise ValueError(f"target has {len(vals)} values for {n} events")
    finite = np.isfinite(vals)
    if (vals[finite] <= 0).any():
        raise ValueError("target must be > 0 (a positive per-bar return scale)")
    if np.isinf(vals).any():
        raise ValueError("target has infinite values")
    if not finite.any():
        raise ValueError("target has no finite values (NaN-only)")
    return vals


def _as_wide_target(target: pd.Series | pd.DataFrame, wide: pd.DataFrame) -> pd.DataFrame:
    """A close-shaped target as a wide frame with the same column labels as `wide`."""
    if isinstance(target, pd.Series) and isinstance(target.index, pd.MultiIndex):
        return target.unstack(level=0)
    if isinstance(target, pd.Series):
        if wide.shape[1] != 1:
            raise ValueError("a plain target series fits a single-symbol close only; pass a wide frame")
        return target.to_frame(name=wide.columns[0])
    return target
