"""The daily report's PNG plots: equity curve with drawdown, the date x table coverage heatmap, OOS IC over time.

Drawn on matplotlib's Agg canvas (no pyplot, no window, no global state), at the fixed size of
configs/reports.yml `daily.plot`, without the Software/date metadata: the same inputs give the same
bytes, and `write_if_changed` leaves an unchanged plot's file alone.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from trademl import calendar
from trademl.reports.files import write_if_changed
from trademl.reports.settings import PlotSize

COLOR_CODES = {"GREEN": 0, "AMBER": 1, "RED": 2}
COLOR_FILL = ("#2e7d32", "#f9a825", "#c62828")


def _figure(size: PlotSize) -> Figure:
    fig = Figure(figsize=size.inches, dpi=size.dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str], size: PlotSize) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=size.dpi, metadata={"Software": None})
    write_if_changed(path, buf.getvalue())
    return str(path)


def _dates(index: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Index(index)))


def equity_drawdown_plot(net_returns: pd.Series, path: str | os.PathLike[str], *, size: PlotSize) -> str:
    """Two panels over the returns' sessions: compounded equity (starting at 1) and its drawdown from the
    running peak (a negative fraction, 0 at a new high). Returns the path written."""
    r = pd.Series(net_returns, dtype="float64")
    if r.empty or not np.isfinite(r.to_numpy()).all():
        raise ValueError("the equity plot needs at least one finite net return")
    equity = (1.0 + r).cumprod()
    drawdown = equity / np.maximum(equity.cummax(), 1.0) - 1.0
    x = _dates(r.index)
    fig = _figure(size)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    top.plot(x, equity.to_numpy(), color="#1f4e79", linewidth=1.2)
    top.axhline(1.0, color="grey", linewidth=0.6)
    top.set_ylabel("equity (start = 1)")
    top.set_title("Equity curve, net of costs")
    bottom.fill_between(x, drawdown.to_numpy(), 0.0, color="#c62828", alpha=0.5, linewidth=0)
    bottom.set_ylabel("drawdown")
    bottom.set_xlabel("session")
    fig.autofmt_xdate()
    return _save(fig, path, size)


def coverage_heatmap(matrix: pd.DataFrame, path: str | os.PathLike[str], *, size: PlotSize) -> str:
    """A table x session grid of a `coverage_matrix` coloured GREEN / AMBER / RED. Returns the path written."""
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise ValueError("the coverage heatmap needs a non-empty coverage matrix (sessions x tables)")
    unknown = set(pd.unique(matrix.to_numpy().ravel())) - set(COLOR_CODES)
    if unknown:
        raise ValueError(f"coverage matrix holds {sorted(map(str, unknown))}; expected only {list(COLOR_CODES)}")
    cells = matrix.T.to_numpy().astype(str)  # tables x sessions
    grid = np.select([cells == c for c in COLOR_CODES], list(COLOR_CODES.values()), np.nan)
    fig = _figure(size)
    ax = fig.subplots()
    ax.imshow(grid, aspect="auto", interpolation="nearest", cmap=ListedColormap(COLOR_FILL),
              norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3))
    ax.set_yticks(range(len(matrix.columns)), [str(c) for c in matrix.columns], fontsize=8)
    n = len(matrix.index)
    ticks = np.unique(np.linspace(0, n - 1, num=min(n, 8)).round().astype(int))
    ax.set_xticks(ticks, [str(matrix.index[i]) for i in ticks], rotation=30, ha="right", fontsize=8)
    ax.set_title("Coverage by session: GREEN / AMBER / RED")
    handles = [Patch(facecolor=fill, label=name) for name, fill in zip(COLOR_CODES, COLOR_FILL)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.subplots_adjust(left=0.25, right=0.88, bottom=0.2)
    return _save(fig, path, size)


def ic_plot(ic: pd.Series, path: str | os.PathLike[str], *, rolling_sessions: int, size: PlotSize) -> str:
    """Bars of the per-session OOS IC and its rolling mean over `rolling_sessions` XNYS sessions (sessions
    without an IC are skipped by the mean). An empty series draws empty axes. Returns the path written."""
    series = pd.Series(ic, dtype="float64").dropna()
    fig = _figure(size)
    ax = fig.subplots()
    ax.axhline(0.0, color="grey", linewidth=0.6)
    if len(series):
        days = [d.date() for d in calendar.sessions(min(series.index), max(series.index))]
        on_sessions = series.reindex(days)
        rolling = on_sessions.rolling(rolling_sessions, min_periods=1).mean()
        x = _dates(on_sessions.index)
        values = on_sessions.to_numpy()
        ax.bar(x, np.nan_to_num(values), width=1.0, color=np.where(values >= 0, "#1f4e79", "#c62828"))
        ax.plot(x, rolling.to_numpy(), color="black", linewidth=1.2, label=f"rolling mean ({rolling_sessions} sessions)")
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
    ax.set_ylabel("IC")
    ax.set_title("OOS information coefficient by session")
    return _save(fig, path, size)


def png_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk; ValueError if the file is not a PNG."""
    head = Path(path).read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
