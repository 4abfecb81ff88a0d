"""Portfolio construction (SSOT 4.7, 7.2): a session's scores to capped, vol-targeted, dollar-neutral targets.

Weights are signed fractions of capital decided at the close of the as-of session and held over the
next one. The recipe, vectorised over names:

1. Scores -> cross-sectional z-scores (demeaned, divided by their std, ddof 0) -> risk-scaled
   z / sigma_i, with sigma_i each name's daily vol from the shrunk covariance of `returns`.
2. The direction: longs (z > 0) and shorts (z < 0) proportional to z / sigma, each leg summing to
   0.5, so the book is dollar-neutral (long gross = short gross; net 0) with gross 1.
3. Fractional Kelly on a conservative edge: expected next-session returns mu_i = e x sigma_i x z_i
   (Grinold's alpha = IC x vol x score, with e = ic x (1 - haircut)); the Kelly leverage along the
   direction p is f x (p . mu) / (p' Sigma p), both per session, so `kelly_scale` is a gross exposure.
4. Each leg gets the budget min(kelly_scale / 2, gross_cap / 2, short_gross_cap, what its names can
   hold under their caps) and is filled by "water-filling": w_i = min(cap, c x z_i / sigma_i) with c
   set so the leg sums to its budget; longs are capped at per_name_cap, shorts at max_short_weight.
5. Vol target: if the annualised ex-ante vol sqrt(252 w' Sigma w) exceeds vol_target the whole book
   is scaled DOWN to it. It is never scaled up: more leverage than the Kelly edge supports would
   only add risk; the target is a ceiling.
6. Turnover: with previous targets, the previous book is first made feasible under today's risk
   model (same caps, neutrality, vol ceiling; only ever shrinking positions) and the new book is the
   blend prev_f + alpha (target - prev_f) with the largest alpha in [0, 1] keeping
   sum |w - previous| <= turnover_limit. Both ends satisfy every constraint and the constraints are
   convex, so the blend does too. If bringing the previous book inside the caps alone costs more
   than the limit, the caps win and the turnover is that cost (`binding["turnover"]` is True).

Names without `min_history` finite returns in the covariance window keep their score and get the
cross-sectional median vol (dropping them would silently lose new listings; the caps bound their
risk). Without `returns` every name gets `fallback_vol`, zero correlation. Fewer than two scored
names, or scores all equal, give all-zero targets (a dollar-neutral book needs a long and a short);
an empty score frame is a ValueError (there is no as-of session).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from trademl import calendar
from trademl.portfolio.covariance import RiskModel, shrunk_covariance
from trademl.portfolio.risk_config import TRADING_DAYS, RiskConfig

# Relative tolerance for "a constraint is binding": the weights sit on the limit up to rounding.
BINDING_TOL = 1e-9


@lru_cache(maxsize=1)
def _thread_pools() -> ThreadpoolController:
    """The process's BLAS/OpenMP pools, found once: finding them reads /proc/self/maps (~4 ms a call,
    40 % of a 100-name build_targets when it was done per session)."""
    return ThreadpoolController()


def _one_blas_thread():
    """One BLAS thread: on 500 x 500 matrices thread start-up costs more than the products (4x slower
    with two threads on the 2-core box)."""
    return _thread_pools().limit(limits=1)


def _session_scores(scores_df: pd.DataFrame) -> tuple[dt.date, np.ndarray, np.ndarray]:
    """The as-of date, symbols and scores of a one-session score frame; ValueError on anything else."""
    missing = {"date", "symbol", "score"} - set(scores_df.columns)
    if missing:
        raise ValueError(f"scores need columns date, symbol, score; missing {', '.join(sorted(missing))}")
    if scores_df.empty:
        raise ValueError("no scores: an empty frame has no as-of session to build targets for")
    dates = pd.unique(scores_df["date"])
    if len(dates) != 1:
        raise ValueError(f"build takes the scores of ONE session, got {len(dates)} dates (use build_targets)")
    symbols = scores_df["symbol"].astype(str).to_numpy(dtype=object)
    if len(pd.unique(symbols)) != len(symbols):
        raise ValueError("scores name a symbol twice in one session")
    score = scores_df["score"].to_numpy(dtype=np.float64)
    if not np.isfinite(score).all():
        raise ValueError("scores must be finite (no NaN scores, SSOT 7 contract)")
    return calendar.as_date(dates[0], "date"), symbols, score


def _previous_weights(previous: pd.Series | None) -> pd.Series | None:
    """Previous targets as a float Series symbol -> weight (None stays None: no previous book)."""
    if previous is None:
        return None
    prev = pd.Series(previous, dtype=np.float64)
    prev.index = prev.index.astype(str)
    if prev.index.has_duplicates:
        raise ValueError("previous weights name a symbol twice")
    if not np.isfinite(prev.to_numpy()).all():
        raise ValueError("previous weights must be finite")
    return prev[prev != 0.0]


def _returns_window(returns: pd.DataFrame, asof: dt.date, symbols: np.ndarray, lookback: int) -> np.ndarray:
    """Rows of `returns` in the `lookback` XNYS sessions ending at `asof` (never later), columns `symbols`."""
    idx = pd.DatetimeIndex(pd.to_datetime(returns.index))
    if idx.has_duplicates:
        raise ValueError("returns must have one row per session (duplicate dates)")
    sessions = calendar.all_sessions_index()
    end = sessions.searchsorted(pd.Timestamp(asof), side="right") - 1
    start = sessions[max(end - lookback + 1, 0)]
    rows = (idx >= start) & (idx <= pd.Timestamp(asof))
    window = returns.loc[rows]
    window = window.reindex(columns=pd.Index(symbols))
    return window.to_numpy(dtype=np.float64, na_value=np.nan)


def _risk_model(
    returns: pd.DataFrame | None, asof: dt.date, symbols: np.ndarray, cfg: RiskConfig
) -> RiskModel:
    """The shrunk daily covariance over `symbols` from returns up to `asof` (fallback vol without returns)."""
    if returns is None:
        matrix = np.full((0, len(symbols)), np.nan)
    else:
        matrix = _returns_window(returns, asof, symbols, cfg.cov_lookback)
    return shrunk_covariance(
        matrix, target=cfg.shrinkage, min_history=cfg.min_history, fallback_vol=cfg.fallback_vol
    )


def waterfill(strength: np.ndarray, budget: float, cap: float) -> np.ndarray:
    """Positive weights w_i = min(cap, c x strength_i) summing to `budget` (strength > 0, budget <= n x cap).

    The largest names are capped first; the rest share what is left in proportion to their strength,
    so the order of the strengths is kept (higher strength, never lower weight).
    """
    n = strength.size
    if n == 0 or budget <= 0.0:
        return np.zeros(n)
    if budget >= n * cap * (1.0 - BINDING_TOL):
        return np.full(n, min(cap, budget / n))  # every name at the cap (never above it, never over budget)
    order = np.argsort(-strength, kind="stable")
    s = strength[order]
    tail = np.cumsum(s[::-1])[::-1]  # tail[k] = sum of s[k:]
    k = np.arange(n)
    scale = (budget - k * cap) / tail  # the multiplier if the k largest are capped
    fits = scale * s <= cap * (1.0 + BINDING_TOL)
    first = int(np.argmax(fits))  # the fewest capped names that let the rest fit under the cap
    w_sorted = np.where(k < first, cap, np.minimum(cap, scale[first] * s))
    out = np.empty(n)
    out[order] = w_sorted
    return out


def _ex_ante_vol(w: np.ndarray, cov: np.ndarray) -> float:
    """Annualised ex-ante vol sqrt(252 w' Sigma w) of weights `w` under the daily covariance `cov`."""
    return float(np.sqrt(max(float(w @ cov @ w), 0.0) * TRADING_DAYS))


def _vol_scaled(w: np.ndarray, cov: np.ndarray, cfg: RiskConfig) -> np.ndarray:
    """`w` scaled down to the vol target when its ex-ante vol exceeds it (never scaled up)."""
    vol = _ex_ante_vol(w, cov)
    return w * (cfg.vol_target / vol) if vol > cfg.vol_target else w


def _target_weights(score: np.ndarray, model: RiskModel, cfg: RiskConfig) -> tuple[np.ndarray, float, bool]:
    """Capped, vol-targeted, dollar-neutral target weights of the scored names, the Kelly gross and
    whether the Kelly gross (rather than a cap or the names' capacity) set the leg budget."""
    n = score.size
    std = score.std() if n > 1 else 0.0
    if n < 2 or not std > 0.0:
        return np.zeros(n), 0.0, False
    z = (score - score.mean()) / std
    sigma = model.vol
    strength = z / sigma
    long, short = z > 0.0, z < 0.0
    direction = np.zeros(n)
    direction[long] = 0.5 * strength[long] / strength[long].sum()
    direction[short] = 0.5 * strength[short] / -strength[short].sum()
    mu = cfg.edge * sigma * z  # expected next-session simple return of each name
    variance = float(direction @ model.cov @ direction)
    kelly = cfg.kelly_fraction * float(direction @ mu) / variance if variance > 0.0 else 0.0
    limit = min(
        cfg.gross_cap / 2.0,
        cfg.short_gross_cap,
        long.sum() * cfg.per_name_cap,
        short.sum() * cfg.max_short_weight,
    )
    budget = min(kelly / 2.0, limit)
    w = np.zeros(n)
    w[long] = waterfill(strength[long], budget, cfg.per_name_cap)
    w[short] = -waterfill(-strength[short], budget, cfg.max_short_weight)
    return _vol_scaled(w, model.cov, cfg), kelly, kelly / 2.0 < limit


def enforce_limits(w: np.ndarray, cov: np.ndarray, cfg: RiskConfig) -> np.ndarray:
    """`w` made feasible by shrinking only: clip to the per-name caps, scale the larger leg down to the
    smaller (dollar neutrality), both legs down to the short and gross caps, then down to the vol target.

    Each step only scales positions towards 0 and keeps what the earlier steps established; a book
    that already satisfies every limit comes back unchanged.
    """
    w = np.clip(w, -cfg.max_short_weight, cfg.per_name_cap)
    longs, shorts = w[w > 0].sum(), -w[w < 0].sum()
    leg = min(longs, shorts)
    if leg <= 0.0:
        return np.zeros_like(w)
    w = np.where(w > 0, w * (leg / longs), w * (leg / shorts))
    allowed = min(leg, cfg.short_gross_cap, cfg.gross_cap / 2.0)
    if allowed < leg:
        w = w * (allowed / leg)
    return _vol_scaled(w, cov, cfg)


def build(
    scores_df: pd.DataFrame,
    risk_cfg: RiskConfig,
    *,
    returns: pd.DataFrame | None = None,
    previous: pd.Series | None = None,
) -> dict[str, Any]:
    """Target weights of ONE session's scores under `risk_cfg` (SSOT 7 `build`; recipe in the module doc).

    `returns`: wide daily simple returns (index session dates, a column per symbol); only the
    `cov_lookback` sessions ending at the as-of date are read, later rows are ignored. `previous`:
    symbol -> weight of the previous targets; None means there is no previous book (the turnover limit
    does not apply; turnover is then measured from flat), an empty Series a flat book (it does).

    Returns a dict: `asof`, `weights` (Series symbol -> weight over the scored names plus any name
    still held from `previous`), `gross` and `net` (sums of |w| and w), `short_gross`, `ex_ante_vol`
    (annualised), `kelly_scale` (the fractional-Kelly gross before caps), `turnover` (sum |w - previous|),
    `borrow_cost_bps` (annual) and `borrow_cost` (the fee of holding the shorts one session, a fraction
    of capital: short_gross x bps / 1e4 / 252), `shrinkage` (Ledoit-Wolf intensity) and `binding`
    (constraint -> True when the final weights sit on it: per_name_cap, max_short_weight, gross_cap,
    short_gross_cap, vol_target, turnover; kelly when the Kelly gross, not a cap, set the size).
    """
    with _one_blas_thread():
        return _build(scores_df, risk_cfg, returns, previous)


def _build(
    scores_df: pd.DataFrame, risk_cfg: RiskConfig, returns: pd.DataFrame | None, previous: pd.Series | None
) -> dict[str, Any]:
    asof, symbols, score = _session_scores(scores_df)
    prev = _previous_weights(previous)
    held = prev.index.difference(pd.Index(symbols)) if prev is not None else pd.Index([], dtype=object)
    universe = np.concatenate([symbols, held.to_numpy(dtype=object)])
    model = _risk_model(returns, asof, universe, risk_cfg)
    n = symbols.size
    scored = RiskModel(model.cov[:n, :n], model.has_history[:n], model.shrinkage, model.mean_correlation)
    target = np.zeros(universe.size)
    target[:n], kelly, kelly_sized = _target_weights(score, scored, risk_cfg)

    turnover_cut = False
    if prev is None:
        w = target
        base = np.zeros(universe.size)
    else:
        base = prev.reindex(universe, fill_value=0.0).to_numpy(dtype=np.float64)
        feasible = enforce_limits(base, model.cov, risk_cfg)
        forced = float(np.abs(feasible - base).sum())
        step = target - feasible
        wanted = float(np.abs(step).sum())
        room = max(risk_cfg.turnover_limit - forced, 0.0)
        alpha = 1.0 if wanted <= room else room / wanted
        turnover_cut = alpha < 1.0
        w = feasible + alpha * step

    keep = np.arange(universe.size) < n
    keep |= w != 0.0
    index = pd.Index(universe[keep], name="symbol")
    weights = pd.Series(w[keep], index=index, name="weight", dtype=np.float64).sort_index()
    gross = float(np.abs(w).sum())
    short_gross = float(-w[w < 0].sum())
    vol = _ex_ante_vol(w, model.cov)
    turnover = float(np.abs(w - base).sum())
    tol = 1.0 + BINDING_TOL
    binding = {
        "per_name_cap": bool((w * tol >= risk_cfg.per_name_cap).any()),
        "max_short_weight": bool((-w * tol >= risk_cfg.max_short_weight).any()),
        "gross_cap": gross * tol >= risk_cfg.gross_cap,
        "short_gross_cap": short_gross * tol >= risk_cfg.short_gross_cap,
        "vol_target": vol * tol >= risk_cfg.vol_target,
        "turnover": prev is not None and (turnover_cut or turnover > risk_cfg.turnover_limit * tol),
        "kelly": kelly_sized,
    }
    return {
        "asof": asof,
        "weights": weights,
        "gross": gross,
        "net": float(w.sum()),
        "short_gross": short_gross,
        "ex_ante_vol": vol,
        "kelly_scale": float(kelly),
        "turnover": turnover,
        "borrow_cost_bps": float(risk_cfg.borrow_cost_bps),
        "borrow_cost": short_gross * risk_cfg.borrow_cost_bps / 1e4 / TRADING_DAYS,
        "shrinkage": model.shrinkage,
        "binding": binding,
    }


def build_targets(
    scores_long: pd.DataFrame,
    returns_wide: pd.DataFrame | None,
    risk_cfg: RiskConfig,
    *,
    initial: pd.Series | None = None,
) -> pd.DataFrame:
    """Targets `date, symbol, weight` of every session in `scores_long`, in date order (SSOT 7).

    Each session is built by `build` from its own scores, the returns up to and including its own
    date only, and the targets of the session before it (`initial` for the first: None = no previous
    book, an empty Series = start flat under the turnover limit). The loop runs over sessions, not rows.
    """
    missing = {"date", "symbol", "score"} - set(scores_long.columns)
    if missing:
        raise ValueError(f"scores need columns date, symbol, score; missing {', '.join(sorted(missing))}")
    empty = pd.DataFrame(
        {"date": pd.Series(dtype=object), "symbol": pd.Series(dtype=object), "weight": pd.Series(dtype=np.float64)}
    )
    if scores_long.empty:
        return empty
    dates = pd.to_datetime(scores_long["date"])
    if returns_wide is not None:
        as_timestamps = pd.DatetimeIndex(pd.to_datetime(returns_wide.index))
        returns_wide = returns_wide.set_axis(as_timestamps, axis=0).sort_index()
        ret_index = returns_wide.index
    sessions = calendar.all_sessions_index()
    previous = initial
    frames = []
    with _one_blas_thread():  # once for the whole loop, not per session
        for day, rows in scores_long.groupby(dates, sort=True):
            window = None
            if returns_wide is not None:
                end = sessions.searchsorted(day, side="right") - 1
                start = sessions[max(end - risk_cfg.cov_lookback + 1, 0)]
                first, last = ret_index.searchsorted(start, side="left"), ret_index.searchsorted(day, side="right")
                window = returns_wide.iloc[first:last]
            result = _build(rows, risk_cfg, window, previous)
            previous = result["weights"]
            frames.append(
                pd.DataFrame({"date": result["asof"], "symbol": previous.index.to_numpy(), "weight": previous.to_numpy()})
            )
    return pd.concat(frames, ignore_index=True) if frames else empty
