"""Dagster assets and asset checks, one module per layer (raw, reference; per-partition checks).

Each module only declares: an asset body calls one `trademl` function (see `ingest_asset.py`)."""
