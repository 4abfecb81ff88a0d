"""Daily price paths of the synthetic market: factor returns, clustered volatility, splits, dividends, a planted signal.

Model (per session t, per symbol i, log returns close-to-close):

    r_i,t = beta_i * r_m,t + s_i * f_sector(i),t + e_i,t - h_i,t / 2
    r_m,t = mu_m - h_m,t / 2 + sqrt(h_m,t) z_m,t          market factor, GARCH(1,1) variance h_m
    f_k,t = sigma_sector * sqrt(h_m,t / h_m_bar) z_k,t    sector factors share the market's volatility regime
    e_i,t = sqrt(h_i,t) z_i,t                              idiosyncratic, GARCH(1,1) variance h_i

Prices are as-traded (raw): on a split ex-date the previous close is divided by the ratio (new shares
per old), on a dividend ex-date the dividend is subtracted, so the raw bars jump and the total-return
path does not. Splits are triggered by the previous close crossing configured price levels.

The planted signal: with strength s != 0 the standardised returns r_t / sqrt(h_t) are re-ordered
among the symbols (each symbol keeps its own conditional volatility, and the session's set of
standardised returns is unchanged) so that the rank correlation between the trailing
`signal_lookback`-session return ending at close t-1 and r_t is s in expectation (Gaussian copula:
Pearson rho = 2 sin(pi s / 6) between Gaussian scores of the two rankings; `plant_signal`). A feature
computed from past bars alone therefore predicts next-session cross-sectional returns with rank IC ~= s.
Re-ordering the raw returns instead would let the high-volatility names be extreme in both rankings at
once, which the copula does not allow for: the realised rank IC was 0.93 s (benchmarks/sections/training.md).

The simulation is causal and runs on the fixed session axis from the origin, so a session's values
never depend on how far it was simulated or on which range a request asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trademl.data.connectors.synthetic.config import SyntheticConfig
from trademl.data.connectors.synthetic.roster import SECTORS, Roster
from trademl.data.connectors.synthetic.streams import Stream, session_draws
from trademl.data.connectors.synthetic.timeline import Timeline

SESSIONS_PER_YEAR = 252.0
PRICE_DECIMALS = 4


@dataclass(frozen=True)
class DailyPanel:
    """(sessions x symbols) arrays of the simulated history for sessions [0, n_sessions) of the timeline.

    Prices are as-traded and unrounded; `active` marks sessions with a bar. `ratio` is the split
    ratio whose ex-date is the session (1 = none), `dividend` the cash amount going ex (0 = none).
    `h_total` is the conditional daily variance of the symbol's log return for that session and
    `log_return` the realised total (dividend- and split-neutral) log return close(t-1) -> close(t).
    """

    active: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    prev_close_adj: np.ndarray  # previous close after split/dividend adjustment (the open's reference)
    vwap: np.ndarray
    volume: np.ndarray  # int64 shares
    trades: np.ndarray  # int64
    spread: np.ndarray  # average quoted NBBO spread, USD
    ratio: np.ndarray
    dividend: np.ndarray
    shares: np.ndarray  # shares outstanding (as-traded units)
    h_total: np.ndarray
    log_return: np.ndarray

    @property
    def n_sessions(self) -> int:
        return self.close.shape[0]


def _dividend_ex_mask(config: SyntheticConfig, timeline: Timeline, roster: Roster, n: int) -> np.ndarray:
    """(n x symbols) True on each payer's quarterly ex-dates: month % 3 == phase, first session + offset."""
    starts = timeline.month_starts()
    starts = starts[starts < n]
    months = timeline.sessions.month.to_numpy()[starts]
    month_end = np.r_[starts[1:], min(n, len(timeline))] if len(starts) else starts
    mask = np.zeros((n, len(roster)), dtype=bool)
    payer = roster.dividend_yield > 0
    for s0, s1, month in zip(starts, month_end, months):  # one vector step per month (~12 a year)
        ex = s0 + roster.dividend_offset
        hit = payer & (month % 3 == roster.dividend_phase) & (ex < s1) & (ex < n)
        mask[ex[hit], np.flatnonzero(hit)] = True
    return mask


def _ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks of `values` (ties broken by position)."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    return ranks


