"""Market regimes per session: a point-in-time 2-state Gaussian mixture and the SMA trend regime.

The mixture is refitted at the first session of each calendar month on data strictly before that
session (at most `fit_window` sessions), then classifies the month's sessions; it is never fitted
on the full history, so a regime at t never changes when later data arrive (spec 003 GMM regimes,
issue 11). State 1 is "stress": the component whose market-return variance is higher.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from trademl.features.market_context.session_grid import on_sessions
from trademl.features.market_context.settings import GmmSettings, TrendSettings

STRESS, CALM = 1, 0


def trend_regime(market_close: pd.Series, cfg: TrendSettings | None = None) -> pd.DataFrame:
    """Per session: ctx_trend_regime (+1 close above its SMA over `sma_window` sessions, -1 below,
    0 on it; missing until the window is full) and ctx_trend_gap = close / SMA - 1 (decimal)."""
    cfg = cfg or TrendSettings()
    close = on_sessions(market_close)
    sma = close.rolling(cfg.sma_window, min_periods=cfg.sma_window).mean()
    gap = close / sma - 1.0
    regime = pd.Series(np.sign(gap), index=close.index).astype("Int32")
    return pd.DataFrame({"ctx_trend_regime": regime, "ctx_trend_gap": gap})


def gmm_features(returns: pd.Series, vol_window: int) -> pd.DataFrame:
    """The mixture's inputs per session: the market log return and its trailing std (ddof 1) over
    `vol_window` sessions (per session, not annualised); rows with a missing input are NaN."""
    r = on_sessions(returns)
    vol = r.rolling(vol_window, min_periods=vol_window).std(ddof=1)
    return pd.DataFrame({"ret": r, "vol": vol})


def refit_dates(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The first session of each calendar month in `index` (sorted sessions): the refit schedule."""
    month = index.year * 12 + index.month
    return index[np.r_[True, np.diff(month.to_numpy()) != 0]] if len(index) else index


def _fit_and_classify(train: np.ndarray, apply: np.ndarray, cfg: GmmSettings) -> np.ndarray:
    """Posterior probability of the stress component for `apply`, from a mixture fitted on `train`.

    Inputs are standardised with the training mean and std only; stress = the component with the
    larger variance of the return coordinate.
    """
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    std = np.where(std > 0, std, 1.0)
    gm = GaussianMixture(2, covariance_type="full", n_init=cfg.n_init, random_state=cfg.random_state)
    gm.fit((train - mean) / std)
    stress = int(np.argmax(gm.covariances_[:, 0, 0]))
    return gm.predict_proba((apply - mean) / std)[:, stress]


def gmm_regime(returns: pd.Series, cfg: GmmSettings | None = None) -> pd.DataFrame:
    """Per session: ctx_gmm_prob_stress (posterior of the stress state) and ctx_gmm_state (1 stress,
    0 calm): the raw state (prob > 0.5) smoothed by a trailing rolling mode over `hysteresis`
    sessions (a tie keeps the session's raw state).

    `returns` are daily market log returns indexed by session. At each month's first session d the
    mixture is refitted on the feature rows of the last `fit_window` sessions strictly before d
    (none while fewer than `min_fit_sessions` exist) and classifies every session of d's month.
    One fit per month (a loop over months, vectorised within).
    """
    cfg = cfg or GmmSettings()
    feats = gmm_features(returns, cfg.vol_window)
    valid = feats.notna().all(axis=1).to_numpy()
    x = feats.to_numpy()
    idx = feats.index
    prob = np.full(len(idx), np.nan)
    starts = idx.searchsorted(refit_dates(idx))
    ends = np.r_[starts[1:], len(idx)]
    valid_pos = np.flatnonzero(valid)
    # One BLAS/OpenMP thread: on 2-dimensional data thread start-up costs ~20x the fit itself.
    with threadpool_limits(1):
        for s0, s1 in zip(starts, ends):
            train_pos = valid_pos[valid_pos < s0][-cfg.fit_window:]
            apply_pos = valid_pos[(valid_pos >= s0) & (valid_pos < s1)]
            if len(train_pos) < cfg.min_fit_sessions or len(apply_pos) == 0:
                continue
            prob[apply_pos] = _fit_and_classify(x[train_pos], x[apply_pos], cfg)
    p = pd.Series(prob, index=idx)
    raw = (p > 0.5).astype("float64").where(p.notna())
    share = raw.rolling(cfg.hysteresis, min_periods=cfg.hysteresis).mean()
    state = np.where(share > 0.5, STRESS, np.where(share < 0.5, CALM, raw))
    state = pd.Series(state, index=idx).where(share.notna()).astype("Int32")
    return pd.DataFrame({"ctx_gmm_state": state, "ctx_gmm_prob_stress": p})
