"""VIX-derived market context: level, one-session log return, z-score, relative level and the 4-quadrant regime.

Inputs are indexed by session date; windows count XNYS sessions and include t, so every value at t
uses prints up to t only (spec 003 "market context", SSOT 3.x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.features.market_context.session_grid import on_sessions
from trademl.features.market_context.settings import QuadrantSettings, VixSettings

QUADRANTS = ("bull_quiet", "bull_volatile", "bear_quiet", "bear_volatile")


def vix_metrics(vix: pd.Series, cfg: VixSettings | None = None) -> pd.DataFrame:
    """Per session: ctx_vix (index points), ctx_vix_logret (ln(VIX_t / VIX_t-1), one session),
    ctx_vix_z ((VIX - mean) / std, ddof 1, over `z_window` sessions) and ctx_vix_rel_vol (VIX over
    its mean of `rel_vol_window` sessions; > 1 = volatility above its recent norm).

    A session without a print carries the last one forward at most `fill_limit` sessions; windows
    need all their sessions (NaN before that).
    """
    cfg = cfg or VixSettings()
    v = on_sessions(vix, fill_limit=cfg.fill_limit)
    v = v.where(v > 0)
    z_roll = v.rolling(cfg.z_window, min_periods=cfg.z_window)
    rel_mean = v.rolling(cfg.rel_vol_window, min_periods=cfg.rel_vol_window).mean()
    return pd.DataFrame(
        {
            "ctx_vix": v,
            "ctx_vix_logret": np.log(v).diff(),
            "ctx_vix_z": (v - z_roll.mean()) / z_roll.std(ddof=1),
            "ctx_vix_rel_vol": v / rel_mean,
        }
    )


def vix_quadrant(market_close: pd.Series, vix: pd.Series, cfg: QuadrantSettings | None = None) -> pd.Series:
    """Spec 003's 4-quadrant regime per session: bull/bear x quiet/volatile, as 'bull_quiet' etc.

    Bull when the market close is above its SMA over `trend_window` sessions (bear otherwise);
    volatile when VIX is above its trailing median over `vix_window` sessions (or above the fixed
    `vix_level` when set). None while either window is incomplete or a value is missing.
    Indexed by the market's sessions; pass VIX already on sessions (e.g. `vix_metrics`' ctx_vix).
    """
    cfg = cfg or QuadrantSettings()
    close = on_sessions(market_close)
    full = on_sessions(vix, end=close.index.max() if len(close) else None)
    v = full.reindex(close.index)
    sma = close.rolling(cfg.trend_window, min_periods=cfg.trend_window).mean()
    if cfg.vix_level is not None:
        threshold = pd.Series(cfg.vix_level, index=close.index)
    else:
        threshold = full.rolling(cfg.vix_window, min_periods=cfg.vix_window).median().reindex(close.index)
    known = close.notna() & sma.notna() & v.notna() & threshold.notna()
    bull = close > sma
    volatile = v > threshold
    label = np.where(bull, "bull_", "bear_") + np.where(volatile, "volatile", "quiet").astype(object)
    return pd.Series(np.where(known, label, None), index=close.index, name="ctx_vix_quadrant", dtype=object)
