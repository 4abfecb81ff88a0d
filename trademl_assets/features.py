"""Features layer: model inputs per session, each reading a window of curated partitions."""

from functools import partial

import dagster as dg

from trademl.features.indicators.tables import indicator_set_names, indicator_table
from trademl.features.partitions import CURATED, build_indicator_set
from trademl_assets.checks import build_qc_check
from trademl_assets.layer_asset import Upstream, build_layer_asset

# Indicator values come from each symbol's whole curated history (recursive indicators need a fixed
# origin); the mapping shows the last year, past which EMA/Wilder recursions have converged.
INDICATOR_LOOKBACK = 252


def build_defs() -> dg.Definitions:
    """The feature assets and their per-session checks."""
    assets = [
        build_layer_asset(
            indicator_table(name).name,
            partial(build_indicator_set, name),
            upstream=[Upstream(CURATED, lookback=INDICATOR_LOOKBACK)],
        )
        for name in indicator_set_names()
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
