"""Typed settings of features/market_context from configs/features/market_context.yml (windows in XNYS sessions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trademl.config import config_value, typed_config

CONFIG = "features/market_context"


def positive_integer(value: Any) -> int:
    """An int >= 1 (bools and fractional numbers rejected)."""
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(value)
    return int(value)


def non_negative_integer(value: Any) -> int:
    """An int >= 0 (bools and fractional numbers rejected)."""
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(value)
    return int(value)


def _section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = doc.get(name)
    if not isinstance(section, Mapping):
        raise ValueError(f"configs/{CONFIG}.yml has no `{name}:` section")
    return section


@dataclass(frozen=True)
class VixSettings:
    """VIX metrics: z-score window, relative-level window, how many sessions a missing print is carried."""

    z_window: int = 252
    rel_vol_window: int = 20
    fill_limit: int = 5

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> VixSettings:
        kw = dict(name=CONFIG, path="vix")
        return cls(
            z_window=config_value(doc, "z_window", positive_integer, **kw),
            rel_vol_window=config_value(doc, "rel_vol_window", positive_integer, **kw),
            fill_limit=config_value(doc, "fill_limit", non_negative_integer, **kw),
        )


@dataclass(frozen=True)
class QuadrantSettings:
    """VIX 4-quadrant regime: bull/bear = market close vs its SMA(trend_window); volatile = VIX above
    its trailing median(vix_window), or above `vix_level` index points when that is set."""

    trend_window: int = 50
    vix_window: int = 252
    vix_level: float | None = None

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> QuadrantSettings:
        kw = dict(name=CONFIG, path="quadrant")
        level = config_value(doc, "vix_level", float, default=None, **kw)
        if level is not None and level <= 0:
            raise ValueError(f"configs/{CONFIG}.yml quadrant.vix_level: expected a positive level, got {level}")
        return cls(
            trend_window=config_value(doc, "trend_window", positive_integer, **kw),
            vix_window=config_value(doc, "vix_window", positive_integer, **kw),
            vix_level=level,
        )


@dataclass(frozen=True)
class GmmSettings:
    """2-state Gaussian mixture on [market log return, rolling vol], refitted at each month's first
    session on at most `fit_window` sessions strictly before it; hysteresis = trailing rolling mode."""

    vol_window: int = 20
    fit_window: int = 756
    min_fit_sessions: int = 252
    hysteresis: int = 5
    n_init: int = 3
    random_state: int = 0

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> GmmSettings:
        kw = dict(name=CONFIG, path="gmm")
        out = cls(
            vol_window=config_value(doc, "vol_window", positive_integer, **kw),
            fit_window=config_value(doc, "fit_window", positive_integer, **kw),
            min_fit_sessions=config_value(doc, "min_fit_sessions", positive_integer, **kw),
            hysteresis=config_value(doc, "hysteresis", positive_integer, **kw),
            n_init=config_value(doc, "n_init", positive_integer, default=3, **kw),
            random_state=config_value(doc, "random_state", non_negative_integer, default=0, **kw),
        )
        if out.vol_window < 2 or out.min_fit_sessions < 10 or out.min_fit_sessions > out.fit_window:
            raise ValueError(
                f"configs/{CONFIG}.yml gmm: need vol_window >= 2 and 10 <= min_fit_sessions <= fit_window, got "
                f"{out.vol_window}, {out.min_fit_sessions}, {out.fit_window}"
            )
        return out


@dataclass(frozen=True)
class TrendSettings:
    """SMA trend regime over `sma_window` sessions."""

    sma_window: int = 200

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> TrendSettings:
        return cls(sma_window=config_value(doc, "sma_window", positive_integer, name=CONFIG, path="trend"))


@dataclass(frozen=True)
class MacroSettings:
    """Macro series ids (raw/macros_fred) and the month lags of the CPI and unemployment changes."""

    long_rate: str = "DGS10"
    short_rate: str = "DGS3MO"
    cpi: str = "CPIAUCSL"
    cpi_lag_months: int = 12
    unemployment: str = "UNRATE"
    unemployment_lag_months: int = 3

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> MacroSettings:
        kw = dict(name=CONFIG, path="macro")
        return cls(
            long_rate=config_value(doc, "long_rate", str, **kw),
            short_rate=config_value(doc, "short_rate", str, **kw),
            cpi=config_value(doc, "cpi", str, **kw),
            cpi_lag_months=config_value(doc, "cpi_lag_months", positive_integer, **kw),
            unemployment=config_value(doc, "unemployment", str, **kw),
            unemployment_lag_months=config_value(doc, "unemployment_lag_months", positive_integer, **kw),
        )


@dataclass(frozen=True)
class MarketContextSettings:
    """configs/features/market_context.yml: one frozen group per part of the table."""

    vix: VixSettings = VixSettings()
    quadrant: QuadrantSettings = QuadrantSettings()
    gmm: GmmSettings = GmmSettings()
    trend: TrendSettings = TrendSettings()
    macro: MacroSettings = MacroSettings()

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> MarketContextSettings:
        return cls(
            vix=VixSettings.from_config(_section(doc, "vix")),
            quadrant=QuadrantSettings.from_config(_section(doc, "quadrant")),
            gmm=GmmSettings.from_config(_section(doc, "gmm")),
            trend=TrendSettings.from_config(_section(doc, "trend")),
            macro=MacroSettings.from_config(_section(doc, "macro")),
        )


def market_context_settings() -> MarketContextSettings:
    """The current settings (re-read when configs/features/market_context.yml or its env override changes)."""
    return typed_config(MarketContextSettings, CONFIG)


# A month's first session is at most this many sessions after any session: the GMM's first refit waits for it.
_MAX_SESSIONS_TO_MONTH_START = 23


def warmup_sessions(cfg: MarketContextSettings | None = None) -> int:
    """Sessions of market history (the session itself included) before every ctx_* column of a
    session can be non-null: the longest trailing window (SMA trend, VIX z-score and median), or
    the GMM's first fit (`min_fit_sessions` feature rows after its `vol_window`, then a month start).
    The macro columns need raw/macros_fred vintages from about `cpi_lag_months` + 2 months before
    the session instead (the vintage of the CPI a year before the latest print)."""
    cfg = cfg or market_context_settings()
    gmm_first_fit = cfg.gmm.vol_window + cfg.gmm.min_fit_sessions + _MAX_SESSIONS_TO_MONTH_START
    return max(cfg.trend.sma_window, cfg.vix.z_window, cfg.quadrant.vix_window, cfg.quadrant.trend_window, gmm_first_fit)
