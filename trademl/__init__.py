"""TradeML domain library: plain Python over DataFrames/Arrow tables, no Dagster import anywhere.

Layers, in data-flow order; a module imports only its own layer and those before it
(tests/test_layering.py walks the imports):

- foundation: `calendar` (XNYS sessions, UTC), `schemas` (every table's Arrow schema), `config`
  (layered YAML), `logs` (JSON lines), `pricing` (Black–Scholes, implied vol, SVI);
- `data`: the data node (connectors, lake, control db, QC, ingest, backfill queue);
- `features` (indicators, option features), `labels`, `validation` (CPCV, PBO, DSR), `execution`
  (costs, market impact).

Reading data (notebooks, scripts): ``trademl.read(table, start, end, symbols=None, columns=None)``
returns a pandas DataFrame of the latest stored versions, sorted by symbol then time, ready for
`trademl.features` and `trademl.labels` (see `trademl.data.reading`).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "read"]


def __getattr__(name: str):
    """`trademl.read` (the notebook reading API, `trademl.data.reading.read`), imported on first use.

    Lazy so that `import trademl` stays light (no pandas, pyarrow or DuckDB until data is read)
    and the foundation modules importing the package never pull in the data layer.
    """
    if name == "read":
        from trademl.data.reading import read
        from trademl.features.indicators.tables import register_indicator_tables

        register_indicator_tables()  # features/indicators_<set> tables are named by their recipes
        globals()["read"] = read  # once: later `trademl.read` lookups no longer come through here

        return read
    raise AttributeError(f"module 'trademl' has no attribute {name!r}")
