"""The curated layer: as-traded bars plus point-in-time corporate-action factors, adjusted on read.

`session_factors` computes what curated/equities_ohlcv_adj stores per (symbol, session): the
as-traded OHLCV and the cumulative split and dividend factors known at that session (CRSP and
Alpha Vantage dividend conventions), so a later event never rewrites an older partition.
`adjust_from_factors` / `read_adjusted` give prices "adjusted as of T"; `adjusted_ohlcv` does both
from bars and events in one call. `check_corp_actions` screens the input (blocking codes -> RED,
the event is excluded); `delisting_returns` books delisting returns; `build_curated`, `curate_range`,
`curate_incremental` and `late_events` store and repair the table in the lake. No Dagster here:
the curated asset calls these functions.
"""

from trademl.curate.conventions import CONVENTIONS, Convention, div_factor_column
from trademl.curate.corp_action_checks import (
    BLOCKING_CODES,
    CORP_ACTIONS_MISSING,
    check_corp_actions,
    problem_status,
    screen_events,
)
from trademl.curate.delisting import delisting_returns
from trademl.curate.factors import ADJUSTED_COLUMNS, adjust_from_factors, adjusted_ohlcv, session_factors
from trademl.curate.incremental import IncrementalReport, curate_incremental, late_events
from trademl.curate.settings import CuratorSettings, curator_settings
from trademl.curate.store import CuratedBuild, CurateReport, build_curated, curate_range, read_adjusted

__all__ = [
    "ADJUSTED_COLUMNS",
    "BLOCKING_CODES",
    "CONVENTIONS",
    "CORP_ACTIONS_MISSING",
    "Convention",
    "CurateReport",
    "CuratedBuild",
    "CuratorSettings",
    "IncrementalReport",
    "adjust_from_factors",
    "adjusted_ohlcv",
    "build_curated",
    "check_corp_actions",
    "curate_incremental",
    "curate_range",
    "curator_settings",
    "delisting_returns",
    "div_factor_column",
    "late_events",
    "problem_status",
    "read_adjusted",
    "screen_events",
    "session_factors",
]
