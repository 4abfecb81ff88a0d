"""Labels layer: forward outcomes per session, complete only once their forward window is observed."""

from functools import partial

import dagster as dg

from trademl.labels.label_sets import label_horizon
from trademl.labels.partitions import CURATED, MINUTE, build_daily_labels, build_sigma_labels
from trademl_assets.checks import build_qc_check
from trademl_assets.layer_asset import Upstream, build_layer_asset


def build_defs() -> dg.Definitions:
    """The label assets and their per-session checks."""
    assets = [
        build_layer_asset(
            "labels/equities_xs",
            partial(build_daily_labels, "equities_xs"),
            upstream=[Upstream(CURATED, lookahead=label_horizon("equities_xs"))],
        ),
        build_layer_asset(
            "labels/sigma", build_sigma_labels, upstream=[Upstream(MINUTE, lookahead=label_horizon("sigma"))]
        ),
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
