"""The model layer's lake tables: what the champion model says about each session.

A score is written only by the model that was champion when the session was scored, and carries
that model's registry version, so a later promotion never rewrites what an earlier champion said.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec, table_schema

_f = pa.field

EQUITIES_XS_SCORES = TableSpec(
    name="models/equities_xs_scores",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        # The model's prediction of the next-session cross-sectional log return (higher: expected to outperform).
        _f("score", pa.float64(), nullable=False),
        # The MLflow registry version of `equities_xs` that was champion when the session was scored.
        _f("model_version", pa.string(), nullable=False),
        metadata=False,
    ),
    partition_column="date",
    key=("symbol", "date"),
    description="equities_xs champion scores per symbol and session, with the model version that produced them.",
)

MODEL_TABLES: tuple[TableSpec, ...] = (EQUITIES_XS_SCORES,)
