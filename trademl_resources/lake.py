"""The Parquet lake as a Dagster resource (root from TRADEML_DATA_ROOT unless configured)."""

from __future__ import annotations

import dagster as dg

from trademl.config import settings
from trademl.data.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """Point-in-time Parquet lake; `root` may be a local path or an fsspec URL (s3://…)."""

    root: str = ""

    def lake(self) -> Lake:
        return Lake(self.root or settings().data_root)
