"""What a vendor serves: `vendor_symbols(vendor, asof)`, behind `trademl symbols`.

The synthetic market lists its universe (configs/synthetic.yml), the files connector the symbols
its mappings' files hold (`Connector.symbols`). An HTTP vendor publishes no listing the node can
read offline, so its list is what the lake's reference/universe holds from that vendor
(``source_name``) on the last stored session on or before `asof`; with none stored the answer is
a `NoListing` error saying how to get one.
"""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc

from trademl.data.connectors.base import SymbolListing
from trademl.data.connectors.registry import OFFLINE, ROUTED, check_vendor_setting, connector_for
from trademl.data.lake import Lake

UNIVERSE_TABLE = "reference/universe"


class NoListing(ValueError):
    """The vendor has no listing the node can show (one line, says what to do)."""


def vendor_symbols(vendor: str, asof: dt.date, *, lake: Lake) -> SymbolListing:
    """The symbols `vendor` serves on `asof` (session date): its own listing, else the lake's
    reference/universe rows from it (see the module doc). ValueError for an unknown or composite
    vendor name; `NoListing` when neither exists."""
    names = check_vendor_setting(vendor)
    if len(names) != 1 or names[0] in ROUTED:
        raise ValueError(f"--vendor {vendor!r}: name one vendor (symbols are listed per vendor, not per route)")
    name = names[0]
    connector = connector_for(name, data_root=lake.root, fallback=False)
    listing = connector.symbols(asof)
    if listing is not None:
        return listing
    stored = _stored_universe(lake, name, asof)
    if stored is not None:
        return stored
    hint = "" if name in OFFLINE else (
        f"; store one with `trademl ingest --dataset universe --vendor {name} --start D --end D`"
    )
    raise NoListing(
        f"{name} publishes no symbol listing and the lake holds no reference/universe rows from {name} "
        f"on or before {asof}{hint}, or pass --symbols to ingest"
    )


def _stored_universe(lake: Lake, vendor: str, asof: dt.date) -> SymbolListing | None:
    """The listed symbols of the last reference/universe partition on or before `asof` that holds rows
    from `vendor`, or None when there is none."""
    days = [d for d in lake.partitions(UNIVERSE_TABLE) if d <= asof]
    for day in reversed(days):  # one step per stored partition, newest first; stops at the first hit
        rows = lake.read_partition(UNIVERSE_TABLE, day)
        mine = rows.filter(pc.and_(pc.equal(rows.column("source_name"), vendor), pc.fill_null(rows.column("is_listed"), True)))
        if mine.num_rows:
            symbols = tuple(sorted(set(mine.column("symbol").to_pylist())))
            return SymbolListing(vendor, asof, symbols, f"the lake's reference/universe of {day} (rows from {vendor})")
    return None
