"""Validated view of a bar frame (one symbol, or a long multi-symbol panel) laid out for indicator maths.

A panel is a long frame with a ``symbol`` column whose rows are grouped by symbol (one contiguous
block per symbol, conventionally sorted by symbol then time) and ordered by time inside each block.
A frame without a ``symbol`` column is one symbol. Time comes from a ``ts`` column (UTC; naive values
are taken as UTC), else a ``date`` column, else a ``DatetimeIndex``; when present it must be strictly
increasing inside every symbol.

Indicators never see the flat frame. They see :class:`BarBlock` objects: 2-D ``(symbols x bars)``
float arrays in which row ``r`` holds one symbol's bars left-aligned (column 0 is that symbol's first
bar) with NaN padding on the right. Every time-series operation therefore runs along ``axis=1`` and
can never mix two symbols, and a block is small enough (``max_cells``) to stay in CPU cache while a
whole indicator set is computed on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

SYMBOL_COLUMN = "symbol"
TIMESTAMP_COLUMN = "ts"
DATE_COLUMN = "date"
DEFAULT_BLOCK_CELLS = 1 << 15

_MAX_SYMBOLS_IN_MESSAGE = 5


class BarPanel:
    """A bar frame checked once (symbol blocks, time order, columns) and split into cache-sized blocks.

    Raises ``ValueError`` for an empty frame, a null symbol, a symbol whose rows are not contiguous,
    unparsable or unsorted timestamps within a symbol, and (on first use of a column) a missing,
    non-numeric or all-NaN-for-some-symbol price/volume column.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"bars must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise ValueError("bars frame is empty")
        self.frame = frame
        self.index = frame.index
        self.n_rows = len(frame)
        self.starts, self.lengths, self.symbols = _symbol_blocks(frame)
        self.time_kind, self._utc_ns = _timestamps(frame)
        if self._utc_ns is not None:
            self._check_time_order(self._utc_ns)
        self._columns: dict[str, np.ndarray] = {}
        self._derived: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ structure
    @property
    def n_symbols(self) -> int:
        """Number of symbol blocks."""
        return int(self.starts.size)

    def _check_time_order(self, ns: np.ndarray) -> None:
        steps = np.diff(ns)
        within = np.ones(self.n_rows - 1, dtype=bool)
        block_starts = self.starts[1:]
        within[block_starts - 1] = False
        bad = np.flatnonzero((steps <= 0) & within)
        if bad.size:
            row = int(bad[0]) + 1
            block = int(np.searchsorted(self.starts, row, side="right") - 1)
            raise ValueError(
                f"timestamps are not strictly increasing within symbol {self.symbols[block]!r} "
                f"(row {row}); sort the panel by symbol then timestamp and drop duplicate bars"
            )

    # ------------------------------------------------------------------ columns
    def has_column(self, name: str) -> bool:
        """Whether the frame carries column ``name``."""
        return name in self.frame.columns

    def require(self, names: tuple[str, ...] | list[str], *, who: str = "indicator") -> None:
        """Check that every column in ``names`` exists, is numeric and has a finite value for each symbol."""
        missing = [name for name in names if name not in self.frame.columns]
        if missing:
            raise ValueError(
                f"{who} needs column(s) {missing} which the bars frame lacks "
                f"(it has {list(map(str, self.frame.columns))})"
            )
        for name in names:
            self.column(name)

    def column(self, name: str) -> np.ndarray:
        """Column ``name`` as float64 (NaN for missing values), validated once and cached."""
        cached = self._columns.get(name)
        if cached is not None:
            return cached
        if name not in self.frame.columns:
            raise ValueError(f"bars frame lacks column {name!r}")
        series = self.frame[name]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            raise ValueError(f"column {name!r} must be numeric, got dtype {series.dtype}")
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite_per_symbol = np.add.reduceat(np.isfinite(values), self.starts)
        empty = np.flatnonzero(finite_per_symbol == 0)
        if empty.size:
            names = [self.symbols[i] for i in empty[:_MAX_SYMBOLS_IN_MESSAGE]]
            raise ValueError(f"column {name!r} has no finite value for symbol(s) {names} (NaN-only series)")
        self._columns[name] = values
        return values

    def derived(self, key: str, factory: Callable[[], np.ndarray]) -> np.ndarray:
        """A flat per-row array computed once per panel by ``factory`` and cached under ``key``."""
        cached = self._derived.get(key)
        if cached is None:
            cached = factory()
            if cached.shape != (self.n_rows,):
                raise ValueError(f"derived array {key!r} has shape {cached.shape}, expected ({self.n_rows},)")
            self._derived[key] = cached
        return cached

    # ------------------------------------------------------------------ time
    def utc_nanoseconds(self, *, who: str = "indicator") -> np.ndarray:
        """Bar timestamps as int64 nanoseconds since the epoch, UTC; ValueError when the frame has none."""
        if self._utc_ns is None:
            raise ValueError(f"{who} needs timestamps: a 'ts' or 'date' column or a DatetimeIndex")
        return self._utc_ns

    def wall_clock_nanoseconds(self, timezone: str, *, who: str = "indicator") -> np.ndarray:
        """Local wall-clock time in ``timezone`` as int64 nanoseconds (UTC ns shifted by the zone offset)."""
        utc_ns = self.utc_nanoseconds(who=who)

        def build() -> np.ndarray:
            if timezone == "UTC":
                return utc_ns
            stamps = pd.DatetimeIndex(utc_ns.view("M8[ns]"), tz="UTC").tz_convert(timezone)
            return stamps.tz_localize(None).asi8

        return self.derived(f"wall_clock_ns:{timezone}", build)

    # ------------------------------------------------------------------ blocks
    def blocks(self, max_cells: int = DEFAULT_BLOCK_CELLS) -> Iterator[BarBlock]:
        """Yield blocks of whole symbols, each at most ``max_cells`` cells (one symbol when it is longer).

        Symbols are grouped by length class (powers of two) so right padding stays below 2x; the loop
        runs over a few classes and a few dozen blocks, never over rows.
        """
        if max_cells < 1:
            raise ValueError(f"max_cells must be positive, got {max_cells}")
        size_class = np.ceil(np.log2(self.lengths)).astype(np.int64)
        for cls in np.unique(size_class):
            members = np.flatnonzero(size_class == cls)
            width = int(self.lengths[members].max())
            per_block = max(1, max_cells // width)
            for first in range(0, members.size, per_block):
                yield BarBlock(self, members[first : first + per_block], width)


class BarBlock:
    """Whole symbols as a 2-D array: row = symbol (left-aligned at column 0), column = bar, NaN padding.

    ``column(name)`` gathers a panel column into the block layout; ``memo`` caches intermediate
    results (true range, typical price, ...) shared by several indicators on the same block.
    Gathering and scattering copy one contiguous slice per symbol (a loop over the block's few
    symbols, never over bars), which is several times cheaper than fancy indexing of every cell.
    """

    def __init__(self, panel: BarPanel, symbols: np.ndarray, width: int) -> None:
        self.panel = panel
        self.symbol_ids = symbols
        self.width = width
        self.lengths = panel.lengths[symbols]
        self.starts = panel.starts[symbols]
        self.shape = (symbols.size, width)
        full = bool(np.all(self.lengths == width))
        adjacent = bool(np.all(np.diff(self.starts) == width)) if symbols.size > 1 else True
        if full and adjacent:
            first = int(self.starts[0])
            self._slice: slice | None = slice(first, first + symbols.size * width)
        else:
            self._slice = None
        self._rows = [
            (row, int(start), int(length))
            for row, (start, length) in enumerate(zip(self.starts, self.lengths, strict=True))
        ]
        self._valid: np.ndarray | None = None
        self._cache: dict[Any, Any] = {}

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of real (non-padding) cells."""
        if self._valid is None:
            self._valid = np.arange(self.width)[None, :] < self.lengths[:, None]
        return self._valid

    def gather(self, key: str, values: np.ndarray, fill: Any = np.nan) -> np.ndarray:
        """Lay the flat per-row array ``values`` out as this block (padding cells get ``fill``).

        ``key`` names the array for callers that cache per key; the block layout itself is rebuilt
        from slices, so the result is a fresh array except on the contiguous fast path (a view).
        """
        if self._slice is not None:
            return values[self._slice].reshape(self.shape)
        out = np.full(self.shape, fill, dtype=values.dtype)
        for row, start, length in self._rows:
            out[row, :length] = values[start : start + length]
        return out

    def column(self, name: str) -> np.ndarray:
        """Panel column ``name`` (float64) in block layout; do not modify the result in place."""
        return self.memo(("column", name), lambda: self.gather(f"column:{name}", self.panel.column(name)))

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        """Compute ``factory()`` once per block under ``key`` (shared intermediates between indicators)."""
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    def scatter(self, values: np.ndarray, out: np.ndarray) -> None:
        """Write a block-layout result back into the flat per-row array ``out`` (padding is dropped)."""
        if values.shape != self.shape:
            raise ValueError(f"block result has shape {values.shape}, expected {self.shape}")
        if self._slice is not None:
            out[self._slice] = values.reshape(-1)
            return
        for row, start, length in self._rows:
            out[start : start + length] = values[row, :length]


def _symbol_blocks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Start row, length and name of each symbol's contiguous block (one block for a single-symbol frame)."""
    n_rows = len(frame)
    if SYMBOL_COLUMN not in frame.columns:
        return np.zeros(1, dtype=np.int64), np.array([n_rows], dtype=np.int64), [None]
    codes, uniques = pd.factorize(frame[SYMBOL_COLUMN], use_na_sentinel=True)
    if (codes < 0).any():
        raise ValueError(f"column {SYMBOL_COLUMN!r} has null values at row {int(np.argmax(codes < 0))}")
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    if starts.size != len(uniques):
        block_codes = codes[starts]
        repeated = np.flatnonzero(np.bincount(block_codes) > 1)
        names = [uniques[i] for i in repeated[:_MAX_SYMBOLS_IN_MESSAGE]]
        raise ValueError(
            f"rows of symbol(s) {list(names)} are not contiguous; sort the panel by symbol then timestamp"
        )
    lengths = np.diff(np.concatenate((starts, [n_rows]))).astype(np.int64)
    return starts, lengths, [uniques[code] for code in codes[starts]]


def _timestamps(frame: pd.DataFrame) -> tuple[str | None, np.ndarray | None]:
    """Which time source the frame has and its values as UTC int64 nanoseconds (None when it has none)."""
    if TIMESTAMP_COLUMN in frame.columns:
        kind, raw = TIMESTAMP_COLUMN, frame[TIMESTAMP_COLUMN]
    elif DATE_COLUMN in frame.columns:
        kind, raw = DATE_COLUMN, frame[DATE_COLUMN]
    elif isinstance(frame.index, pd.DatetimeIndex):
        kind, raw = "index", pd.Series(frame.index)
    else:
        return None, None
    try:
        stamps = pd.to_datetime(raw, utc=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot read {kind!r} as timestamps: {exc}") from exc
    if stamps.isna().any():
        raise ValueError(f"{kind!r} has missing timestamps at row {int(np.argmax(stamps.isna().to_numpy()))}")
    ns = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="M8[ns]").view(np.int64)
    return kind, ns
