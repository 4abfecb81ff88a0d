"""`trademl files`: the files connector's mappings - `files list` shows them, `files check` validates one.

Both read the mappings folder (TRADEML_FILES_MAPPINGS, else configs/files/) and never write.
`files check <mapping>` exits 0 when the mapping would ingest cleanly, 1 when it lists problems,
and 2 (one line) when the mapping itself is invalid or unknown.
"""

from __future__ import annotations

import argparse

from trademl_jobs.cli.args import say


def cmd_check(args: argparse.Namespace) -> int:
    from trademl.data.connectors.files import check_mapping, find_mapping

    report = check_mapping(find_mapping(args.mapping), root=args.root)
    for line in report.lines():
        say(line)
    return 0 if report.ok else 1


def cmd_list(args: argparse.Namespace) -> int:
    from trademl.data.connectors.files import load_mappings, mappings_dir

    folder = mappings_dir()
    mappings = load_mappings()
    say(f"mappings in {folder}: {len(mappings)}")
    for m in mappings:
        say(f"  {m.name}: {m.dataset} <- {', '.join(m.paths)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `files list` and `files check` to the `trademl` parser."""
    files = sub.add_parser("files", help="the files connector's mappings (TRADEML_FILES_MAPPINGS, else configs/files/)")
    files_sub = files.add_subparsers(dest="files_command", required=True)
    ls = files_sub.add_parser("list", help="the mappings in use and the files each names")
    ls.set_defaults(func=cmd_list)
    check = files_sub.add_parser("check", help="validate a mapping against its files and show what it would ingest")
    check.add_argument("mapping", help="a mapping name (the .yml file's stem in the mappings folder) or a path to a .yml")
    check.add_argument("--root", default=None, help="where relative paths resolve (default: TRADEML_FILES_ROOT, else the mapping's root: or folder)")
    check.set_defaults(func=cmd_check)
