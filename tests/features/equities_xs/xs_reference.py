"""Test fixtures for equities_xs: explicit bar panels and a naive, loop-by-loop reference build.

The reference walks each symbol's XNYS sessions one by one with plain Python lists and the
statistics module, independent of the vectorised session grid it checks.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd

from trademl.calendar import sessions
from trademl.features.equities_xs import EquitiesXsConfig

# Small windows so hand-checked values need only a few sessions (not the v1 contract: version "test").
SMALL = EquitiesXsConfig(
    version="test",
    momentum_windows=(1, 3),
    gap_window=3,
    drawdown_windows=(3,),
    rv_windows=(3,),
    downside_vol_window=3,
    liquidity_window=3,
    annualization=252,
    min_fraction=1.0,
    clip=3.0,
)


def session_dates(start: str, n: int) -> list[pd.Timestamp]:
    """The first n XNYS sessions on or after `start`."""
    return list(sessions(start, pd.Timestamp(start) + pd.Timedelta(days=2 * n + 10))[:n])


def bars(symbol: str, dates: list, close: list[float], *, open_: list[float] | None = None, volume: list[float] | None = None, **extra) -> pd.DataFrame:
    """One symbol's daily bars; open defaults to close, high/low bracket open and close, volume 1000."""
    close = list(close)
    open_ = list(open_) if open_ is not None else close
    volume = list(volume) if volume is not None else [1000.0] * len(close)
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "date": pd.to_datetime(dates),
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
            "volume": volume,
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


def random_panel(seed: int, n_symbols: int = 4, n_sessions: int = 40, start: str = "2024-01-02", holes: float = 0.1) -> pd.DataFrame:
    """A random-walk panel with shares and sectors; about `holes` of the bars missing (gaps)."""
    rng = np.random.default_rng(seed)
    dates = session_dates(start, n_sessions)
    frames = []
    sectors = ["Energy", "Financials", "Utilities", None]
    for i in range(n_symbols):
        r = rng.normal(0.0, 0.02, n_sessions)
        close = 50.0 * np.exp(np.cumsum(r))
        open_ = close * np.exp(rng.normal(0.0, 0.01, n_sessions))
        volume = rng.integers(100, 10_000, n_sessions).astype(float)
        frame = bars(
            f"S{i}", dates, close, open_=open_, volume=volume,
            shares_outstanding=float(rng.integers(1_000, 100_000)), sector=sectors[i % len(sectors)],
        )  # fmt: skip
        keep = rng.random(n_sessions) >= holes
        frames.append(frame.loc[keep])
    return pd.concat(frames, ignore_index=True)


def _window(values: list[float], i: int, k: int) -> list[float]:
    return [v for v in values[max(0, i - k + 1) : i + 1] if not math.isnan(v)]


def naive_raw(panel: pd.DataFrame, cfg: EquitiesXsConfig) -> pd.DataFrame:
    """Raw continuous features of every panel row, one session at a time (rows sorted by date, symbol)."""
    grid = sessions(panel["date"].min(), panel["date"].max())
    nan = float("nan")
    rows = []
    for symbol, g in panel.groupby("symbol"):
        full = g.set_index(pd.to_datetime(g["date"])).reindex(grid)
        c = [float(x) for x in full["close"]]
        o = [float(x) for x in full["open"]]
        v = [float(x) for x in full["volume"]]
        sh = [float(x) for x in full["shares_outstanding"]] if "shares_outstanding" in full else [nan] * len(grid)
        r = [nan] + [math.log(c[j] / c[j - 1]) if not (math.isnan(c[j]) or math.isnan(c[j - 1])) else nan for j in range(1, len(grid))]
        ov = [nan] + [math.log(o[j] / c[j - 1]) if not (math.isnan(o[j]) or math.isnan(c[j - 1])) else nan for j in range(1, len(grid))]
        intra = [math.log(c[j] / o[j]) if not math.isnan(c[j]) else nan for j in range(len(grid))]
        down = [min(x, 0.0) ** 2 if not math.isnan(x) else nan for x in r]
        dv = [c[j] * v[j] for j in range(len(grid))]
        turn = [v[j] / sh[j] for j in range(len(grid))]
        illiq = [abs(r[j]) / dv[j] if not math.isnan(r[j]) and dv[j] > 0 else nan for j in range(len(grid))]

        def mean(values: list[float], i: int, k: int, floor: int = 1) -> float:
            w = _window(values, i, k)
            return sum(w) / len(w) if len(w) >= cfg.min_periods(k, floor) else nan

        for i, t in enumerate(grid):
            if math.isnan(c[i]):
                continue
            row = {"symbol": symbol, "date": t}
            for k in cfg.momentum_windows:
                row[f"mom_{k}"] = math.log(c[i] / c[i - k]) if i >= k and not math.isnan(c[i - k]) else nan
            row[f"gap_overnight_{cfg.gap_window}"] = mean(ov, i, cfg.gap_window)
            row[f"gap_intraday_{cfg.gap_window}"] = mean(intra, i, cfg.gap_window)
            for k in cfg.drawdown_windows:
                w = _window(c, i, k)
                row[f"drawdown_{k}"] = c[i] / max(w) - 1.0 if len(w) >= cfg.min_periods(k) else nan
            for k in cfg.rv_windows:
                w = _window(r, i, k)
                row[f"rv_{k}"] = math.sqrt(cfg.annualization) * statistics.stdev(w) if len(w) >= cfg.min_periods(k, 2) else nan
            d = cfg.downside_vol_window
            m = mean(down, i, d)
            row[f"downside_vol_{d}"] = math.sqrt(cfg.annualization * m) if not math.isnan(m) else nan
            lw = cfg.liquidity_window
            row[f"adv_{lw}"] = mean(dv, i, lw)
            row[f"turnover_{lw}"] = mean(turn, i, lw)
            a = mean(illiq, i, lw)
            row[f"amihud_{lw}"] = 1e6 * a
            row["log_mcap"] = math.log(c[i] * sh[i]) if not math.isnan(sh[i]) else nan
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["date", "symbol"]).reset_index(drop=True)
