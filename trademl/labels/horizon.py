"""Forward k-session return labels on a long daily panel (SSOT 3.4 `labeling/horizon`).

The label of (symbol, session t) for horizon k is close[t+k] / close[t] - 1 (simple) or
log(close[t+k] / close[t]) (log), where t+k is the k-th XNYS session after t according to
`trademl.calendar` -- not the k-th row. When the symbol has no bar on session t+k (end of data,
a halt, a hole in the vendor history) the label is NaN: it is never filled from a nearer or later
bar, so a label exists only once its whole forward window has been observed.

Compute labels on split- and dividend-adjusted closes (curated/equities_ohlcv_adj, or the vendor's
`adjusted_close`): on as-traded prices a 4:1 split reads as a -75% return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from trademl.labels.frames import (
    DailyPanel,
    positive_ints,
    price_array,
    require_columns,
    require_frame,
)

ReturnKind = Literal["simple", "log", "both"]


def simple_return_column(k: int) -> str:
    """Name of the simple forward return column for horizon k sessions."""
    return f"ret_fwd_{k}d"


def log_return_column(k: int) -> str:
    """Name of the log forward return column for horizon k sessions."""
    return f"logret_fwd_{k}d"


def forward_return_labels(
    bars: pd.DataFrame,
    horizons: int | Sequence[int] = (1, 5, 20),
    *,
    kind: ReturnKind = "simple",
    price_col: str = "close",
    symbol_col: str = "symbol",
    date_col: str = "date",
) -> pd.DataFrame:
    """Forward k-session returns per symbol on a long daily panel, NaN where the window is incomplete.

    Per-period (not annualised) returns over k XNYS sessions, simple (`ret_fwd_{k}d`) and/or log
    (`logret_fwd_{k}d`). `bars` is long: one row per (symbol, session); rows may come in any symbol
    order but each symbol's dates must be strictly increasing sessions. A frame without
    `symbol_col` is one instrument. The result keeps `bars`' index and row order and carries the
    symbol and date columns plus one column per horizon and kind.
    """
    require_frame(bars, "bars")
    if kind not in ("simple", "log", "both"):
        raise ValueError(f"kind must be 'simple', 'log' or 'both', got {kind!r}")
    ks = positive_ints(horizons, "horizons")
    require_columns(bars, [date_col, price_col], "bars")
    price = price_array(bars[price_col], price_col)
    has_symbol = symbol_col in bars.columns
    panel = DailyPanel.build(bars, symbol_col if has_symbol else None, date_col)

    out = pd.DataFrame(index=bars.index)
    if has_symbol:
        out[symbol_col] = bars[symbol_col].to_numpy()
    out[date_col] = panel.dates
    for k in ks:
        rows = panel.rows_at_offset(k)
        fwd = np.where(rows >= 0, price[np.maximum(rows, 0)], np.nan)
        gross = fwd / price
        if kind in ("simple", "both"):
            out[simple_return_column(k)] = gross - 1.0
        if kind in ("log", "both"):
            out[log_return_column(k)] = np.log(gross)
    return out
