"""Small explicit raw/equities_bars payloads for the lake tests (vectorised, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.schemas import session_id, with_metadata

INGESTED_AT = pd.Timestamp("2024-03-01 21:00", tz="UTC")


def bars(
    dates: list[str], symbols: list[str], *, seed: int = 0, ingested_at: pd.Timestamp = INGESTED_AT
) -> pd.DataFrame:
    """Daily bars for every (date, symbol) pair with consistent OHLC and SSOT metadata."""
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([pd.to_datetime(dates), symbols], names=["date", "symbol"])
    frame = idx.to_frame(index=False)
    n = len(frame)
    close = 100.0 * np.exp(rng.normal(0.0, 0.02, n))
    open_ = close * np.exp(rng.normal(0.0, 0.01, n))
    frame["open"] = open_
    frame["high"] = np.maximum(open_, close) * 1.01
    frame["low"] = np.minimum(open_, close) * 0.99
    frame["close"] = close
    frame["vwap"] = (open_ + close) / 2.0
    frame["volume"] = rng.integers(1_000, 1_000_000, n)
    frame["nbbo_spread"] = 0.01
    frame["trades"] = rng.integers(10, 5_000, n)
    frame["session_id"] = session_id(frame["date"]).to_numpy()
    frame["date"] = frame["date"].dt.date
    return with_metadata(
        frame,
        source_name="synthetic",
        source_uri="synthetic://bars",
        api_version="v1",
        ingested_at=ingested_at,
    )


def files_state(directory) -> dict[str, tuple[int, int, bytes]]:
    """Every file in a directory -> (size, mtime_ns, bytes): a snapshot to prove nothing was touched."""
    from pathlib import Path

    out = {}
    for p in sorted(Path(directory).iterdir()):
        if p.is_file():
            st = p.stat()
            out[p.name] = (st.st_size, st.st_mtime_ns, p.read_bytes())
    return out


def rows(frame_or_table, by: tuple[str, ...] = ("date", "symbol")) -> pd.DataFrame:
    """A payload or a lake read as a plain frame in (date, symbol) order, for value comparisons."""
    frame = frame_or_table if isinstance(frame_or_table, pd.DataFrame) else frame_or_table.to_pandas()
    frame = frame.copy()
    for col in ("ingested_at", "vendor_ts"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[us, UTC]")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.sort_values(list(by)).reset_index(drop=True)
