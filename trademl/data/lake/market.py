"""One lake, one market: a data root holds either the embedded synthetic market or real vendors' data.

The synthetic market's symbols (SYN001...) and prices are made up; real vendors' (and a user's own
files') are not. Mixed in one lake, a partition holds both (``source_name ['files' 'synthetic']``)
and nothing downstream can tell a made-up bar from a traded one. So the first ingest into a data
root writes a small marker, ``market.json`` at the root, naming its market::

    {"market": "synthetic", "first_source": "synthetic", "created_at": "2026-12-03T08:30:00Z"}

and every later ingest of the other market is refused (`MarketMismatchError`, one line naming the
data root and the fix) before anything is fetched or written. Every ingestion path runs through
`trademl.data.ingest.ingest`, which calls `claim_market` first: `trademl ingest`, `backfill run`,
`trademl demo` and runs launched from the UI alike.

Mixing on purpose (a test lake, a comparison) is allowed with ``TRADEML_FORCE_MARKET=1`` in the
environment (``trademl ingest --force-market`` sets it for its run); each forced ingest is listed
under ``forced`` in the marker, which keeps the market the root was created for.

A root without a marker that already holds data (written before markers existed) takes the market
of the vendors recorded in the newest partition of each table (``mixed`` if both are present);
an empty root takes the market of its first ingest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from trademl.data.lake.api import Lake
from trademl.schemas import ingested_tables

MARKER_NAME = "market.json"
FORCE_ENV = "TRADEML_FORCE_MARKET"
SYNTHETIC = "synthetic"
REAL = "real"
MIXED = "mixed"
_SYNTHETIC_SOURCES = frozenset({"synthetic"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class MarketMismatchError(ValueError):
    """An ingest would put one market's rows into a data root that holds the other's."""


def market_of_sources(sources: Iterable[str]) -> str:
    """``synthetic`` when every source is the embedded market, ``real`` when none is, else ``mixed``.

    A source is a provider name as connectors report it; routed names like ``alpaca+massive`` are
    split on ``+``.
    """
    names = {n.strip().lower() for s in sources for n in str(s).split("+") if n.strip()}
    synthetic = names & _SYNTHETIC_SOURCES
    if synthetic and names - synthetic:
        return MIXED
    return SYNTHETIC if synthetic else REAL


def connector_sources(connector: Any) -> list[str]:
    """The providers a connector may serve from: a routed connector's preferred providers, else its source_name."""
    prefer = getattr(connector, "prefer", None)
    return list(prefer) if prefer else [str(connector.source_name)]


def force_requested() -> bool:
    """True when TRADEML_FORCE_MARKET is set to 1/true/yes/on."""
    return os.environ.get(FORCE_ENV, "").strip().lower() in _TRUE


def read_marker(lake: Lake) -> dict[str, Any] | None:
    """The marker document of the lake's root, or None when the root has none yet."""
    store = lake._store
    path = store.join(lake.root, MARKER_NAME)
    try:
        doc = json.loads(store.read_bytes(path))
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        raise MarketMismatchError(f"data root {lake.root}: {MARKER_NAME} is unreadable ({exc}); delete it to re-detect the market") from None
    return doc if isinstance(doc, dict) else None


def lake_market(lake: Lake) -> str | None:
    """The market the lake's root holds: from its marker, else inferred from stored data; None when empty."""
    doc = read_marker(lake)
    if doc is not None:
        return str(doc.get("market"))
    vendors = stored_vendors(lake)
    return market_of_sources(vendors) if vendors else None


def stored_vendors(lake: Lake, tables: Sequence[str] | None = None) -> set[str]:
    """Vendors recorded in the newest version of the newest partition of each table (a cheap sample:
    one manifest per table) - enough to tell which market an unmarked root was filled from. Only
    ingested tables are sampled: derived tables carry no vendor."""
    found: set[str] = set()
    for table in tables or sorted(ingested_tables()):
        days = lake.partitions(table)
        if not days:
            continue
        versions = lake.versions(table, days[-1])
        if versions and versions[-1].vendor:
            found.add(versions[-1].vendor)
    return found


def mismatch_message(root: str, held: str, incoming: str, sources: Sequence[str]) -> str:
    """The one-line refusal: which root, what it holds, what was asked, and the two ways out."""
    what = {SYNTHETIC: "the embedded synthetic market", REAL: "real vendors' data", MIXED: "both synthetic and real data"}
    return (
        f"data root {root} holds {what[held]} ({MARKER_NAME}); refusing to ingest {what[incoming]} "
        f"from {'+'.join(sources)} into it: use another TRADEML_DATA_ROOT for this market "
        f"(one data root per market), or set {FORCE_ENV}=1 (trademl ingest --force-market) to mix them anyway"
    )


def check_market(lake: Lake, sources: Sequence[str], *, force: bool | None = None) -> str:
    """Raise MarketMismatchError when `sources` belong to another market than the lake's; return their market.

    `force` None reads TRADEML_FORCE_MARKET. Writes nothing (see `claim_market`).
    """
    incoming = market_of_sources(sources)
    held = lake_market(lake)
    forced = force_requested() if force is None else force
    if held is not None and (held != incoming or incoming == MIXED) and not forced:
        raise MarketMismatchError(mismatch_message(lake.root, held, incoming, sources))
    return incoming


def claim_market(lake: Lake, connector: Any, *, force: bool | None = None) -> None:
    """The ingest hook: refuse a connector of the other market, else record the root's market.

    Writes ``market.json`` at the first ingest into a root (atomically; the market of the data
    already there when the root predates markers), and appends a forced ingest of the other market
    to its ``forced`` list.
    """
    sources = connector_sources(connector)
    incoming = check_market(lake, sources, force=force)
    doc = read_marker(lake)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if doc is None:
        held = lake_market(lake) or incoming
        doc = {"market": held, "first_source": "+".join(sources), "created_at": now}
    elif doc.get("market") == incoming and incoming != MIXED:
        return
    if doc["market"] != incoming or incoming == MIXED:
        doc.setdefault("forced", []).append({"source": "+".join(sources), "market": incoming, "at": now})
    _write_marker(lake, doc)


def _write_marker(lake: Lake, doc: dict[str, Any]) -> None:
    store = lake._store
    store.makedirs(lake.root)
    store.put_atomic(store.join(lake.root, MARKER_NAME), (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
