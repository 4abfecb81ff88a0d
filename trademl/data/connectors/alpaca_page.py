"""Vectorised scanner for Alpaca bars pages in the layout Alpaca's servers emit (JSON -> Arrow columns).

Alpaca serialises a ``/v2/stocks/bars`` page compactly, keys in a fixed order:
``{"bars":{"SYM":[{"t":"2024-03-08T14:30:00Z","o":1.5,"h":..,"l":..,"c":..,"v":100,"n":3,"vw":..},..],..},
"next_page_token":"…"|null}``. Every bar then holds exactly seven commas and is followed by one, so
one numpy pass over the page finds all the structure; each bar is checked byte for byte against
the layout (keys, quotes, braces, separators) and the number and timestamp texts become columns
through Arrow's casts, reading the texts in place: no Python object per bar. Any other layout
(whitespace, another key order, missing or null fields, escapes, empty symbol lists) raises
`LayoutMismatch` and the caller reads the page with a general JSON reader; a page is never
half-accepted. Numbers are parsed by Arrow, which also takes a few spellings JSON forbids (a
leading zero or '+'); the value is the one the text denotes either way.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

HEAD = b'{"bars":{'
TAIL = b'},"next_page_token":'
TS_LEN = 20  # "YYYY-MM-DDTHH:MM:SSZ"
# The keys after the seven commas inside a bar: "o":, "h":, "l":, "c":, "v":, "n":, "vw":.
_KEY_LETTER = np.frombuffer(b"ohlcvnv", np.uint8)  # the byte after each key's opening quote
_BAR_HEAD = np.frombuffer(b'{"t"' + b't":"', "<u4")  # '{"t":"' as the words at offsets 0 and 2
# Number fields by the comma that precedes them inside a bar (0 = the comma after the time).
_FLOAT_FIELDS = {"open": 0, "high": 1, "low": 2, "close": 3, "vwap": 6}
_INT_FIELDS = {"volume": 4, "trades": 5}
_CLOSE, _COMMA, _QUOTE, _COLON, _LBRACKET, _RBRACKET, _W = (ord(c) for c in '},":[]w')


class LayoutMismatch(ValueError):
    """The page is not in Alpaca's compact layout (it may still be valid JSON for a general reader)."""


def _need(ok: bool | np.bool_, what: str) -> None:
    if not ok:
        raise LayoutMismatch(what)


def _page_token(content: bytes, tail: int) -> str | None:
    text = content[tail + len(TAIL) : -1]
    _need(content.endswith(b"}"), "page does not end with '}'")
    try:
        token = json.loads(text)
    except ValueError:
        raise LayoutMismatch("next_page_token is not a JSON string or null") from None
    _need(token is None or isinstance(token, str), "next_page_token is not a string")
    return token or None


