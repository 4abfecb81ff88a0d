"""TradeML domain library: plain Python over DataFrames/Arrow tables, no Dagster import anywhere.

Layers, in data-flow order; a module imports only its own layer and those before it
(tests/test_layering.py walks the imports):

- foundation: `calendar` (XNYS sessions, UTC), `schemas` (every table's Arrow schema), `config`
  (layered YAML), `logs` (JSON lines), `pricing` (Black–Scholes, implied vol, SVI);
- `data`: the data node (connectors, lake, control db, QC, ingest, backfill queue);
- `features` (indicators, option features), `labels`, `validation` (CPCV, PBO, DSR), `execution`
  (costs, market impact).
"""

__version__ = "0.1.0"
