"""features/feature_metadata (spec 003): which code and parameters built each stored feature.

A feature asset records, when it materializes, one row per output column: feature, set, version,
the set's parameter hash, that feature's parameters (JSON), the code version and created_at (UTC).
A row already recorded for the same (set, version, feature, params_hash, code_version) is kept as
it is, so a rerun writes nothing; the row is dated (partitioned) by the UTC day it was first seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from functools import lru_cache

import pandas as pd

import trademl
from trademl.config import REPO_ROOT
from trademl.data.lake import Lake
from trademl.features.indicators.specs import IndicatorSet
from trademl.schemas import FEATURE_METADATA

TABLE = FEATURE_METADATA.name
IDENTITY = ["feature_set", "version", "feature", "params_hash", "code_version"]


@lru_cache(maxsize=1)
def code_version() -> str:
    """``<package version>+<git commit>`` of the running code (``+unknown`` outside a git checkout)."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{trademl.__version__}+{sha or 'unknown'}"


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def indicator_metadata_rows(indicator_set: IndicatorSet, *, code: str, created_at: dt.datetime | pd.Timestamp) -> pd.DataFrame:
    """One row per output column of an indicator set: its indicator's name, version and parameters."""
    ts = pd.Timestamp(created_at)
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    recipe = [spec.model_dump() for spec in indicator_set.indicators]
    params_hash = hashlib.sha256(_canonical({"set": indicator_set.name, "version": indicator_set.version, "indicators": recipe}).encode()).hexdigest()[:16]
    rows = []
    for indicator in indicator_set.build():
        for column in indicator.output_columns:
            rows.append({"feature": column, "params": _canonical({"indicator": indicator.name, "version": indicator.version, **indicator.params})})
    frame = pd.DataFrame(rows)
    frame["date"] = ts.date()
    frame["feature_set"] = f"indicators_{indicator_set.name}"
    frame["version"] = str(indicator_set.version)
    frame["params_hash"] = params_hash
    frame["code_version"] = code
    frame["created_at"] = ts
    return frame[list(FEATURE_METADATA.schema.names)]


def store_feature_metadata(lake: Lake, rows: pd.DataFrame) -> int:
    """Append the rows not recorded yet (by set, version, feature, params hash and code version) to
    features/feature_metadata; returns how many were new."""
    if rows.empty:
        return 0
    known = lake.read(TABLE, columns=IDENTITY).to_pandas()
    if len(known):
        seen = pd.MultiIndex.from_frame(known[IDENTITY].astype(str))
        fresh = rows[~pd.MultiIndex.from_frame(rows[IDENTITY].astype(str)).isin(seen)]
    else:
        fresh = rows
    if fresh.empty:
        return 0
    lake.write_partitions(TABLE, fresh, mode="merge")
    return len(fresh)
