"""FRED-style macro series with release calendars and revisions, stored ALFRED-style by vintage.

A row is what was published on `vintage_date` (ALFRED realtime_start): the first release of a new
observation, or a revised value of an older one. Release dates follow each series' calendar and,
like real ones, can fall on a weekend or an exchange holiday (the employment report on Good
Friday); ``date`` is the first XNYS session on or after the vintage, when the market can act on it
(the partition), while ``vintage_date`` keeps the true release day.

- DGS10 (percent, daily): observation = each session, published the next session, never revised.
- DGS3MO (percent, daily): the 3-month bill yield, an Ornstein-Uhlenbeck path around 2 %, published
  like DGS10 (next session, never revised).
- VIXCLS (index points, daily, from the market's origin): the market's own volatility index,
  100 x sqrt(252 h_m,t+1) x exp(0.02 noise) with h_m,t+1 the market factor's GARCH variance for the
  next session (known at t's close, market.py); published the next session like FRED's VIXCLS, never
  revised.
- UNRATE (percent, monthly): first Friday of the following month (Good Friday included); revised
  once, in the next release.
- CPIAUCSL (index 1982-84=100, monthly): the 12th of the following month, whatever the weekday;
  revised once, in the next release.
- GDP (billions of USD, SAAR, quarterly): advance 28 days after the quarter, second and third
  estimates one and two months later, each revising the same observation.

The latent "true" paths start `history_years` before the origin and are drawn from fixed-length
seeded vectors, so every value is independent of the requested range.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from trademl import calendar
from trademl.data.connectors.synthetic.config import MarketParams
from trademl.data.connectors.synthetic.market import SESSIONS_PER_YEAR
from trademl.data.connectors.synthetic.streams import Stream, generator, session_draws
from trademl.data.connectors.synthetic.timeline import Timeline

VIX_NOISE_SD = 0.02  # log-scale noise of the volatility index around the model's volatility

_SERIES_CODE = {"DGS10": 1, "UNRATE": 2, "CPIAUCSL": 3, "GDP": 4, "VIXCLS": 5, "DGS3MO": 6}
_MAX_PERIODS = 4096  # fixed draw length per series, far beyond any calendar horizon


def _draws(seed: int, series: str, n: int) -> np.ndarray:
    """(n x 3) normals of one series: latent shock, first-release noise, second-release noise."""
    if n > _MAX_PERIODS:
        raise ValueError(f"macro history of {n} periods exceeds {_MAX_PERIODS}")
    return generator(seed, Stream.MACRO, _SERIES_CODE[series]).standard_normal((_MAX_PERIODS, 3))[:n]


def _first_friday(months: pd.DatetimeIndex) -> pd.DatetimeIndex:
    offset = (4 - months.weekday) % 7
    return months + pd.to_timedelta(offset, unit="D")


def _frame(series: str, obs: pd.DatetimeIndex, value: np.ndarray, vintage: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": calendar.sessions_on_or_after(vintage), "series_id": series, "observation_date": obs, "value": value,
         "vintage_date": vintage}
    )


def market_variance(seed: int, origin: dt.date, market: MarketParams) -> pd.Series:
    """The market factor's conditional daily variance h_m,t on every session of the timeline from `origin`.

    The GARCH(1,1) of market.py, h_m,0 = h_bar and h_m,t+1 = omega + (alpha z_m,t^2 + beta) h_m,t,
    on the same MARKET draws, solved as a linear recurrence in closed form (cumulative log
    products; no loop over sessions). Per-session variance of log returns, not annualised.
    """
    timeline = Timeline.build(origin)
    z = session_draws(seed, Stream.MARKET, timeline.year, timeline.pos_in_year, 1)[:, 0]
    h_bar = market.market_vol**2 / SESSIONS_PER_YEAR
    omega = h_bar * (1.0 - market.market_garch_alpha - market.market_garch_beta)
    a = market.market_garch_alpha * z[:-1] ** 2 + market.market_garch_beta  # h_t+1 = a_t h_t + omega
    log_p = np.r_[0.0, np.cumsum(np.log(a))]  # log prod_{s<t} a_s
    h = np.exp(log_p) * (h_bar + omega * np.r_[0.0, np.cumsum(np.exp(-log_p[1:]))])
    return pd.Series(h, index=timeline.sessions, name="h_m")


def volatility_index(seed: int, origin: dt.date, market: MarketParams) -> pd.Series:
    """The synthetic VIX per session t: 100 x sqrt(252 h_m,t+1) x exp(0.02 eps_t), rounded to cents.

    h_m,t+1 is the variance of the next session's market return, known once session t's shock is
    realised (at t's close); the last session of the calendar has no next variance and is omitted.
    """
    h = market_variance(seed, origin, market)
    nxt = h.to_numpy()[1:]
    timeline = Timeline.build(origin)
    # Noise addressed by (year, session in year) like the market's draws: no length limit, and the
    # same session gets the same noise whatever the origin.
    noise = session_draws(seed, Stream.MACRO, timeline.year[:-1], timeline.pos_in_year[:-1], 1)[:, 0]
    vix = 100.0 * np.sqrt(SESSIONS_PER_YEAR * nxt) * np.exp(VIX_NOISE_SD * noise)
    return pd.Series(np.round(vix, 2), index=h.index[:-1], name="VIXCLS")


@lru_cache(maxsize=8)
def vintages(seed: int, start_year: int, origin: dt.date | None = None, market: MarketParams | None = None) -> pd.DataFrame:
    """Every published vintage row of the series (observations from Jan 1 of `start_year`), by session.

    VIXCLS needs the market (its `origin` and return parameters); without `origin` it is omitted.
    """
    all_sessions = calendar.all_sessions_index()
    last = all_sessions[-1]
    start = pd.Timestamp(dt.date(start_year, 1, 1))
    frames = []

    # DGS10: Ornstein-Uhlenbeck around 3 %, published the next session.
    obs = all_sessions[(all_sessions >= start) & (all_sessions < last)]
    z = _draws(seed, "DGS10", len(obs))
    level = 3.0 + lfilter([0.06], [1.0, -0.998], z[:, 0], zi=[(2.4 - 3.0) * 0.998])[0]
    nxt = all_sessions[all_sessions.searchsorted(obs, side="right")]
    frames.append(_frame("DGS10", obs, np.round(np.maximum(level, 0.05), 2), nxt))

    # DGS3MO: Ornstein-Uhlenbeck around 2 %, faster and calmer than DGS10; published the next session.
    z = _draws(seed, "DGS3MO", len(obs))
    level = 2.0 + lfilter([0.04], [1.0, -0.995], z[:, 0], zi=[(1.5 - 2.0) * 0.995])[0]
    frames.append(_frame("DGS3MO", obs, np.round(np.maximum(level, 0.01), 2), nxt))

    if origin is not None:
        vix = volatility_index(seed, origin, market or MarketParams())
        vix = vix[vix.index < last]
        published = all_sessions[all_sessions.searchsorted(vix.index, side="right")]
        frames.append(_frame("VIXCLS", pd.DatetimeIndex(vix.index), vix.to_numpy(), published))

    months = pd.date_range(start, last, freq="MS")
    # UNRATE: AR(1) around 4.5 %, first print noisy, next month's release prints the revised value.
    z = _draws(seed, "UNRATE", len(months))
    true = 4.5 + lfilter([0.12], [1.0, -0.97], z[:, 0], zi=[0.3 * 0.97])[0]
    rel1 = _first_friday(months + pd.DateOffset(months=1))
    rel2 = _first_friday(months + pd.DateOffset(months=2))
    first, second = np.round(true + 0.08 * z[:, 1], 1), np.round(true, 1)
    frames += _releases("UNRATE", months, [(first, rel1), (second, rel2)])

    # CPIAUCSL: index with ~2.5 % a year inflation; revised once by the next release.
    z = _draws(seed, "CPIAUCSL", len(months))
    log_index = np.log(250.0) + np.cumsum(0.002 + 0.0015 * z[:, 0])
    true = np.exp(log_index)
    rel1 = months + pd.DateOffset(months=1, days=11)
    rel2 = months + pd.DateOffset(months=2, days=11)
    first, second = np.round(true * (1 + 0.0005 * z[:, 1]), 3), np.round(true, 3)
    frames += _releases("CPIAUCSL", months, [(first, rel1), (second, rel2)])

    # GDP: ~2 % real + inflation a year; advance, second and third estimates.
    quarters = pd.date_range(start, last, freq="QS")
    z = _draws(seed, "GDP", len(quarters))
    true = 20_000.0 * np.exp(np.cumsum(0.012 + 0.006 * z[:, 0]))
    q_end = quarters + pd.DateOffset(months=3)
    rels = [q_end + pd.DateOffset(months=m, days=27) for m in (0, 1, 2)]
    estimates = [np.round(true * (1 + 0.004 * z[:, 1]), 3), np.round(true * (1 + 0.0015 * z[:, 2]), 3), np.round(true, 3)]
    frames += _releases("GDP", quarters, list(zip(estimates, rels)))

    out = pd.concat(frames, ignore_index=True)
    out = out[out["date"].notna()]  # released after the calendar's last session: not actionable yet
    return out.sort_values(["date", "series_id", "observation_date", "vintage_date"], kind="stable").reset_index(drop=True)


def _releases(series: str, obs: pd.DatetimeIndex, releases: list[tuple[np.ndarray, pd.DatetimeIndex]]) -> list[pd.DataFrame]:
    """Vintage rows for successive releases; a later release appears only where the value changed."""
    out = []
    previous = None
    for value, vintage in releases:
        keep = np.ones(len(obs), dtype=bool) if previous is None else value != previous
        out.append(_frame(series, obs[keep], value[keep], vintage[keep]))
        previous = value
    return out
