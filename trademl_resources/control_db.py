"""The control database (partition_status, backfill_queue, pipeline_runs) as a Dagster resource."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine

from trademl.config import settings
from trademl.data.control import control_engine


class ControlDbResource(dg.ConfigurableResource):
    """SQLite under the data root by default; Postgres when DB_URI (or `db_uri`) is set."""

    db_uri: str = ""

    def engine(self) -> Engine:
        return control_engine(self.db_uri or settings().db_uri)
