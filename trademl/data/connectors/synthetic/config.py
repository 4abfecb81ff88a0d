"""Configuration of the embedded synthetic market: one validated model, loaded from configs/synthetic.yml.

Every number that shapes the simulated world lives here (seed, universe size, the origin of the
price paths, volatility and lifecycle parameters, the planted signal, minute gaps, option chains,
macro series and vendor outages). Annual figures are annualised decimals (0.16 = 16 % a year);
the simulator converts them to per-session values with 252 sessions a year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trademl.config import deep_merge, load_config
from trademl.schemas import DATASET_TABLES

MACRO_SERIES: tuple[str, ...] = ("DGS10", "UNRATE", "CPIAUCSL", "GDP", "DGS3MO", "VIXCLS")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutageSpec(_Strict):
    """A vendor outage: which (session, symbol) pairs it withholds and how many requests it lasts.

    Sessions are chosen by exactly one of: a closed range (`start`, `end`), an explicit list
    (`sessions`) or a per-session probability (`probability`, a random but seeded schedule).
    Symbols are an explicit list or a seeded fraction of the symbols (per session). Each
    (outage, session) pair fails the first `failures` requests that touch it, then recovers.
    `mode="omit"` leaves the rows out and reports the session in FetchResult.failed_sessions;
    `mode="error"` makes the whole request raise VendorUnavailable instead.
    """

    name: str = Field(min_length=1)
    datasets: tuple[str, ...] = Field(min_length=1)
    start: dt.date | None = None
    end: dt.date | None = None
    sessions: tuple[dt.date, ...] | None = None
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    symbols: tuple[str, ...] | None = None
    symbol_fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    failures: int = Field(default=1, ge=1)
    mode: Literal["omit", "error"] = "omit"

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(DATASET_TABLES))
        if unknown:
            raise ValueError(f"unknown datasets {unknown}; known: {sorted(DATASET_TABLES)}")
        return value

    @model_validator(mode="after")
    def _one_session_rule(self) -> OutageSpec:
        ranged = self.start is not None or self.end is not None
        rules = sum([ranged, self.sessions is not None, self.probability is not None])
        if rules != 1:
            raise ValueError(
                f"outage {self.name!r} must choose its sessions by exactly one of start/end, sessions or probability"
            )
        if ranged and (self.start is None or self.end is None):
            raise ValueError(f"outage {self.name!r} needs both start and end")
        if ranged and self.end < self.start:  # type: ignore[operator]
            raise ValueError(f"outage {self.name!r}: end {self.end} is before start {self.start}")
        return self


class MarketParams(_Strict):
    """Return model: market GARCH(1,1), sector factors, idiosyncratic GARCH(1,1) (annualised inputs)."""

    market_vol: float = Field(default=0.16, gt=0.0, lt=2.0)
    market_drift: float = Field(default=0.07, gt=-1.0, lt=1.0)
    market_garch_alpha: float = Field(default=0.08, ge=0.0, lt=1.0)
    market_garch_beta: float = Field(default=0.90, ge=0.0, lt=1.0)
    sector_vol: float = Field(default=0.10, ge=0.0, lt=2.0)
    idio_vol_median: float = Field(default=0.25, gt=0.0, lt=3.0)
    garch_alpha: float = Field(default=0.06, ge=0.0, lt=1.0)
    garch_beta: float = Field(default=0.92, ge=0.0, lt=1.0)
    overnight_share: float = Field(default=0.25, gt=0.0, lt=1.0)  # share of daily variance earned overnight

    @model_validator(mode="after")
    def _stationary(self) -> MarketParams:
        if self.market_garch_alpha + self.market_garch_beta >= 1.0 or self.garch_alpha + self.garch_beta >= 1.0:
            raise ValueError("GARCH alpha + beta must be below 1 (covariance-stationary volatility)")
        return self


class LifecycleParams(_Strict):
    """IPOs and delistings, spread uniformly over [origin, origin + lifecycle_years]."""

    ipo_fraction: float = Field(default=0.10, ge=0.0, le=1.0)
    delist_fraction: float = Field(default=0.08, ge=0.0, le=1.0)
    lifecycle_years: float = Field(default=8.0, gt=0.0, le=50.0)
    stable_symbols: int = Field(default=10, ge=0)  # the first N symbols never IPO or delist (option underliers)


class CorporateParams(_Strict):
    """Cash dividends (quarterly payers) and price-triggered forward/reverse splits."""

    dividend_payer_fraction: float = Field(default=0.55, ge=0.0, le=1.0)
    split_above: float = Field(default=300.0, gt=0.0)  # as-traded price that triggers a forward split
    split_target: float = Field(default=120.0, gt=0.0)  # forward split ratio ~ price / split_target
    reverse_split_below: float = Field(default=1.0, ge=0.0)  # price that triggers a 1-for-10 reverse split

    @model_validator(mode="after")
    def _ordered(self) -> CorporateParams:
        if not self.reverse_split_below < self.split_target < self.split_above:
            raise ValueError("need reverse_split_below < split_target < split_above")
        return self


class EligibilityParams(_Strict):
    """PIT universe eligibility: price and liquidity floors over information up to the previous session."""

    price_floor: float = Field(default=5.0, ge=0.0)
    adv_floor: float = Field(default=1_000_000.0, ge=0.0)  # average daily dollar volume, USD
    adv_window: int = Field(default=60, ge=1)
    min_history: int = Field(default=20, ge=1)


class IndexParams(_Strict):
    """A cap-weighted index of the largest listed names, rebalanced on the first session of each month."""

    index_id: str = Field(default="SYN50", min_length=1)
    size: int = Field(default=50, ge=1)


class OptionsParams(_Strict):
    """Option chains on an arbitrage-free SSVI surface (see options.py for the parametrisation)."""

    underliers: tuple[str, ...] | None = None  # None: the first n_underliers symbols
    n_underliers: int = Field(default=3, ge=1)
    rate: float = Field(default=0.03, ge=-0.05, le=0.5)  # continuously compounded risk-free rate
    min_days: int = Field(default=7, ge=1)
    max_days: int = Field(default=180, ge=1)
    weekly_days: int = Field(default=35, ge=0)  # weekly (Friday) expiries up to this many days out
    strikes_per_side: int = Field(default=10, ge=1)
    gamma: float = Field(default=0.45, gt=0.0, le=0.5)  # SSVI power-law exponent
    variance_premium: float = Field(default=1.10, gt=0.0)  # implied / model variance
    kappa: float = Field(default=2.0, gt=0.0)  # mean reversion (per year) of the ATM variance term structure
    base_rel_spread: float = Field(default=0.03, ge=0.0)  # quoted width / price at the money
    wing_spread: float = Field(default=0.04, ge=0.0)  # extra relative width per ATM std of moneyness

    @model_validator(mode="after")
    def _days(self) -> OptionsParams:
        if self.max_days <= self.min_days:
            raise ValueError("options.max_days must exceed options.min_days")
        return self


class MacroParams(_Strict):
    """FRED-style series with release calendars and revisions (vintages)."""

    series: tuple[str, ...] = MACRO_SERIES
    history_years: int = Field(default=2, ge=0, le=20)  # observations start this many years before origin

    @field_validator("series")
    @classmethod
    def _known_series(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(MACRO_SERIES))
        if unknown:
            raise ValueError(f"unknown macro series {unknown}; the synthetic market serves {list(MACRO_SERIES)}")
        return value


class SyntheticConfig(_Strict):
    """Everything that defines one synthetic market; the same config and seed give the same data."""

    seed: int = Field(default=7, ge=0, lt=2**63)
    n_symbols: int = Field(default=100, ge=1, le=9999)
    origin: dt.date = dt.date(2018, 1, 2)
    # Last session the market has published; None = the latest session closed (+ publication lag)
    # by the wall clock. Nothing is ever produced for a later session: it has not happened yet.
    end: dt.date | None = None
    signal_strength: float = Field(default=0.0, ge=-0.9, le=0.9)
    signal_lookback: int = Field(default=5, ge=1, le=250)
    minute_missing_prob: float = Field(default=0.002, ge=0.0, le=0.5)
    publication_lag_minutes: int = Field(default=15, ge=0)
    market: MarketParams = MarketParams()
    lifecycle: LifecycleParams = LifecycleParams()
    corporate: CorporateParams = CorporateParams()
    eligibility: EligibilityParams = EligibilityParams()
    index: IndexParams = IndexParams()
    options: OptionsParams = OptionsParams()
    macro: MacroParams = MacroParams()
    outages: tuple[OutageSpec, ...] = ()

    @field_validator("origin")
    @classmethod
    def _origin_in_calendar(cls, value: dt.date) -> dt.date:
        if value < dt.date(1991, 1, 2):
            raise ValueError(f"origin {value} is too early: the XNYS calendar starts in 1990")
        return value

    @model_validator(mode="after")
    def _unique_outage_names(self) -> SyntheticConfig:
        names = [o.name for o in self.outages]
        if len(names) != len(set(names)):
            raise ValueError(f"outage names must be unique, got {names}")
        return self

    @classmethod
    def from_config(cls, env: str | None = None, **overrides: Any) -> SyntheticConfig:
        """configs/synthetic.yml (merged with its environment override) with `overrides` deep-merged on top."""
        doc = load_config("synthetic", env)
        return cls.model_validate(deep_merge(doc, overrides))

    def with_overrides(self, **overrides: Any) -> SyntheticConfig:
        """A copy with `overrides` deep-merged (nested groups may be given as partial dicts)."""
        return type(self).model_validate(deep_merge(self.model_dump(), overrides))
