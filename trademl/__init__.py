"""TradeML domain library: plain Python over DataFrames/Arrow tables, no Dagster import anywhere."""

__version__ = "0.1.0"
