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
# Bytes after each of the seven commas inside a bar, i.e. the keys of o, h, l, c, v, n, vw.
_KEYS = (b'"o":', b'"h":', b'"l":', b'"c":', b'"v":', b'"n":', b'"vw":')
_KEY4 = np.frombuffer(b"".join(k[:4] for k in _KEYS), "<u4")  # first four bytes of each key, as words
_BAR_HEAD = np.frombuffer(b'{"t"' + b't":"', "<u4")  # '{"t":"' as the words at offsets 0 and 2
# Value k of a bar (t, o, h, l, c, v, n, vw) sits in text slot 2k of the bar's 16 slots.
_FLOAT_FIELDS = {"open": 2, "high": 4, "low": 6, "close": 8, "vwap": 14}
_INT_FIELDS = {"volume": 10, "trades": 12}
_FLOAT_SLOTS = np.array(list(_FLOAT_FIELDS.values()))
_INT_SLOTS = np.array(list(_INT_FIELDS.values()))
_TS_SLOT = np.array([0])
_CLOSE, _COMMA, _QUOTE, _COLON, _LBRACKET, _RBRACKET = (ord(c) for c in '},":[]')


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


def _slot_bitmap(slots: np.ndarray, n: int) -> pa.Buffer:
    """Validity bitmap selecting `slots` of each bar's 16 text slots (two bitmap bytes per bar)."""
    bits = np.zeros(16, bool)
    bits[slots] = True
    return pa.py_buffer(np.tile(np.packbits(bits, bitorder="little"), n))


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
    commas = np.flatnonzero(b[len(HEAD) : tail] == _COMMA) + len(HEAD)
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
    # The four bytes starting at every offset (and at every offset + 1), as little-endian words:
    # strided views of the page, no copy.
    words = np.ndarray((len(b) - 3,), "<u4", content, 0, (1,))
    words_after = np.ndarray((len(b) - 4,), "<u4", content, 1, (1,))
    _need(bool(np.all(words[opens] == _BAR_HEAD[0]) and np.all(words[opens + 2] == _BAR_HEAD[1])), 'bar does not start with {"t":"')
    _need(bool(np.all(b[opens + TS_LEN + 6] == _QUOTE)), "bar time is not YYYY-MM-DDTHH:MM:SSZ")
    _need(bool((words_after[inner] == _KEY4).all()), "bar keys are not o,h,l,c,v,n,vw")
    _need(bool(np.all(b[inner[:, 6] + 5] == _COLON)), 'bar key "vw" not followed by ":"')
    symbols, block = _symbol_blocks(content, b, opens, seps)

    # Value texts as one Arrow string array over the page bytes: slot 2k is value k of a bar
    # (t, o, h, l, c, v, n, vw), slot 2k+1 the text up to the next value. Arrow's casts parse only
    # valid slots, so each cast gets a bitmap selecting its slots: the texts are never copied.
    bounds = np.empty(16 * n + 1, np.int32)
    slots = bounds[:-1].reshape(n, 16)
    slots[:, 0] = opens + 6
    slots[:, 1] = opens + 6 + TS_LEN
    slots[:, 2:14:2] = inner[:, :6] + 5
    slots[:, 14] = inner[:, 6] + 6
    slots[:, 3:15:2] = inner[:, 1:]
    slots[:, 15] = closes
    bounds[-1] = closes[-1]
    offsets, data = pa.py_buffer(bounds), pa.py_buffer(content)

    def parsed(which: np.ndarray, typ: pa.DataType, dtype: type) -> np.ndarray:
        """All 16 slots of every bar, the `which` slots parsed as `typ`, as an (n, 16) view."""
        texts = pa.Array.from_buffers(pa.string(), 16 * n, [_slot_bitmap(which, n), offsets, data])
        try:
            out = texts.cast(typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise LayoutMismatch(f"value is not a {typ}: {exc}") from None
        width = np.dtype(dtype).itemsize
        return np.frombuffer(out.buffers()[1], dtype, count=16 * n, offset=out.offset * width).reshape(n, 16)

    floats = parsed(_FLOAT_SLOTS, pa.float64(), np.float64)
    counts = parsed(_INT_SLOTS, pa.int64(), np.int64)  # "12.0" or "1e3" are not whole-number texts: mismatch
    seconds = parsed(_TS_SLOT, pa.timestamp("s", "UTC"), np.int64)
    cols: dict[str, pa.Array] = {
        "symbol": symbols.take(pa.array(block)),
        "ts": pa.array(np.ascontiguousarray(seconds[:, _TS_SLOT[0]]), pa.int64()).view(pa.timestamp("s", "UTC")),
    }
    for name, slot in _FLOAT_FIELDS.items():
        values = np.ascontiguousarray(floats[:, slot])
        _need(bool(np.isfinite(values).all()), f"{name} is not a finite number")
        cols[name] = pa.array(values, pa.float64())
    for name, slot in _INT_FIELDS.items():
        cols[name] = pa.array(np.ascontiguousarray(counts[:, slot]), pa.int64())
    return cols, token
