"""configs/backtest.yml: the cost model and market assumptions shared by every backtest and CPCV evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from trademl.config import typed_config
from trademl.execution.cost import CostModel

_KEYS = {"capital", "cost_model", "market"}
_MARKET_KEYS = {"window_sessions", "spread_bps", "convention"}


@dataclass(frozen=True)
class BacktestSettings:
    """Starting capital (currency), the cost model, and the market panel's window (sessions), flat
    spread (bps of the close) and dividend convention."""

    capital: float
    cost_model: CostModel
    window_sessions: int
    spread_bps: float
    convention: str

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> BacktestSettings:
        """Validate and build; errors name configs/backtest.yml and the key."""
        where = "configs/backtest.yml"
        unknown = sorted(set(doc) - _KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
        capital = doc.get("capital")
        if isinstance(capital, bool) or not isinstance(capital, (int, float)) or capital <= 0:
            raise ValueError(f"{where} capital must be a positive number, got {capital!r}")
        costs = doc.get("cost_model") or {}
        if not isinstance(costs, Mapping) or set(costs) - {"fee_per_share", "fee_bps", "impact_coef"}:
            raise ValueError(f"{where} cost_model takes fee_per_share, fee_bps and impact_coef, got {costs!r}")
        market = doc.get("market") or {}
        if not isinstance(market, Mapping) or set(market) - _MARKET_KEYS:
            raise ValueError(f"{where} market takes {', '.join(sorted(_MARKET_KEYS))}, got {market!r}")
        window = market.get("window_sessions", 20)
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise ValueError(f"{where} market.window_sessions must be an integer >= 2, got {window!r}")
        spread = market.get("spread_bps", 5.0)
        if isinstance(spread, bool) or not isinstance(spread, (int, float)) or spread < 0:
            raise ValueError(f"{where} market.spread_bps must be a number >= 0, got {spread!r}")
        return cls(
            capital=float(capital),
            cost_model=CostModel(**{k: float(v) for k, v in costs.items()}),
            window_sessions=window,
            spread_bps=float(spread),
            convention=str(market.get("convention", "crsp")),
        )

    def signature_doc(self) -> dict[str, Any]:
        """Everything that changes what a backtest costs, for the evaluation's cost signature."""
        return {"capital": self.capital, "cost_model": asdict(self.cost_model), "window_sessions": self.window_sessions,
                "spread_bps": self.spread_bps, "convention": self.convention}


def backtest_settings() -> BacktestSettings:
    """configs/backtest.yml, read once per file version."""
    return typed_config(BacktestSettings, "backtest")
