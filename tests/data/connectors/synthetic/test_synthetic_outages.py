"""Configured vendor outages refuse the first request(s) and recover on retry, across processes."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from synthetic_requests import fetch

from trademl.config import REPO_ROOT
from trademl.data.connectors.base import FetchRequest, VendorUnavailable
from trademl.data.connectors.synthetic import SyntheticConnector

OUTAGE = {"name": "t-outage", "datasets": ["equities_eod"], "start": "2024-03-06", "end": "2024-03-07", "failures": 1}
REQ = FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8))


def test_outage_fails_first_request_then_a_second_connector_recovers(make_connector, tmp_path):
    first = make_connector(state_dir=tmp_path, outages=[OUTAGE]).fetch(REQ)
    assert sorted(first.failed_sessions) == ["2024-03-06", "2024-03-07"]
    assert sorted(first.frame["date"].dt.strftime("%Y-%m-%d").unique()) == ["2024-03-04", "2024-03-05", "2024-03-08"]
    retry = make_connector(state_dir=tmp_path, outages=[OUTAGE]).fetch(REQ)  # another instance, same state dir
    assert retry.failed_sessions == {}
    assert len(retry.frame) == 5 * len(first.frame) // 3


def test_outage_with_two_failures_needs_a_third_request(make_connector, tmp_path):
    spec = dict(OUTAGE, failures=2)
    results = [make_connector(state_dir=tmp_path, outages=[spec]).fetch(REQ).failed_sessions for _ in range(3)]
    assert [sorted(r) for r in results] == [["2024-03-06", "2024-03-07"]] * 2 + [[]]


def test_outage_does_not_touch_other_datasets(make_connector, tmp_path):
    conn = make_connector(state_dir=tmp_path, outages=[OUTAGE])
    res = conn.fetch(FetchRequest("universe", REQ.start, REQ.end))
    assert res.failed_sessions == {} and res.frame["date"].nunique() == 5


def test_error_mode_outage_raises_vendor_unavailable(make_connector):
    conn = make_connector(outages=[dict(OUTAGE, mode="error")])
    with pytest.raises(VendorUnavailable, match="t-outage"):
        conn.fetch(REQ)
    assert conn.fetch(REQ).failed_sessions == {}  # in-memory attempt counts


def test_symbol_scoped_outage_withholds_only_those_symbols(make_connector):
    conn = make_connector(outages=[dict(OUTAGE, symbols=["SYN003"])])
    res = conn.fetch(REQ)
    assert sorted(res.failed_sessions) == ["2024-03-06", "2024-03-07"]
    day = res.frame[res.frame["date"] == "2024-03-06"]
    kept = res.frame[res.frame["date"] == "2024-03-05"]
    assert set(kept["symbol"]) - set(day["symbol"]) == {"SYN003"}


def test_from_settings_keeps_state_under_the_data_root_and_env_turns_outages_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_SYNTHETIC_N_SYMBOLS", "7")
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "on")
    conn = SyntheticConnector.from_settings(tmp_path)
    assert conn.state_dir == tmp_path / "vendor_state" / "synthetic"
    assert len(conn.roster) == 7 and len(conn.config.outages) == 1
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "off")
    assert SyntheticConnector.from_settings(tmp_path).config.outages == ()


def test_demo_config_outage_hits_equities_eod_once_inside_the_demo_window(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_SYNTHETIC_N_SYMBOLS", "5")
    monkeypatch.delenv("TRADEML_SYNTHETIC_OUTAGES", raising=False)
    doc = yaml.safe_load((REPO_ROOT / "configs" / "synthetic.yml").read_text())
    [outage] = doc["outages"]
    assert outage["datasets"] == ["equities_eod"] and "2025-01-02" <= str(outage["start"]) <= str(outage["end"]) <= "2025-06-30"
    first = SyntheticConnector.from_settings(tmp_path).fetch(FetchRequest("equities_eod", dt.date(2025, 4, 1), dt.date(2025, 4, 30)))
    again = SyntheticConnector.from_settings(tmp_path).fetch(FetchRequest("equities_eod", dt.date(2025, 4, 1), dt.date(2025, 4, 30)))
    assert 1 <= len(first.failed_sessions) <= 5 and again.failed_sessions == {}


def test_bad_env_override_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_SYNTHETIC_SEED", "seven")
    with pytest.raises(ValueError, match="TRADEML_SYNTHETIC_SEED"):
        SyntheticConnector.from_settings(tmp_path)
