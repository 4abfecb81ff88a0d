"""Portfolio construction (SSOT 4.7): scores to risk-capped, vol-targeted, dollar-neutral target weights.

Public API: `RiskConfig` / `risk_config()` (configs/portfolio.yml), `build` (one session, SSOT 7),
`build_targets` (many sessions, each seeing only its own past), `shrunk_covariance` / `RiskModel`
(the Ledoit-Wolf risk model), `waterfill` and `enforce_limits` (the capping steps).
"""

from trademl.portfolio.build import build, build_targets, enforce_limits, waterfill
from trademl.portfolio.covariance import RiskModel, ledoit_wolf_shrunk, shrunk_covariance
from trademl.portfolio.risk_config import RiskConfig, risk_config

__all__ = [
    "RiskConfig",
    "RiskModel",
    "build",
    "build_targets",
    "enforce_limits",
    "ledoit_wolf_shrunk",
    "risk_config",
    "shrunk_covariance",
    "waterfill",
]
