"""Reference layer: calendars, PIT universe, corporate actions, delistings, index membership, tick sizes,
earnings calendars and shares outstanding."""

import dagster as dg

from trademl_assets.checks import build_qc_check
from trademl_assets.ingest_asset import build_ingest_asset


def build_defs(vendor: str) -> dg.Definitions:
    """The reference assets (in `vendor`'s pool, see ingest_asset.py) and their per-session QC checks."""
    assets = [
        build_ingest_asset("calendars", vendor=vendor),
        build_ingest_asset("universe", vendor=vendor),
        build_ingest_asset("corp_actions", vendor=vendor),
        build_ingest_asset("delistings", vendor=vendor),
        build_ingest_asset("index_membership", vendor=vendor, deps=("universe",)),
        build_ingest_asset("tick_size_regime", vendor=vendor, deps=("universe",)),
        build_ingest_asset("earnings_calendar", vendor=vendor),
        build_ingest_asset("shares_outstanding", vendor=vendor),
    ]
    return dg.Definitions(assets=assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in assets])
