"""The control database (partition_status, backfill_queue, pipeline_runs) as a Dagster resource."""

from __future__ import annotations

from functools import lru_cache

import dagster as dg
from sqlalchemy.engine import Engine

from trademl.data import control
from trademl.config import settings


@lru_cache(maxsize=8)
def _engine(db_uri: str) -> Engine:
    return control.make_engine(db_uri)


class ControlDbResource(dg.ConfigurableResource):
    """SQLite under the data root by default; Postgres when DB_URI (or `db_uri`) is set."""

    db_uri: str = ""

    def engine(self) -> Engine:
        return _engine(self.db_uri or settings().db_uri)
