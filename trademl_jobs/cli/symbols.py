"""`trademl symbols [--vendor V] [--asof D]`: what a vendor serves (`trademl.data.listings`)."""

from __future__ import annotations

import argparse
import json

from trademl import calendar
from trademl.config import settings
from trademl_jobs.cli.args import CliError, parse_date, say

SYMBOLS_PER_LINE = 10  # symbols per printed line of a listing without per-symbol spans


def cmd_symbols(args: argparse.Namespace) -> int:
    """Print the vendor's symbols on `--asof` (default: the latest completed XNYS session): a header
    saying where the list comes from, then the symbols (with their stored span when the vendor
    knows it, e.g. the files connector)."""
    from trademl.data.lake import Lake
    from trademl.data.listings import NoListing, vendor_symbols

    vendor = (args.vendor or settings().vendor).strip().lower()
    asof = parse_date(args.asof, "--asof") if args.asof else calendar.latest_completed_session()
    try:
        listing = vendor_symbols(vendor, asof, lake=Lake(settings().data_root))
    except NoListing as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        doc = {"vendor": listing.vendor, "asof": str(listing.asof), "source": listing.source,
               "symbols": list(listing.symbols), "spans": {k: list(v) for k, v in listing.spans.items()}}
        print(json.dumps(doc, sort_keys=True))
        return 0
    n = len(listing.symbols)
    say(f"{listing.vendor} on {listing.asof}: {n} symbol{'s' if n != 1 else ''} from {listing.source}")
    if listing.spans:
        width = max(len(s) for s in listing.symbols)
        for symbol in listing.symbols:
            first, last = listing.spans[symbol]
            say(f"  {symbol:<{width}}  {first}..{last}")
        return 0
    for i in range(0, n, SYMBOLS_PER_LINE):
        say("  " + " ".join(listing.symbols[i : i + SYMBOLS_PER_LINE]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `symbols` to the `trademl` parser."""
    sy = sub.add_parser("symbols", help="the symbols a vendor serves (synthetic: its universe; files: what its files hold)")
    sy.add_argument("--vendor", default=None, help="one vendor (default: $TRADEML_VENDOR)")
    sy.add_argument("--asof", default=None, help="session date (default: the latest completed XNYS session)")
    sy.add_argument("--json", action="store_true", help="print the listing as JSON")
    sy.set_defaults(func=cmd_symbols)
