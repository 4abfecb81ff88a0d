"""Dagster assets and asset checks, one module per layer; each layer module declares its `defs`.

`reference` and `raw` (the data node's tables, one `build_ingest_asset` factory call each, with
their per-session GREEN/AMBER/RED checks from `checks`); `partitions` the XNYS session partitions.
An asset body calls one `trademl` function (see `ingest_asset.py`).
"""

__all__ = ["checks", "ingest_asset", "partitions", "raw", "reference"]
