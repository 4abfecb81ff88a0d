"""features/feature_metadata rows (spec 003) and a summary of the equities_xs feature set."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from trademl.features.equities_xs.settings import FEATURE_SET, EquitiesXsConfig, equities_xs_config, lookback_sessions
from trademl.schemas.features import EQUITIES_XS_CALENDAR, EQUITIES_XS_SECTORS, FEATURE_METADATA, GICS_SECTORS


def _window_of(name: str) -> int | None:
    tail = name.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def feature_params(cfg: EquitiesXsConfig) -> dict[str, dict[str, Any]]:
    """Per output column `feat_<name>`: the parameters that determine its values (JSON types)."""
    out: dict[str, dict[str, Any]] = {}
    zscore = {"standardize": "cross_sectional_zscore", "ddof": 0, "clip": float(cfg.clip)}
    for name in cfg.continuous_features():
        params: dict[str, Any] = {"raw": name, "unit": "sessions", **zscore}
        window = _window_of(name)
        if window is not None:
            params["window"] = window
            if not name.startswith("mom_"):
                params["min_periods"] = cfg.min_periods(window, 2 if name.startswith("rv_") else 1)
        if name.startswith(("rv_", "downside_vol_")):
            params["annualization"] = cfg.annualization
        out[f"feat_{name}"] = params
    for name in EQUITIES_XS_CALENDAR:
        out[f"feat_{name}"] = {"raw": name, "standardize": None, "period": 5 if name.startswith("dow") else 12}
    for sector, name in zip(GICS_SECTORS, EQUITIES_XS_SECTORS):
        out[f"feat_{name}"] = {"raw": name, "standardize": None, "sector": sector}
    return out


def feature_metadata_rows(cfg: EquitiesXsConfig | None, code_version: str, created_at: dt.datetime | pd.Timestamp) -> pd.DataFrame:
    """One features/feature_metadata row per output column: set, version, the set's params_hash,
    that feature's parameters as JSON, `code_version`; `date` is created_at's UTC date (naive
    created_at is read as UTC)."""
    cfg = cfg or equities_xs_config()
    ts = pd.Timestamp(created_at)
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    params = feature_params(cfg)
    frame = pd.DataFrame(
        {
            "date": ts.date(),
            "feature": list(params),
            "feature_set": FEATURE_SET,
            "version": cfg.version,
            "params_hash": cfg.params_hash,
            "params": [json.dumps(p, sort_keys=True, separators=(",", ":")) for p in params.values()],
            "code_version": str(code_version),
            "created_at": ts,
        }
    )
    return frame[list(FEATURE_METADATA.schema.names)]


def feature_set_info(cfg: EquitiesXsConfig | None = None) -> dict[str, Any]:
    """The feature set at a glance: name, version, params_hash, parameters, output columns, lookback."""
    cfg = cfg or equities_xs_config()
    return {
        "feature_set": FEATURE_SET,
        "version": cfg.version,
        "params_hash": cfg.params_hash,
        "params": cfg.params(),
        "features": list(feature_params(cfg)),
        "lookback_sessions": lookback_sessions(cfg),
    }
