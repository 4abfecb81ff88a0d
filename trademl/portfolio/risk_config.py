"""The portfolio constructor's risk limits (configs/portfolio.yml), typed and validated once per file version.

Weights are fractions of capital; vols are annualised with sqrt(252); the edge is a per-session
information coefficient. The SSOT 4.7 ranges (gross 1.0-1.5, vol 10-12 %, Kelly 0.2-0.5x) are
advisory; the bounds checked here only reject settings that make no sense (negative caps, a
per-name cap above the gross cap, a Kelly multiplier above full Kelly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from trademl.config import config_value, typed_config

SHRINKAGE_TARGETS = ("constant_correlation", "diagonal")
TRADING_DAYS = 252

# Each field and its dotted key in configs/portfolio.yml (error messages name the key).
CONFIG_KEYS = {
    "per_name_cap": "per_name_cap",
    "gross_cap": "gross_cap",
    "vol_target": "vol_target",
    "cov_lookback": "covariance.lookback_sessions",
    "min_history": "covariance.min_history",
    "shrinkage": "covariance.shrinkage",
    "fallback_vol": "covariance.fallback_vol",
    "kelly_fraction": "kelly.fraction",
    "edge_ic": "kelly.ic",
    "edge_haircut": "kelly.haircut",
    "turnover_limit": "turnover_limit",
    "max_short_weight": "shorts.max_short_weight",
    "short_gross_cap": "shorts.short_gross_cap",
    "borrow_cost_bps": "shorts.borrow_cost_bps",
}


def integer(value: Any) -> int:
    """An int that really is one (a bool or 2.5 is refused, 60.0 is not an int either)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def number(value: Any) -> float:
    """A finite real number (bools and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(value)
    return float(value)


@dataclass(frozen=True)
class RiskConfig:
    """Risk limits of `trademl.portfolio.build` (SSOT 4.7); every constraint holds on the weights it returns.

    Caps are fractions of capital: `per_name_cap` bounds |w| of each name, `max_short_weight` each
    short, `gross_cap` sum |w|, `short_gross_cap` sum |w| of the shorts. `vol_target` is an
    annualised ex-ante vol ceiling. The covariance is Ledoit-Wolf shrunk (`shrinkage` target) over
    `cov_lookback` sessions; names with fewer than `min_history` finite returns get the median vol;
    `fallback_vol` (annualised) is every name's vol when no name has history. Sizing is
    `kelly_fraction` x Kelly on the edge `edge_ic x (1 - edge_haircut)` (a per-session IC).
    `turnover_limit` bounds sum |w - previous| per session; `borrow_cost_bps` is the annual fee on
    the short gross that `build` reports.
    """

    per_name_cap: float
    gross_cap: float
    vol_target: float
    cov_lookback: int
    min_history: int
    shrinkage: str
    fallback_vol: float
    kelly_fraction: float
    edge_ic: float
    edge_haircut: float
    turnover_limit: float
    max_short_weight: float
    short_gross_cap: float
    borrow_cost_bps: float

    def __post_init__(self) -> None:
        def bad(field: str, rule: str) -> ValueError:
            return ValueError(f"configs/portfolio.yml {CONFIG_KEYS[field]} {rule}, got {getattr(self, field)!r}")

        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "shrinkage":
                if value not in SHRINKAGE_TARGETS:
                    raise bad("shrinkage", f"must be one of {', '.join(SHRINKAGE_TARGETS)}")
            elif field.name in ("cov_lookback", "min_history"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise bad(field.name, "must be an integer")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad(field.name, "must be a finite number")
        if not 0.0 < self.per_name_cap <= 1.0:
            raise bad("per_name_cap", "must be in (0, 1]")
        if not 0.0 < self.gross_cap <= 3.0:
            raise bad("gross_cap", "must be in (0, 3] (SSOT advises 1.0-1.5)")
        if self.per_name_cap > self.gross_cap:
            raise bad("per_name_cap", f"must not exceed gross_cap ({self.gross_cap})")
        if not 0.0 < self.vol_target <= 1.0:
            raise bad("vol_target", "must be an annualised vol in (0, 1] (SSOT advises 0.10-0.12)")
        if self.min_history < 2:
            raise bad("min_history", "must be >= 2 sessions")
        if self.cov_lookback < self.min_history:
            raise bad("cov_lookback", f"must be >= covariance.min_history ({self.min_history})")
        if not 0.0 < self.fallback_vol <= 2.0:
            raise bad("fallback_vol", "must be an annualised vol in (0, 2]")
        if not 0.0 < self.kelly_fraction <= 1.0:
            raise bad("kelly_fraction", "must be in (0, 1] (a fraction of full Kelly; SSOT advises 0.2-0.5)")
        if not 0.0 < self.edge_ic < 1.0:
            raise bad("edge_ic", "must be an information coefficient in (0, 1)")
        if not 0.0 <= self.edge_haircut < 1.0:
            raise bad("edge_haircut", "must be in [0, 1)")
        if not self.turnover_limit > 0.0:
            raise bad("turnover_limit", "must be > 0")
        if not 0.0 < self.max_short_weight <= self.per_name_cap:
            raise bad("max_short_weight", f"must be in (0, per_name_cap={self.per_name_cap}]")
        if not 0.0 < self.short_gross_cap <= self.gross_cap:
            raise bad("short_gross_cap", f"must be in (0, gross_cap={self.gross_cap}]")
        if not 0.0 <= self.borrow_cost_bps <= 10_000.0:
            raise bad("borrow_cost_bps", "must be annual basis points in [0, 10000]")

    @property
    def edge(self) -> float:
        """The conservative per-session IC the Kelly sizing uses: edge_ic x (1 - edge_haircut)."""
        return self.edge_ic * (1.0 - self.edge_haircut)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> RiskConfig:
        """Build from the configs/portfolio.yml mapping; a missing or malformed key raises ValueError naming it."""
        values: dict[str, Any] = {}
        for field, key in CONFIG_KEYS.items():
            *sections, leaf = key.split(".")
            node: Any = doc
            for depth, section in enumerate(sections):
                node = node.get(section) if isinstance(node, Mapping) else None
                if not isinstance(node, Mapping):
                    raise ValueError(f"configs/portfolio.yml has no `{'.'.join(sections[: depth + 1])}:` section")
            kind = {"shrinkage": str, "cov_lookback": integer, "min_history": integer}.get(field, number)
            values[field] = config_value(node, leaf, kind, name="portfolio", path=".".join(sections))
        return cls(**values)


def risk_config() -> RiskConfig:
    """The current RiskConfig of configs/portfolio.yml (re-read when the file or its env override changes)."""
    return typed_config(RiskConfig, "portfolio")
