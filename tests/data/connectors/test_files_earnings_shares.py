"""A user's files as earnings calendars and share counts: the same PIT dating as the vendors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.files import FileMapping, FilesConnector
from trademl.schemas import conform


def _conn(tmp_path, dataset: str, columns: dict[str, str]) -> FilesConnector:
    doc = {"dataset": dataset, "path": "f.csv", "format": "csv", "columns": columns}
    return FilesConnector([FileMapping.from_dict("f", doc)], root=tmp_path)


def test_earnings_file_with_a_stated_known_date_is_taken_at_its_word(tmp_path):
    pd.DataFrame({"ticker": ["AAA", "BBB"], "report": ["2024-05-02", "2024-04-25"], "when": ["amc", "BMO"],
                  "announced": ["2024-03-30", None]}).to_csv(tmp_path / "f.csv", index=False)
    conn = _conn(tmp_path, "earnings_calendar", {"symbol": "ticker", "earnings_date": "report", "time_of_day": "when", "known_date": "announced"})
    frame = conn.fetch(FetchRequest("earnings_calendar", dt.date(2024, 1, 2), dt.date(2024, 6, 28))).to_pandas()
    got = dict(zip(frame["symbol"], frame["known_date"].astype(str)))
    # AAA: announced on a Saturday -> the next session; BBB: no date given -> its announcement session (bmo).
    assert got == {"AAA": "2024-04-01", "BBB": "2024-04-25"}
    assert dict(zip(frame["symbol"], frame["time_of_day"])) == {"AAA": "amc", "BBB": "bmo"}
    conform("earnings_calendar", frame, vendor="files")


def test_shares_file_is_dated_by_acceptance_else_filing(tmp_path):
    pd.DataFrame({"ticker": ["AAA", "AAA"], "quarter": ["2023-12-31", "2024-03-31"], "shares": [1.0e9, 0.99e9],
                  "filed": ["2024-02-01", "2024-05-03"], "accepted": [None, "2024-05-02T22:04:25Z"]}).to_csv(tmp_path / "f.csv", index=False)
    conn = _conn(tmp_path, "shares_outstanding", {"symbol": "ticker", "period_end": "quarter", "shares_outstanding": "shares",
                                                   "filing_date": "filed", "accepted_at": "accepted"})
    frame = conn.fetch(FetchRequest("shares_outstanding", dt.date(2024, 1, 2), dt.date(2024, 6, 28))).to_pandas()
    # Accepted 18:04 New York on 05-02, after the close: the 05-03 session.
    assert frame["date"].astype(str).tolist() == ["2024-02-01", "2024-05-03"]
    assert frame["shares_outstanding"].tolist() == [1.0e9, 0.99e9]
    conform("shares_outstanding", frame, vendor="files")


def test_shares_mapping_needs_the_count_column():
    with pytest.raises(ValueError, match="shares_outstanding"):
        FileMapping.from_dict("f", {"dataset": "shares_outstanding", "path": "f.csv", "columns": {"symbol": "t", "period_end": "q"}})
