"""`trademl` console script: demo, status, audit, backfill, ingest, materialize, train, evaluate, promote,
report, files, symbols, lake, sql, ui and where — each running through Dagster (`lake` reads the lake directly: a partition's versions, an
older version, accepting a revision; `files` lists and checks your file mappings; `sql` queries
read-only views of the lake's tables; `symbols` lists what a vendor serves; `where` prints the paths
every command uses and where each came from).

One module per command family, each with a `register(sub)` that adds its subcommands:
`data` (status, audit, backfill, ingest), `materialize`, `models` (train, evaluate, promote, report), `demo`, `files` (list, check mappings), `lake`, `sql`,
`symbols`, `ui`, `where`; `args` holds what they share.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from trademl.config import resolve_relative_path_variables
from trademl.logs import configure_logging
from trademl_jobs.cli import data, demo, files, lake, materialize, models, sql, symbols, ui, where
from trademl_jobs.cli.args import LOG_LEVELS, CliError, Parser, log_level

__all__ = ["CliError", "build_parser", "main"]

COMMAND_FAMILIES = (demo, data, materialize, models, files, symbols, lake, sql, ui, where)


def build_parser() -> Parser:
    p = Parser(prog="trademl", description=__doc__.splitlines()[0])
    p.add_argument("--log-level", type=log_level, default=os.environ.get("TRADEML_LOG_LEVEL", "WARNING"),
                   help=f"one of {', '.join(LOG_LEVELS)} (default: $TRADEML_LOG_LEVEL or WARNING)")
    sub = p.add_subparsers(dest="command", required=True)
    for family in COMMAND_FAMILIES:
        family.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    # Relative path variables are resolved once, here, against the directory the command started in.
    for note in resolve_relative_path_variables():
        print(f"trademl: {note}", file=sys.stderr)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"trademl: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # domain validation errors (unknown table, bad date range…)
        print(f"trademl: error: {exc}", file=sys.stderr)
        return 2

