"""The symbols of the synthetic market and their static traits: sector, factor loadings, size, liquidity,
dividend policy, listing and delisting dates.

Each symbol's traits come from its own random stream (STATIC, entity = symbol index), so they do
not depend on how many symbols the market has. Tickers are ``SYN001``, ``SYN002``, ... (four digits
beyond 999) so they can never be mistaken for real listings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from trademl import calendar
from trademl.data.connectors.synthetic.config import SyntheticConfig
from trademl.data.connectors.synthetic.streams import Stream, generator
from trademl.data.connectors.synthetic.timeline import Timeline
from trademl.schemas import GICS_SECTORS

SECTORS: tuple[str, ...] = GICS_SECTORS  # one sector list: the schema's (features/equities_xs dummies)
DELIST_REASONS: tuple[str, ...] = ("ACQUIRED", "BANKRUPTCY", "DEREGISTERED")
_N_TRAITS = 18
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Roster:
    """Per-symbol static traits; arrays are indexed by symbol index (0..n_symbols-1)."""

    symbols: np.ndarray  # object array of tickers
    sector_code: np.ndarray  # int index into SECTORS
    beta: np.ndarray  # market loading
    sector_loading: np.ndarray
    idio_var: np.ndarray  # long-run idiosyncratic variance per session
    offer_price: np.ndarray  # price before the first simulated session (IPO offer or pre-origin close)
    shares: np.ndarray  # shares outstanding at the first simulated session
    turnover: np.ndarray  # typical fraction of market value traded per session
    dividend_yield: np.ndarray  # annual cash yield, 0 for non-payers
    dividend_phase: np.ndarray  # pays in months with month_number % 3 == phase
    dividend_offset: np.ndarray  # ex-date = first session of the month + offset sessions
    trade_size: np.ndarray  # average shares per trade
    listed_date: pd.DatetimeIndex
    delist_date: pd.DatetimeIndex  # NaT when the symbol stays listed through the horizon
    delist_reason: np.ndarray  # object, None when not delisted
    first_index: np.ndarray  # first session index with a bar (len(timeline) when never listed in the horizon)
    end_index: np.ndarray  # exclusive: index of delist_date, or len(timeline)
    is_ipo: np.ndarray

    def __len__(self) -> int:
        return len(self.symbols)

    def index_of(self, symbols: list[str] | tuple[str, ...] | np.ndarray) -> np.ndarray:
        """Indices of `symbols` in the roster (-1 for symbols this market does not list)."""
        lookup = pd.Index(self.symbols)
        return lookup.get_indexer(pd.Index(list(symbols), dtype=object))

    def active(self, n_sessions: int) -> np.ndarray:
        """(sessions x symbols) mask of sessions with a bar: first_index <= t < end_index."""
        t = np.arange(n_sessions)[:, None]
        return (t >= self.first_index[None, :]) & (t < self.end_index[None, :])

    def frame(self) -> pd.DataFrame:
        """The static traits as a table (ground truth for tests and notebooks)."""
        return pd.DataFrame(
            {
                "symbol": self.symbols,
                "sector": np.asarray(SECTORS, dtype=object)[self.sector_code],
                "beta": self.beta,
                "sector_loading": self.sector_loading,
                "idio_vol_annual": np.sqrt(self.idio_var * 252.0),
                "offer_price": self.offer_price,
                "shares": self.shares,
                "turnover": self.turnover,
                "dividend_yield": self.dividend_yield,
                "trade_size": self.trade_size,
                "listed_date": self.listed_date,
                "delist_date": self.delist_date,
                "delist_reason": self.delist_reason,
                "is_ipo": self.is_ipo,
            }
        )


def tickers(n: int) -> np.ndarray:
    """SYN001 .. SYNnnn (zero-padded to 3 digits, 4 beyond 999)."""
    width = 3 if n <= 999 else 4
    return np.array([f"SYN{i + 1:0{width}d}" for i in range(n)], dtype=object)


def build_roster(config: SyntheticConfig, timeline: Timeline) -> Roster:
    """Draw every symbol's traits and lifecycle from its own stream; see the module docstring."""
    n = config.n_symbols
    u = np.empty((n, _N_TRAITS))
    for j in range(n):  # one small generator per symbol keeps traits independent of n_symbols
        u[j] = generator(config.seed, Stream.STATIC, j).random(_N_TRAITS)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    z = ndtri(u)
    life = config.lifecycle
    corp = config.corporate
    idx = np.arange(n)
    mutable = idx >= life.stable_symbols
    is_ipo = mutable & (u[:, 12] < life.ipo_fraction)
    delists = mutable & (u[:, 14] < life.delist_fraction)

    market_value = np.clip(np.exp(np.log(5e9) + 1.3 * z[:, 4]), 1e8, 2e12)
    seasoned_price = np.clip(np.exp(np.log(40.0) + 0.8 * z[:, 5]), 2.0, 900.0)
    offer_price = np.where(is_ipo, np.round(10.0 + 30.0 * u[:, 5]), np.round(seasoned_price, 2))
    payer = u[:, 7] < corp.dividend_payer_fraction * np.where(is_ipo, 0.5, 1.0)

    origin = timeline.first.to_datetime64()
    n_sessions = len(timeline)
    span_days = life.lifecycle_years * _DAYS_PER_YEAR
    ipo_day = origin + np.round(u[:, 13] * span_days).astype("timedelta64[D]")
    seasoned_day = origin - np.round((1.0 + 24.0 * u[:, 17]) * _DAYS_PER_YEAR).astype("timedelta64[D]")
    seasoned_day = np.maximum(seasoned_day, np.datetime64("1990-01-02"))
    first_index = np.where(is_ipo, timeline.index_on_or_after(ipo_day), 0)
    listed_date = np.where(
        is_ipo, timeline.sessions.to_numpy()[np.minimum(first_index, n_sessions - 1)], _roll_to_session(seasoned_day)
    ).astype("datetime64[ns]")

    start_day = np.maximum(listed_date, origin) + np.timedelta64(120, "D")
    horizon_end = origin + np.timedelta64(int(round(span_days)), "D")
    window = np.maximum((horizon_end - start_day) / np.timedelta64(1, "D"), 365.0)
    delist_day = start_day + np.round(u[:, 15] * window).astype("timedelta64[D]")
    delist_index = timeline.index_on_or_after(delist_day)
    end_index = np.where(delists & (delist_index < n_sessions), delist_index, n_sessions)
    end_index = np.maximum(end_index, np.minimum(first_index + 1, n_sessions))
    has_delist = end_index < n_sessions
    delist_date = pd.DatetimeIndex(
        np.where(has_delist, timeline.sessions.to_numpy()[np.minimum(end_index, n_sessions - 1)], np.datetime64("NaT"))
    )
    reason_code = np.minimum((u[:, 16] * len(DELIST_REASONS)).astype(int), len(DELIST_REASONS) - 1)
    delist_reason = np.where(has_delist, np.asarray(DELIST_REASONS, dtype=object)[reason_code], None)
    listed_in_horizon = first_index < n_sessions
    listed_date = pd.DatetimeIndex(np.where(listed_in_horizon, listed_date, np.datetime64("NaT")))

    idio_vol = np.clip(config.market.idio_vol_median * np.exp(0.35 * z[:, 3]), 0.08, 1.2)
    return Roster(
        symbols=tickers(n),
        sector_code=np.minimum((u[:, 0] * len(SECTORS)).astype(int), len(SECTORS) - 1),
        beta=np.clip(1.0 + 0.25 * z[:, 1], 0.3, 2.2),
        sector_loading=np.clip(1.0 + 0.2 * z[:, 2], 0.4, 1.8),
        idio_var=idio_vol**2 / 252.0,
        offer_price=offer_price,
        shares=np.round(market_value / offer_price, -3),
        turnover=np.clip(np.exp(np.log(0.006) + 0.5 * z[:, 6]), 5e-4, 0.05),
        dividend_yield=np.where(payer, 0.005 + 0.035 * u[:, 8], 0.0),
        dividend_phase=np.minimum((u[:, 9] * 3).astype(int), 2),
        dividend_offset=3 + np.minimum((u[:, 10] * 10).astype(int), 9),
        trade_size=np.clip(np.exp(np.log(150.0) + 0.4 * z[:, 11]), 50.0, 1000.0),
        listed_date=listed_date,
        delist_date=delist_date,
        delist_reason=delist_reason,
        first_index=first_index.astype(np.int64),
        end_index=end_index.astype(np.int64),
        is_ipo=is_ipo,
    )


def _roll_to_session(days: np.ndarray) -> np.ndarray:
    """Each date rolled forward to the first XNYS session on or after it."""
    all_sessions = calendar.all_sessions_index()
    pos = np.minimum(all_sessions.searchsorted(pd.DatetimeIndex(days)), len(all_sessions) - 1)
    return all_sessions.to_numpy()[pos]
