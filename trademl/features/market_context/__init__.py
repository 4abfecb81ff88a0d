"""Market context (features/market_context): per-session regime and macro features merged onto every symbol.

VIX metrics and the 4-quadrant regime (`vix`), a point-in-time 2-state GMM and the SMA-200 trend
regime (`regimes`), term spread / CPI YoY / unemployment change from the vintages known at t
(`macro`), and `build_market_context` assembling the table. Settings: configs/features/market_context.yml.
"""

from trademl.features.market_context.build import build_market_context, market_proxy
from trademl.features.market_context.macro import change_known_at, macro_context, vix_known_at
from trademl.features.market_context.regimes import gmm_regime, refit_dates, trend_regime
from trademl.features.market_context.settings import MarketContextSettings, market_context_settings, warmup_sessions
from trademl.features.market_context.vix import QUADRANTS, vix_metrics, vix_quadrant

__all__ = [
    "QUADRANTS",
    "MarketContextSettings",
    "build_market_context",
    "change_known_at",
    "gmm_regime",
    "macro_context",
    "market_context_settings",
    "market_proxy",
    "refit_dates",
    "trend_regime",
    "vix_metrics",
    "vix_known_at",
    "vix_quadrant",
    "warmup_sessions",
]
