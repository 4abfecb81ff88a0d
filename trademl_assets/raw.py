"""Raw layer: immutable vendor payloads, one session per partition, QC'd against the universe."""

import dagster as dg

from trademl_assets.checks import build_qc_check
from trademl_assets.ingest_asset import build_ingest_asset

equities_bars = build_ingest_asset("equities_eod", deps=("universe",))
equities_minute = build_ingest_asset("equities_minute", deps=("universe",))
options_nbbo = build_ingest_asset("options_chains", deps=("universe",))
macros_fred = build_ingest_asset("macros_fred")

raw_assets = [equities_bars, equities_minute, options_nbbo, macros_fred]

defs = dg.Definitions(assets=raw_assets, asset_checks=[build_qc_check(a.key.to_user_string()) for a in raw_assets])