def _parse_texts(starts: np.ndarray, ends: np.ndarray, typ: pa.DataType, dtype: type, data: pa.Buffer) -> np.ndarray:
    """The texts data[starts:ends] (both (n, k), in page order) parsed as `typ`, as an (n, k) array.

    One Arrow string array over the page bytes reads them in place: slot 2j is a text, slot 2j+1
    the bytes up to the next one, marked null so the cast never looks at it.
    """
    n, k = starts.shape
    slots = 2 * n * k
    offsets = np.empty(slots + 1, np.int32)
    offsets[0:-1:2] = starts.ravel()
    offsets[1::2] = ends.ravel()
    offsets[-1] = offsets[-2]
    every_other = pa.py_buffer(np.full((slots + 7) // 8, 0x55, np.uint8))  # bits 0, 2, 4, ... set
    texts = pa.Array.from_buffers(pa.string(), slots, [every_other, pa.py_buffer(offsets), data])
    try:
        out = texts.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LayoutMismatch(f"value is not a {typ}: {exc}") from None
    width = np.dtype(dtype).itemsize
    return np.frombuffer(out.buffers()[1], dtype, count=slots, offset=out.offset * width).reshape(n, 2 * k)[:, 0::2]


def _symbol_blocks(content: bytes, b: np.ndarray, opens: np.ndarray, seps: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Symbol names of the page's blocks and, per bar, the index of its block.

    `seps` holds the separator comma after each bar but the last: ``},{`` inside a symbol's list,
    ``}],"SYM":[{`` between symbols.
    """
    new_block = np.ones(len(opens), bool)
    new_block[1:] = b[seps - 1] == _RBRACKET
    inner = ~new_block[1:]
    _need(bool(np.all(opens[1:][inner] == seps[inner] + 1)), "bytes between two bars of a symbol")
    first = np.flatnonzero(new_block)
    name_start = np.empty(len(first), np.int64)
    name_start[0] = len(HEAD) + 1
    name_start[1:] = seps[first[1:] - 1] + 2
    name_end = opens[first] - 3
    _need(bool(np.all(name_end > name_start)), "empty symbol key")
    _need(bool(np.all(b[name_start - 1] == _QUOTE) and np.all(b[name_end] == _QUOTE)), "symbol key not quoted")
    _need(bool(np.all(b[name_end + 1] == _COLON) and np.all(b[opens[first] - 1] == _LBRACKET)), "symbol key not followed by :[")
    # One slice per symbol on the page (tens), never per bar.
    names = [content[s:e].decode("utf-8") for s, e in zip(name_start.tolist(), name_end.tolist())]
    _need(not any('"' in s or "\\" in s for s in names), "symbol key with escapes")
    return pa.array(names, type=pa.string()), np.cumsum(new_block, dtype=np.int32) - 1


def scan_bars_page(content: bytes) -> tuple[dict[str, pa.Array], str | None]:
    """Columns (symbol, ts, open, high, low, close, volume, trades, vwap) and next page token of one page.

    ``ts`` is timestamp[s, UTC]; volume and trades are int64. Raises `LayoutMismatch` unless every
    byte that is not a symbol name, number or timestamp text matches Alpaca's compact layout.
    """
    _need(content.startswith(HEAD), "page does not start with {\"bars\":{")
    tail = content.rfind(TAIL)
    _need(tail >= len(HEAD), "no next_page_token after the bars object")
    token = _page_token(content, tail)
    if tail == len(HEAD):
        return {}, token
    b = np.frombuffer(content, np.uint8)
    _need(b[tail - 1] == _RBRACKET and b[tail - 2] == _CLOSE, "bars object does not end with }]")
    # Every bar holds seven commas and is followed by one (the last bar by the end of the bars).
    commas = np.flatnonzero(b[:tail] == _COMMA)  # HEAD holds none
    _need((len(commas) + 1) % 8 == 0, "comma count does not fit whole bars")
    n = (len(commas) + 1) // 8
    marks = np.append(commas, tail).reshape(n, 8)
    inner, seps = marks[:, :7], marks[:-1, 7]
    opens = inner[:, 0] - (TS_LEN + 7)
    closes = np.empty(n, np.int64)
    closes[:-1] = np.where(b[seps - 1] == _RBRACKET, seps - 2, seps - 1)
    closes[-1] = tail - 2
    _need(bool(opens[0] >= len(HEAD) + 4 and np.all(b[closes] == _CLOSE)), "bar braces out of place")
    # Text slots below must run forward through the page: each bar after the previous one, and
    # its last value ("vw") at least one byte long.
    _need(bool(np.all(opens[1:] > closes[:-1]) and np.all(closes >= inner[:, 6] + 7)), "bars overlap")
    # The four bytes starting at every offset, as little-endian words (a strided view, no copy).
    words = np.ndarray((len(b) - 3,), "<u4", content, 0, (1,))
    _need(bool(np.all(words[opens] == _BAR_HEAD[0]) and np.all(words[opens + 2] == _BAR_HEAD[1])), 'bar does not start with {"t":"')
    _need(bool(np.all(b[opens + TS_LEN + 6] == _QUOTE)), "bar time is not YYYY-MM-DDTHH:MM:SSZ")
    # Keys: the letters and the colon at their places after each comma ('"o":' ... '"vw":'), and
    # every quote of the bars where the layout puts one. Quotes are only checked by count: a
    # quote anywhere else lands in a number or time text (the casts below refuse it) or in a
    # symbol name (refused in _symbol_blocks), so a right count means the right places.
    _need(bool(np.array_equal(b[inner + 2], np.broadcast_to(_KEY_LETTER, (n, 7)))), "bar keys are not o,h,l,c,v,n,vw")
    _need(bool(np.all(b[inner + 4][:, :6] == _COLON) and np.all(b[inner[:, 6] + 3] == _W) and np.all(b[inner[:, 6] + 5] == _COLON)), "bar key not followed by ':'")
    symbols, block = _symbol_blocks(content, b, opens, seps)
    quotes = int(np.count_nonzero(b[len(HEAD) : tail] == _QUOTE))
    _need(quotes == 18 * n + 2 * len(symbols), "quotes out of place")

    # Value texts: the time after '{"t":"', each number after its key up to the next comma (the
    # last one, "vw", up to the closing brace).
    data = pa.py_buffer(content)
    value_starts = inner + 5
    value_starts[:, 6] += 1  # '"vw":' is one byte longer
    value_ends = np.empty_like(inner)
    value_ends[:, :6] = inner[:, 1:]
    value_ends[:, 6] = closes
    float_at, int_at = list(_FLOAT_FIELDS.values()), list(_INT_FIELDS.values())
    floats = _parse_texts(value_starts[:, float_at], value_ends[:, float_at], pa.float64(), np.float64, data)
    counts = _parse_texts(value_starts[:, int_at], value_ends[:, int_at], pa.int64(), np.int64, data)
    seconds = _parse_texts((opens + 6)[:, None], (opens + 6 + TS_LEN)[:, None], pa.timestamp("s", "UTC"), np.int64, data)
    cols: dict[str, pa.Array] = {
        "symbol": symbols.take(pa.array(block)),
        "ts": pa.array(np.ascontiguousarray(seconds[:, 0]), pa.int64()).view(pa.timestamp("s", "UTC")),
    }
    for k, name in enumerate(_FLOAT_FIELDS):
        values = np.ascontiguousarray(floats[:, k])
        _need(bool(np.isfinite(values).all()), f"{name} is not a finite number")
        cols[name] = pa.array(values, pa.float64())
    for k, name in enumerate(_INT_FIELDS):  # "12.0" or "1e3" are not whole-number texts: mismatch
        cols[name] = pa.array(np.ascontiguousarray(counts[:, k]), pa.int64())
    return cols, token
