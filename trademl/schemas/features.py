"""The features layer's tables: model inputs per session, each built only from data known at that session.

- `features/equities_xs` v1 (SSOT 3.1): one row per symbol and session with the standardised
  cross-sectional features (`feat_*`: per-date z-score, ddof 0, clipped; calendar and sector
  columns unscaled). The column set is the v1 contract: a different set is a new version.
- `features/market_context`: one row per session (VIX metrics and quadrant, GMM and trend regimes,
  ALFRED-vintage macro features), merged onto every symbol by consumers.
- `features/feature_metadata` (spec 003): which feature of which set, version, parameters and code
  built the stored values; one row per feature, parameter hash and code version, dated by its first build.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import UTC_TS, TableSpec, table_schema

_f = pa.field

# GICS sectors (the synthetic market's and the vendors' sector names), one dummy column each.
GICS_SECTORS: tuple[str, ...] = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)


def sector_column(sector: str) -> str:
    """The dummy column of a sector name: "Health Care" -> "sector_health_care"."""
    return "sector_" + "_".join(sector.lower().replace("&", " ").split())


# Continuous raw features (standardised per date into feat_<name>).
EQUITIES_XS_CONTINUOUS: tuple[str, ...] = (
    "mom_5",
    "mom_20",
    "mom_60",
    "mom_126",
    "gap_overnight_20",
    "gap_intraday_20",
    "drawdown_20",
    "drawdown_60",
    "rv_20",
    "rv_60",
    "downside_vol_20",
    "adv_20",
    "turnover_20",
    "amihud_20",
    "days_to_earnings",
    "log_mcap",
)
# Passed through unscaled as feat_<name>.
EQUITIES_XS_CALENDAR: tuple[str, ...] = ("dow_sin", "dow_cos", "moy_sin", "moy_cos")
EQUITIES_XS_SECTORS: tuple[str, ...] = tuple(sector_column(s) for s in GICS_SECTORS)
EQUITIES_XS_FEATURES: tuple[str, ...] = tuple(
    f"feat_{name}" for name in (*EQUITIES_XS_CONTINUOUS, *EQUITIES_XS_CALENDAR, *EQUITIES_XS_SECTORS)
)

EQUITIES_XS = TableSpec(
    name="features/equities_xs",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        *(_f(name, pa.float64()) for name in EQUITIES_XS_FEATURES),
        metadata=False,
    ),
    partition_column="date",
    key=("symbol", "date"),
    description="equities_xs v1 (SSOT 3.1): standardised cross-sectional equity features per symbol and session.",
)

MARKET_CONTEXT = TableSpec(
    name="features/market_context",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("ctx_vix", pa.float64()),
        _f("ctx_vix_logret", pa.float64()),
        _f("ctx_vix_z", pa.float64()),
        _f("ctx_vix_rel_vol", pa.float64()),
        _f("ctx_vix_quadrant", pa.string()),
        _f("ctx_gmm_state", pa.int32()),
        _f("ctx_gmm_prob_stress", pa.float64()),
        _f("ctx_trend_regime", pa.int32()),
        _f("ctx_trend_gap", pa.float64()),
        _f("ctx_term_spread", pa.float64()),
        _f("ctx_cpi_yoy", pa.float64()),
        _f("ctx_unemployment_change", pa.float64()),
        metadata=False,
    ),
    partition_column="date",
    key=("date",),
    symbol_column=None,
    description="Market context per session: VIX metrics and quadrant, PIT GMM and SMA-200 trend regimes, vintage macro.",
)

FEATURE_METADATA = TableSpec(
    name="features/feature_metadata",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("feature", pa.string(), nullable=False),
        _f("feature_set", pa.string(), nullable=False),
        _f("version", pa.string(), nullable=False),
        _f("params_hash", pa.string(), nullable=False),
        _f("params", pa.string(), nullable=False),
        _f("code_version", pa.string(), nullable=False),
        _f("created_at", UTC_TS, nullable=False),
        metadata=False,
    ),
    partition_column="date",
    key=("feature_set", "version", "feature", "params_hash", "code_version"),
    symbol_column=None,
    description="Spec 003 feature metadata: feature, set, version, parameters (JSON) and their hash, code version, created_at.",
)

FEATURE_TABLES: tuple[TableSpec, ...] = (EQUITIES_XS, MARKET_CONTEXT, FEATURE_METADATA)


def indicator_set_table(set_name: str, columns: tuple[str, ...] | list[str]) -> TableSpec:
    """The table of one indicator set (``configs/indicator_sets/<set>.yml``): ``features/indicators_<set>``,
    one float64 column per output of the set, per symbol and session. Its columns come from the
    set's recipe, so the spec is built (and registered in the catalog) by trademl.features."""
    if not set_name.replace("_", "").isalnum():
        raise ValueError(f"indicator set name {set_name!r} must be letters, digits and underscores")
    return TableSpec(
        name=f"features/indicators_{set_name}",
        schema=table_schema(
            _f("date", pa.date32(), nullable=False),
            _f("symbol", pa.string(), nullable=False),
            *(_f(c, pa.float64()) for c in columns),
            metadata=False,
        ),
        partition_column="date",
        key=("symbol", "date"),
        description=f"Indicator set {set_name!r} on curated daily bars, re-anchored to the adjustment known at each session.",
    )
