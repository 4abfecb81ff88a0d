"""The labels layer's tables: forward outcomes per session, complete only once their window is observed.

A label at session D needs data through D + h sessions, so its partition is written only when the
whole forward window exists (never from partial data); until then the ledger holds it RED
``WINDOW_NOT_OBSERVED``.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec, table_schema

_f = pa.field

EQUITIES_XS_LABELS = TableSpec(
    name="labels/equities_xs",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        # ln(close_{t+k} / close_t) over k XNYS sessions, on prices adjusted as of t+k.
        _f("logret_fwd_1d", pa.float64()),
        _f("logret_fwd_5d", pa.float64()),
        _f("logret_fwd_20d", pa.float64()),
        # The same minus the session's cross-sectional mean.
        _f("xs_logret_fwd_1d", pa.float64()),
        _f("xs_logret_fwd_5d", pa.float64()),
        _f("xs_logret_fwd_20d", pa.float64()),
        # Vol-scaled triple barrier (configs/labels.yml tb_10d): outcome in {-1, 0, 1}, its return and end.
        _f("tb_10d_label", pa.int8()),
        _f("tb_10d_ret", pa.float64()),
        _f("tb_10d_t1", pa.date32()),
        metadata=False,
    ),
    partition_column="date",
    key=("symbol", "date"),
    description="equities_xs labels: forward log returns (1/5/20 sessions, raw and demeaned) and the 10-session triple barrier.",
)

SIGMA_LABELS = TableSpec(
    name="labels/sigma",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        # Spec 000 per session (configs/labels.yml sets.sigma), simple returns, direction UP/DOWN/FLAT:
        # first hour after the open (close of the bar one hour after the first regular bar / its close),
        _f("first_hour_ret", pa.float64()),
        _f("first_hour_y", pa.string()),
        # the session's close to the next session's open,
        _f("overnight_ret", pa.float64()),
        _f("overnight_y", pa.string()),
        # and the session's close to the close 5 sessions later.
        _f("fwd_5d_ret", pa.float64()),
        _f("fwd_5d_y", pa.string()),
        metadata=False,
    ),
    partition_column="date",
    key=("symbol", "date"),
    description="Sigma (spec 000) labels per session from intraday bars: first hour, overnight, 5-session forward.",
)

LABEL_TABLES: tuple[TableSpec, ...] = (EQUITIES_XS_LABELS, SIGMA_LABELS)
