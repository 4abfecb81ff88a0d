"""One-minute bars of a simulated session, consistent with its daily bar.

Within a session the log price follows a Brownian bridge from the daily open to the daily close
(minute variance = the day's intraday variance / minutes), then a monotone piecewise-linear map
of values stretches the path so its extremes sit inside the daily [low, high]; the minute with the
highest (lowest) body carries the daily high (low) exactly. Hence first open, last close, max high,
min low and the sum of volumes of a complete session equal the daily bar. Volume follows a U-shaped
intraday profile. Missing minutes (vendor gaps) are dropped with probability `minute_missing_prob`.
Draws come from one counter-based generator per session (rows = symbol index), so a symbol's minutes
do not depend on which other symbols or sessions a request names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trademl.data.connectors.synthetic.market import DailyPanel
from trademl.data.connectors.synthetic.streams import Stream, generator, hash_uniform

MAX_MINUTES = 390
_DRAWS_PER_MINUTE = 4  # path increment, high excursion, low excursion, volume noise


@dataclass(frozen=True)
class MinuteBlock:
    """Minute bars of one session for some symbols: (symbols x minutes) arrays plus the kept-minute mask."""

    symbol_index: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    vwap: np.ndarray
    volume: np.ndarray
    trades: np.ndarray
    kept: np.ndarray  # False where the vendor "lost" the minute


def _stretch(x: np.ndarray, lo0: np.ndarray, hi0: np.ndarray, pmin: np.ndarray, pmax: np.ndarray,
             lo1: np.ndarray, hi1: np.ndarray) -> np.ndarray:
    """Monotone map fixing [lo0, hi0] and sending pmax -> hi1 (above hi0) and pmin -> lo1 (below lo0)."""
    up_scale = np.where(pmax > hi0, (hi1 - hi0) / np.where(pmax > hi0, pmax - hi0, 1.0), 1.0)
    dn_scale = np.where(pmin < lo0, (lo0 - lo1) / np.where(pmin < lo0, lo0 - pmin, 1.0), 1.0)
    return np.where(x > hi0, hi0 + (x - hi0) * up_scale, np.where(x < lo0, lo0 - (lo0 - x) * dn_scale, x))


def simulate_minutes(
    panel: DailyPanel,
    t: int,
    ordinal: int,
    symbol_index: np.ndarray,
    minutes: int,
    *,
    seed: int,
    trade_size: np.ndarray,
    overnight_share: float,
    missing_prob: float,
) -> MinuteBlock:
    """Minute bars of session `t` (global XNYS ordinal `ordinal`) for roster indices `symbol_index`."""
    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"a session has 1..{MAX_MINUTES} minutes, got {minutes}")
    idx = np.asarray(symbol_index, dtype=np.int64)
    n_rows = int(idx.max()) + 1 if len(idx) else 0
    draws = generator(seed, Stream.MINUTE, ordinal).standard_normal((n_rows, MAX_MINUTES, _DRAWS_PER_MINUTE))[idx, :minutes]
    o_d, h_d, l_d, c_d = (a[t, idx][:, None] for a in (panel.open, panel.high, panel.low, panel.close))
    v_intra = (1.0 - overnight_share) * panel.h_total[t, idx][:, None]
    sd = np.sqrt(v_intra / minutes)

    d = np.log(c_d / o_d)
    H, L = np.log(h_d / o_d), np.log(l_d / o_d)
    walk = np.cumsum(sd * draws[:, :, 0], axis=1)
    frac = np.arange(1, minutes + 1)[None, :] / minutes
    path = np.concatenate([np.zeros((len(idx), 1)), walk - frac * walk[:, -1:] + frac * d], axis=1)
    lo0, hi0 = np.minimum(0.0, d), np.maximum(0.0, d)
    pmax, pmin = path.max(axis=1, keepdims=True), path.min(axis=1, keepdims=True)
    path = _stretch(path, lo0, hi0, pmin, pmax, lo0 + 0.85 * (L - lo0), hi0 + 0.85 * (H - hi0))
    m_open, m_close = path[:, :-1], path[:, 1:]
    body_hi, body_lo = np.maximum(m_open, m_close), np.minimum(m_open, m_close)
    exc_hi = 0.5 * sd * np.abs(draws[:, :, 1])
    exc_lo = 0.5 * sd * np.abs(draws[:, :, 2])
    m_high = np.minimum(body_hi + exc_hi, H)
    m_low = np.maximum(body_lo - exc_lo, L)
    rows = np.arange(len(idx))
    m_high[rows, np.argmax(body_hi, axis=1)] = H[:, 0]
    m_low[rows, np.argmin(body_lo, axis=1)] = L[:, 0]

    op, hi, lo, cl = (o_d * np.exp(x) for x in (m_open, m_high, m_low, m_close))
    op[:, 0] = o_d[:, 0]
    cl[:, -1] = c_d[:, 0]
    hi[rows, np.argmax(body_hi, axis=1)] = h_d[:, 0]
    lo[rows, np.argmin(body_lo, axis=1)] = l_d[:, 0]
    hi = np.maximum(hi, np.maximum(op, cl))
    lo = np.minimum(lo, np.minimum(op, cl))

    j = np.arange(minutes)[None, :]
    profile = (1.0 + 1.5 * np.exp(-j / 20.0) + 1.2 * np.exp(-(minutes - 1 - j) / 12.0)) * np.exp(0.3 * draws[:, :, 3])
    share = profile / profile.sum(axis=1, keepdims=True)
    volume = _allocate(panel.volume[t, idx], share)
    trades = np.where(volume > 0, np.maximum(np.round(volume / trade_size[idx][:, None]), 1), 0).astype(np.int64)
    vwap = (op + hi + lo + cl) / 4.0
    if missing_prob > 0:
        kept = hash_uniform(seed, int(Stream.MINUTE), ordinal, idx[:, None], j) >= missing_prob
    else:
        kept = np.ones(op.shape, dtype=bool)
    return MinuteBlock(idx, op, hi, lo, cl, vwap, volume, trades, kept)


def _allocate(total: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Integer split of each row's `total` by `share` (largest remainder), rows summing exactly to total."""
    raw = total[:, None].astype(np.float64) * share
    base = np.floor(raw).astype(np.int64)
    short = total - base.sum(axis=1)
    rank = np.argsort(np.argsort(-(raw - base), axis=1, kind="stable"), axis=1, kind="stable")
    return base + (rank < short[:, None]).astype(np.int64)