def _gaussian_scores(values: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """iid standard normals re-ordered to have the ranks of `values` (a Gaussian copula sample).

    Random (not fixed van der Waerden) scores keep the Gaussian relation between Pearson rho and
    Spearman's rank correlation exact; fixed scores understate it by about 10 %.
    """
    return np.sort(normals)[_ranks(values)]


def plant_signal(
    trailing: np.ndarray, returns: np.ndarray, sd: np.ndarray, feature_normals: np.ndarray, return_normals: np.ndarray, rho: float
) -> np.ndarray:
    """`returns` of one session re-assigned among its names so that Spearman(trailing, result) ~= the
    strength whose copula correlation is `rho`: the standardised returns `returns / sd` are permuted by the
    ranks of v = rho G(trailing) + sqrt(1 - rho^2) G(returns / sd) and each name's `sd` is put back.

    `sd` is each name's conditional daily standard deviation; the two `normals` are iid N(0, 1) draws
    (the Gaussian scores' values). All arrays have one entry per eligible name.
    """
    z = returns / sd
    v = rho * _gaussian_scores(trailing, feature_normals) + np.sqrt(1.0 - rho * rho) * _gaussian_scores(z, return_normals)
    return sd * np.sort(z)[_ranks(v)]


def simulate_daily(config: SyntheticConfig, timeline: Timeline, roster: Roster, n_sessions: int) -> DailyPanel:
    """Simulate sessions [0, n_sessions) of the timeline for every symbol of the roster."""
    if not 0 < n_sessions <= len(timeline):
        raise ValueError(f"n_sessions must be in 1..{len(timeline)}, got {n_sessions}")
    T, N = n_sessions, len(roster)
    mp, corp, seed = config.market, config.corporate, config.seed
    years, pos = timeline.year[:T], timeline.pos_in_year[:T]
    z_m = session_draws(seed, Stream.MARKET, years, pos, 1)[:, 0]
    z_s = session_draws(seed, Stream.SECTOR, years, pos, len(SECTORS))
    z_i = session_draws(seed, Stream.IDIO, years, pos, N)
    if config.signal_strength != 0.0:
        g_feat = session_draws(seed, Stream.SIGNAL_FEATURE, years, pos, N)
        g_ret = session_draws(seed, Stream.SIGNAL_RETURN, years, pos, N)
    active = roster.active(T)
    ex_div = _dividend_ex_mask(config, timeline, roster, T)

    hm_bar = mp.market_vol**2 / SESSIONS_PER_YEAR
    omega_m = hm_bar * (1.0 - mp.market_garch_alpha - mp.market_garch_beta)
    omega_i = roster.idio_var * (1.0 - mp.garch_alpha - mp.garch_beta)
    mu_m = mp.market_drift / SESSIONS_PER_YEAR
    sec_sd = mp.sector_vol / np.sqrt(SESSIONS_PER_YEAR)
    beta, sload, sector = roster.beta, roster.sector_loading, roster.sector_code
    lookback = config.signal_lookback
    strength = config.signal_strength
    rho = 2.0 * np.sin(np.pi * strength / 6.0)

    log_ret = np.zeros((T, N))
    cum = np.zeros((T, N))  # cumulative total log return, for the trailing-return signal
    h_tot = np.zeros((T, N))
    close = np.zeros((T, N))
    base = np.zeros((T, N))
    ratio = np.ones((T, N))
    dividend = np.zeros((T, N))

    hm, hi = hm_bar, roster.idio_var.copy()
    price = roster.offer_price.astype(float).copy()
    pending_ratio = np.ones(N)
    prev_active = active[0].copy()
    prev_cum = np.zeros(N)
    for t in range(T):
        act = active[t]
        vol_scale2 = hm / hm_bar
        sm = np.sqrt(hm)
        r_m = mu_m - 0.5 * hm + sm * z_m[t]
        f = sec_sd * np.sqrt(vol_scale2) * z_s[t]
        e = np.sqrt(hi) * z_i[t]
        r = beta * r_m + sload * f[sector] + e - 0.5 * hi
        h_tot[t] = beta * beta * hm + sload * sload * sec_sd * sec_sd * vol_scale2 + hi
        if strength != 0.0 and t > lookback:
            elig = np.flatnonzero(act & (t - roster.first_index > lookback))
            if len(elig) >= 3:
                trailing = cum[t - 1, elig] - cum[t - 1 - lookback, elig]
                r[elig] = plant_signal(trailing, r[elig], np.sqrt(h_tot[t, elig]), g_feat[t, elig], g_ret[t, elig], rho)
        hm = omega_m + mp.market_garch_alpha * hm * z_m[t] ** 2 + mp.market_garch_beta * hm
        hi = omega_i + mp.garch_alpha * e * e + mp.garch_beta * hi

        cont = act & prev_active  # listed yesterday and today: corporate actions may go ex
        rt = np.where(cont, pending_ratio, 1.0)
        div = np.where(cont & ex_div[t], np.minimum(np.round(roster.dividend_yield / 4.0 * price, 2), 0.1 * price), 0.0)
        ref = price / rt - div
        new_price = ref * np.exp(r)
        price = np.where(act, new_price, price)
        cur_cum = np.where(act, prev_cum + r, prev_cum)
        log_ret[t] = np.where(act, r, 0.0)
        cum[t] = cur_cum
        close[t], base[t], ratio[t], dividend[t] = price, ref, rt, div
        forward = np.maximum(2.0, np.round(price / corp.split_target))
        pending_ratio = np.where(price > corp.split_above, forward, np.where(price < corp.reverse_split_below, 0.1, 1.0))
        prev_active, prev_cum = act, cur_cum
    return _bars(config, timeline, roster, active, close, base, ratio, dividend, h_tot, log_ret)


def _bars(
    config: SyntheticConfig,
    timeline: Timeline,
    roster: Roster,
    active: np.ndarray,
    close: np.ndarray,
    base: np.ndarray,
    ratio: np.ndarray,
    dividend: np.ndarray,
    h_tot: np.ndarray,
    log_ret: np.ndarray,
) -> DailyPanel:
    """Open/high/low/volume/spread/trades around the simulated closes (vectorised over the whole panel)."""
    T, N = close.shape
    seed = config.seed
    years, pos = timeline.year[:T], timeline.pos_in_year[:T]
    lam = config.market.overnight_share
    eta = session_draws(seed, Stream.OVERNIGHT, years, pos, N)
    u_hi = session_draws(seed, Stream.HIGH, years, pos, N, kind="uniform")
    u_lo = session_draws(seed, Stream.LOW, years, pos, N, kind="uniform")
    z_v = session_draws(seed, Stream.VOLUME, years, pos, N)
    z_sp = session_draws(seed, Stream.SPREAD, years, pos, N)
    z_tr = session_draws(seed, Stream.TRADES, years, pos, N)

    # Brownian bridge: the open sits at fraction `lam` of the day's variance between the two closes.
    gap = lam * log_ret + np.sqrt(lam * (1.0 - lam) * h_tot) * eta
    d = log_ret - gap  # log(close / open)
    v_intra = (1.0 - lam) * h_tot
    up = 0.5 * (d + np.sqrt(d * d - 2.0 * v_intra * np.log(np.clip(u_hi, 1e-300, 1.0))))
    down = 0.5 * (d - np.sqrt(d * d - 2.0 * v_intra * np.log(np.clip(u_lo, 1e-300, 1.0))))
    open_ = base * np.exp(gap)
    high = open_ * np.exp(up)
    low = open_ * np.exp(down)
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    vwap = (high + low + close) / 3.0

    shares = roster.shares[None, :] * np.cumprod(ratio, axis=0)
    surprise = np.abs(log_ret) / np.sqrt(np.maximum(h_tot, 1e-12))
    volume = shares * roster.turnover[None, :] * np.exp(0.4 * z_v - 0.08) * (0.6 + 0.5 * surprise)
    volume = np.where(active, np.maximum(np.round(volume), 100.0), 0.0).astype(np.int64)
    mcap = shares * close
    rel_spread = np.clip(
        4e-4 * (5e9 / np.maximum(mcap, 1e6)) ** 0.3 * np.sqrt(h_tot / np.maximum(roster.idio_var, 1e-12)) ** 0.5
        * np.exp(0.2 * z_sp),
        1e-4,
        0.05,
    )
    tick = np.where(close >= 1.0, 0.01, 0.0001)
    spread = np.maximum(np.round(close * rel_spread, PRICE_DECIMALS), tick)
    trades = np.maximum(np.round(volume / roster.trade_size[None, :] * np.exp(0.15 * z_tr - 0.011)), 1.0)
    trades = np.where(active, trades, 0.0).astype(np.int64)
    return DailyPanel(
        active=active,
        open=open_,
        high=high,
        low=low,
        close=close,
        prev_close_adj=base,
        vwap=vwap,
        volume=volume,
        trades=trades,
        spread=spread,
        ratio=ratio,
        dividend=dividend,
        shares=shares,
        h_total=h_tot,
        log_return=log_ret,
    )
