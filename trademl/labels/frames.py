"""Validation of label inputs and the daily-panel session index every daily label reads.

Labels look forward, so the two mistakes that matter are reading a bar that is not where the
label thinks it is (unsorted or duplicated timestamps, a gap in a symbol's history) and mixing
symbols. `DailyPanel` maps each (symbol, date) row to its XNYS session number from
`trademl.calendar`, so "k sessions later" is a calendar fact, never "k rows later".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl.calendar import EXCHANGE_TZ, all_sessions_index

EXCHANGE_TZ_NAMES = frozenset({EXCHANGE_TZ, "US/Eastern"})
UP, DOWN, FLAT = "UP", "DOWN", "FLAT"
DIRECTION_CATEGORIES = [DOWN, FLAT, UP]


def require_frame(df: object, name: str) -> pd.DataFrame:
    """`df` as a non-empty DataFrame; ValueError otherwise."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"{name} is empty")
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """ValueError naming every required column that `df` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s) {missing}; has {list(df.columns)}")


def positive_int(value: object, name: str) -> int:
    """`value` as an int >= 1 (bools and non-integral floats rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def positive_ints(values: int | Sequence[int], name: str) -> list[int]:
    """One or several positive integers, de-duplicated in the given order."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        items = [values]
    else:
        items = list(values)
    if not items:
        raise ValueError(f"{name} is empty")
    out: list[int] = []
    for v in items:
        v = positive_int(v, name)
        if v not in out:
            out.append(v)
    return out


def non_negative_float(value: object, name: str) -> float:
    """`value` as a finite float >= 0."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not np.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return out


def check_exchange_tz(tz: str) -> None:
    """Accept only the XNYS time zone: session logic comes from the XNYS calendar, not from `tz`."""
    if tz not in EXCHANGE_TZ_NAMES:
        raise ValueError(
            f"tz={tz!r} is not the XNYS time zone; sessions come from trademl.calendar "
            f"(accepted: {sorted(EXCHANGE_TZ_NAMES)})"
        )


def price_array(values: pd.Series, name: str) -> np.ndarray:
    """Prices as float64; ValueError when all NaN or any observed price is <= 0."""
    try:
        arr = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r} is not numeric") from exc
    finite = np.isfinite(arr)
    if not finite.any():
        raise ValueError(f"column {name!r} has no finite values (NaN-only)")
    if (arr[finite] <= 0).any():
        raise ValueError(f"column {name!r} has non-positive prices; returns need prices > 0")
    if np.isinf(arr).any():
        raise ValueError(f"column {name!r} has infinite values")
    return arr


def symbol_codes(df: pd.DataFrame, symbol_col: str | None) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row for the symbol column (all zeros when the frame has no symbol column)."""
    if symbol_col is None or symbol_col not in df.columns:
        return np.zeros(len(df), dtype=np.int64), pd.Index(["<single>"])
    codes, uniques = pd.factorize(df[symbol_col], sort=False)
    if (codes < 0).any():
        raise ValueError(f"column {symbol_col!r} has missing symbols")
    return codes.astype(np.int64), pd.Index(uniques)


def check_strictly_increasing(sym: np.ndarray, stamp: np.ndarray, symbols: pd.Index, what: str) -> np.ndarray:
    """Stable (symbol, time) row order; ValueError when a symbol's stamps are not strictly increasing."""
    order = np.argsort(sym, kind="stable")
    s, t = sym[order], stamp[order]
    bad = (s[1:] == s[:-1]) & (t[1:] <= t[:-1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "duplicate" if t[i + 1] == t[i] else "unsorted"
        raise ValueError(
            f"{what} must be strictly increasing within each symbol: {kind} stamp for symbol "
            f"{symbols[s[i]]!r} at row {int(order[i + 1])}"
        )
    return order


def direction_labels(ret: np.ndarray, band: np.ndarray | float) -> pd.Categorical:
    """UP if ret > band, DOWN if ret < -band, else FLAT (|ret| <= band); missing when ret or band is NaN."""
    band = np.broadcast_to(np.asarray(band, dtype="float64"), ret.shape)
    codes = np.full(ret.shape, -1, dtype=np.int8)
    ok = np.isfinite(ret) & np.isfinite(band)
    codes[ok] = 1
    codes[ok & (ret > band)] = 2
    codes[ok & (ret < -band)] = 0
    return pd.Categorical.from_codes(codes, categories=DIRECTION_CATEGORIES)


def session_dates(values: pd.Series, name: str) -> pd.DatetimeIndex:
    """Daily date column as timezone-naive midnight timestamps; ValueError on NaT or time-zone-aware input."""
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r} is not parseable as dates") from exc
    if idx.tz is not None:
        raise ValueError(f"column {name!r} must hold timezone-naive session dates, got tz={idx.tz}")
    if idx.isna().any():
        raise ValueError(f"column {name!r} has missing dates")
    if (idx != idx.normalize()).any():
        raise ValueError(f"column {name!r} has intraday times; daily bars carry session dates only")
    return idx


@dataclass(frozen=True)
class DailyPanel:
    """Rows of a long daily frame addressed by (symbol, XNYS session number)."""

    sym: np.ndarray
    session_pos: np.ndarray
    symbols: pd.Index
    dates: pd.DatetimeIndex
    _sorted_key: np.ndarray
    _order: np.ndarray
    _stride: int

    @classmethod
    def build(cls, df: pd.DataFrame, symbol_col: str | None, date_col: str) -> DailyPanel:
        """Map each row to its session number; ValueError for non-sessions and unsorted or duplicate dates."""
        dates = session_dates(df[date_col], date_col)
        sessions = all_sessions_index()
        pos = sessions.get_indexer(dates)
        if (pos < 0).any():
            bad = dates[pos < 0][0]
            raise ValueError(f"{date_col}={bad.date()} is not an XNYS session (or is outside the calendar)")
        sym, symbols = symbol_codes(df, symbol_col)
        order = check_strictly_increasing(sym, pos, symbols, f"column {date_col!r}")
        stride = len(sessions) + 1
        key = sym * stride + pos
        return cls(sym, pos.astype(np.int64), symbols, dates, key[order], order, stride)

    def rows_at_offset(self, k: int) -> np.ndarray:
        """For each row, the row of the same symbol exactly k sessions later (-1 when that row is absent)."""
        target = self.session_pos + k
        query = self.sym * self._stride + target
        i = np.searchsorted(self._sorted_key, query)
        i_clip = np.minimum(i, len(self._sorted_key) - 1)
        found = (i < len(self._sorted_key)) & (self._sorted_key[i_clip] == query)
        found &= (target >= 0) & (target < self._stride - 1)
        return np.where(found, self._order[i_clip], -1)
