"""Log lines are JSON objects with UTC timestamps and the record's extras."""

from __future__ import annotations

import datetime as dt
import json
import logging

from trademl.logs import JsonFormatter


def _record(**extra) -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "trademl.data.ingest", "levelname": "INFO", "msg": "wrote %d rows", "args": (3,)})
    rec.created = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z
    for k, v in extra.items():
        setattr(rec, k, v)
    return rec


def test_log_line_is_json_with_utc_timestamp():
    line = json.loads(JsonFormatter().format(_record()))
    assert line["ts"] == "2023-11-14T22:13:20.250+00:00"
    assert dt.datetime.fromisoformat(line["ts"]).utcoffset() == dt.timedelta(0)
    assert line["msg"] == "wrote 3 rows"
    assert line["level"] == "INFO" and line["logger"] == "trademl.data.ingest"


def test_extras_are_fields_and_non_scalars_are_stringified():
    line = json.loads(JsonFormatter().format(_record(table="raw/equities_bars", session=dt.date(2025, 3, 3))))
    assert line["table"] == "raw/equities_bars"
    assert line["session"] == "2025-03-03"
