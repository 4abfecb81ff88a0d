"""Dagster assets and asset checks, one module per layer; each layer module builds its `Definitions`.

`reference` and `raw` (the data node's tables: `build_defs(vendor)`, one `build_ingest_asset`
factory call per table, with their per-session GREEN/AMBER/RED checks from `checks`; built per
vendor because the assets run in the vendor's pool, see `ingest_asset.py`); `partitions` the XNYS
session partitions. An asset body calls one `trademl` function.
"""

__all__ = ["checks", "ingest_asset", "partitions", "raw", "reference"]
