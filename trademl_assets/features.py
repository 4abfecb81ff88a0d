"""Features layer: model inputs per session, each reading a window of curated partitions."""

from functools import partial

import dagster as dg

from trademl.features.indicators.tables import indicator_set_names, indicator_table
from trademl.features.equities_xs import lookback_sessions
from trademl.features.partitions import (
    CURATED,
    EARNINGS,
    MACROS,
    SHARES,
    UNIVERSE,
    build_equities_xs,
    build_indicator_set,
    build_market_context_range,
)
from trademl_assets.checks import build_qc_check
from trademl_assets.layer_asset import Upstream, build_layer_asset

# Indicator values and the market context come from each symbol's whole curated history (recursive
# indicators, the GMM refits and the SMA need a fixed origin); the mapping shows the last year.
INDICATOR_LOOKBACK = 252


def build_defs() -> dg.Definitions:
    """The feature assets and their per-session checks."""
    assets = [
        build_layer_asset(
            "features/equities_xs",
            build_equities_xs,
            upstream=[
                Upstream(CURATED, lookback=lookback_sessions() - 1),
                Upstream(UNIVERSE, lookback=lookback_sessions() - 1),
                Upstream(SHARES, lookback=INDICATOR_LOOKBACK),
                Upstream(EARNINGS, lookback=INDICATOR_LOOKBACK),
            ],
        ),
        build_layer_asset(
            "features/market_context",
            build_market_context_range,
            upstream=[Upstream(CURATED, lookback=INDICATOR_LOOKBACK), Upstream(MACROS)],
        ),
        *(
            build_layer_asset(
                indicator_table(name).name,
                partial(build_indicator_set, name),
                upstream=[Upstream(CURATED, lookback=INDICATOR_LOOKBACK)],
            )
            for name in indicator_set_names()
        ),
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
