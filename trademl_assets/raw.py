"""Raw layer: immutable vendor payloads, one session per partition, QC'd against the universe."""

import dagster as dg

from trademl_assets.checks import build_qc_check
from trademl_assets.ingest_asset import build_ingest_asset


def build_defs(vendor: str) -> dg.Definitions:
    """The raw assets (in `vendor`'s pool, see ingest_asset.py) and their per-session QC checks."""
    assets = [
        build_ingest_asset("equities_eod", vendor=vendor, deps=("universe",)),
        build_ingest_asset("equities_minute", vendor=vendor, deps=("universe",)),
        build_ingest_asset("options_chains", vendor=vendor, deps=("universe",)),
        build_ingest_asset("macros_fred", vendor=vendor),
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
