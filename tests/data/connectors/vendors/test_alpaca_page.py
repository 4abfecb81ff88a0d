"""The vectorised Alpaca page scanner: same columns as a JSON parser on Alpaca's layout, never accepts anything else."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trademl.data.connectors.alpaca import _parse_bars_page_slow, parse_bars_page
from trademl.data.connectors.alpaca_page import LayoutMismatch, scan_bars_page
from trademl.data.connectors.base import VendorError
from trademl.data.connectors.normalize import to_utc

COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume", "trades", "vwap")


def bar(minute: int, price: float = 187.25, volume: int = 1200) -> dict:
    """One Alpaca minute bar, keys in the order Alpaca sends them."""
    return {
        "t": f"2024-03-08T14:{30 + minute:02d}:00Z",
        "o": price,
        "h": price + 0.5,
        "l": price - 0.25,
        "c": price + 0.125,
        "v": volume + minute,
        "n": 17 + minute,
        "vw": price + 0.1,
    }


def page(bars: dict[str, list[dict]], token: str | None = "tok2", **dumps: object) -> bytes:
    opts = {"separators": (",", ":")} | dumps
    return json.dumps({"bars": bars, "next_page_token": token}, **opts).encode()


TWO_SYMBOLS = {"AAPL": [bar(0), bar(1), bar(2)], "BRK.B": [bar(0, 412.5, 90), bar(1, 413.0, 91)]}


def as_python(cols: dict[str, pa.Array]) -> dict[str, list]:
    """Columns as plain values, timestamps as UTC instants and numbers as floats (reader types differ)."""
    out = {}
    for name in COLUMNS:
        arr = cols[name]
        if name == "ts":
            arr = to_utc(arr)
        elif name != "symbol":
            arr = arr.cast(pa.float64())
        out[name] = arr.to_pylist()
    return out


def json_reference(content: bytes) -> dict[str, list] | None:
    """What a plain JSON parser reads from the page (None when the body is not valid JSON bars)."""
    try:
        cols, _ = _parse_bars_page_slow(content)
        return as_python(cols) if cols else {}
    except (VendorError, ValueError, pa.ArrowInvalid, pa.ArrowTypeError):  # not JSON, or not bars
        return None


def test_scanner_reads_what_a_json_parser_reads():
    content = page(TWO_SYMBOLS)
    cols, token = scan_bars_page(content)
    assert token == "tok2"
    assert as_python(cols) == json_reference(content)


def test_scanner_gives_symbols_utc_seconds_and_integer_counts():
    cols, _ = scan_bars_page(page(TWO_SYMBOLS))
    assert cols["symbol"].to_pylist() == ["AAPL"] * 3 + ["BRK.B"] * 2
    assert cols["ts"].type == pa.timestamp("s", "UTC")
    assert cols["ts"][1].as_py().isoformat() == "2024-03-08T14:31:00+00:00"
    assert cols["volume"].type == pa.int64() and cols["volume"].to_pylist()[-2:] == [90, 92]
    assert cols["vwap"].to_pylist()[0] == pytest.approx(187.35)


def test_last_page_has_no_token():
    assert scan_bars_page(page(TWO_SYMBOLS, token=None))[1] is None


def test_page_without_bars_gives_no_columns():
    assert scan_bars_page(page({}, token=None)) == ({}, None)


def test_scientific_and_negative_exponent_numbers_parse_like_json():
    content = page({"X": [bar(0) | {"o": 1.5e-05, "l": 1e-06, "vw": 2.5e-05}]})
    assert as_python(scan_bars_page(content)[0]) == json_reference(content)


@pytest.mark.parametrize(
    "content",
    [
        page(TWO_SYMBOLS, separators=(", ", ": ")),
        page({"AAPL": [{k: bar(0)[k] for k in ("t", "c", "o", "h", "l", "v", "n", "vw")}]}),
        page({"AAPL": [{k: v for k, v in bar(0).items() if k != "n"}]}),
        page({"AAPL": [bar(0) | {"vw": None}]}),
        page({"AAPL": [bar(0) | {"v": 10.5}]}),
        page({"AAPL": [bar(0)], "MSFT": []}),
        page({'A"B': [bar(0)]}),
        page({"AAPL": [bar(0) | {"t": "2024-03-08T14:30:00.5Z"}]}),
        page({"AAPL": [bar(0) | {"t": "2024-03-08T09:30:00-05:00"}]}),
        json.dumps({"next_page_token": None, "bars": {"AAPL": [bar(0)]}}, separators=(",", ":")).encode(),
    ],
    ids=["spaces", "key-order", "missing-n", "null-vwap", "fractional-volume", "empty-list", "escaped-symbol",
         "fractional-second", "offset-time", "token-first"],
)
def test_other_layouts_are_left_to_the_general_reader(content):
    with pytest.raises(LayoutMismatch):
        scan_bars_page(content)
    # ...which still reads them (or reports them malformed), as before the scanner existed.
    try:
        cols, _ = parse_bars_page(content)
    except VendorError as err:
        assert err.qc_code == "MALFORMED_PAYLOAD"
    else:
        assert set(cols) >= {"symbol", "ts", "open"}


@pytest.mark.parametrize(
    "content",
    [page(TWO_SYMBOLS)[:-40], page(TWO_SYMBOLS).replace(b'"h":', b'"x":', 1), b'{"bars":{"A":[{"t":1}]}}', b"<html>502</html>"],
    ids=["truncated", "renamed-key", "wrong-types", "html"],
)
def test_malformed_pages_never_pass_the_scanner(content):
    with pytest.raises(LayoutMismatch):
        scan_bars_page(content)


def assert_rejected_or_read_as_json(content: bytes) -> None:
    """The scanner refuses the page, or reads exactly what a JSON parser reads (never invalid JSON)."""
    reference = json_reference(content)
    try:
        cols, _ = scan_bars_page(content)
    except LayoutMismatch:
        return
    assert reference is not None, f"scanner accepted invalid JSON: {content!r}"
    assert as_python(cols) == reference


STRUCTURAL = sorted(set(range(len(page(TWO_SYMBOLS)))) - {i for i, c in enumerate(page(TWO_SYMBOLS)) if chr(c) in "0123456789."})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.sampled_from(STRUCTURAL), byte=st.sampled_from(list(b'{}[],:"0123456789.-eEtZnulx\\ ')))
def test_a_changed_structural_byte_is_rejected_or_read_exactly_as_json(position, byte):
    content = bytearray(page(TWO_SYMBOLS))
    content[position] = byte
    assert_rejected_or_read_as_json(bytes(content))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1e5, allow_nan=False), st.integers(0, 10**9)), min_size=1, max_size=30))
def test_any_prices_and_volumes_read_like_json(values):
    bars = {"SYM": [bar(i % 29) | {"o": p, "h": p, "l": p, "c": p, "vw": p, "v": v} for i, (p, v) in enumerate(values)]}
    content = page(bars)
    assert as_python(scan_bars_page(content)[0]) == json_reference(content)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.sampled_from(STRUCTURAL), second=st.integers(0, len(page(TWO_SYMBOLS)) - 1))
def test_two_swapped_bytes_are_rejected_or_read_exactly_as_json(first, second):
    content = bytearray(page(TWO_SYMBOLS))
    content[first], content[second] = content[second], content[first]
    assert_rejected_or_read_as_json(bytes(content))


def test_pages_read_by_the_scanner_and_by_the_json_reader_concatenate():
    from trademl.data.connectors.alpaca import _concat

    compact = parse_bars_page(page({"AAPL": [bar(0), bar(1)]}))[0]
    general = parse_bars_page(page({"MSFT": [bar(2) | {"vw": None}]}, separators=(", ", ": ")))[0]
    merged = _concat([compact, general])
    assert merged["symbol"].to_pylist() == ["AAPL", "AAPL", "MSFT"]
    assert merged["volume"].to_pylist() == [1200, 1201, 1202]
    assert merged["vwap"].to_pylist()[2] is None
    assert [t.isoformat() for t in to_utc(merged["ts"]).to_pylist()] == [
        "2024-03-08T14:30:00+00:00", "2024-03-08T14:31:00+00:00", "2024-03-08T14:32:00+00:00"]
