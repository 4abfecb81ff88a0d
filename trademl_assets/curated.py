"""Curated layer: our own point-in-time adjustment of the raw bars (as-traded OHLCV + factors)."""

import dagster as dg

from trademl.curate.partitions import curate_sessions
from trademl.curate.store import CORP_ACTIONS, DELISTINGS, RAW_BARS
from trademl_assets.checks import build_qc_check
from trademl_assets.layer_asset import Upstream, build_layer_asset


def build_defs() -> dg.Definitions:
    """The curated assets and their per-session checks."""
    assets = [
        build_layer_asset(
            "curated/equities_ohlcv_adj",
            curate_sessions,
            # the previous close (dividend factors) and the stored row before the range seed the factors
            upstream=[Upstream(RAW_BARS, lookback=1), Upstream(CORP_ACTIONS), Upstream(DELISTINGS, lookahead=1)],
        )
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
