"""equities_xs (SSOT 3.1): daily cross-sectional equity features per (symbol, session), point in time.

`build_features(panel, cfg)` builds raw or standardised features of a panel of adjusted bars on the
XNYS session grid; `compute_equity_features(date, universe, ...)` one session's features from a
panel or the lake; `next_earnings_as_of` the PIT next earnings date; `EquitiesXsConfig` the
parameters (configs/features/equities_xs.yml); `feature_metadata_rows` / `feature_set_info` what
features/feature_metadata records.
"""

from trademl.features.equities_xs.build import build_features, compute_equity_features
from trademl.features.equities_xs.earnings import next_earnings_as_of
from trademl.features.equities_xs.metadata import feature_metadata_rows, feature_params, feature_set_info
from trademl.features.equities_xs.settings import EquitiesXsConfig, equities_xs_config, lookback_sessions

__all__ = [
    "EquitiesXsConfig",
    "build_features",
    "compute_equity_features",
    "equities_xs_config",
    "feature_metadata_rows",
    "feature_params",
    "feature_set_info",
    "lookback_sessions",
    "next_earnings_as_of",
]
