"""Reference layer: calendars, PIT universe, corporate actions, delistings, index membership, tick sizes."""

import dagster as dg

from trademl_assets.checks import build_qc_check
from trademl_assets.ingest_asset import build_ingest_asset

calendars = build_ingest_asset("calendars")
universe = build_ingest_asset("universe")
corp_actions = build_ingest_asset("corp_actions")
delistings = build_ingest_asset("delistings")
index_membership = build_ingest_asset("index_membership", deps=("universe",))
tick_size_regime = build_ingest_asset("tick_size_regime", deps=("universe",))

reference_assets = [calendars, universe, corp_actions, delistings, index_membership, tick_size_regime]

defs = dg.Definitions(assets=reference_assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in reference_assets])
