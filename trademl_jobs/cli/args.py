"""What every `trademl` command shares: one-line user errors, argument parsing, the control db."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from trademl import calendar
from trademl.config import path_sources, settings
from trademl.schemas import TABLES, table_spec


class CliError(Exception):
    """A user error: printed as one line, exit code 2, never a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (`trademl: error: ...`, exit 2), like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        where = self.prog.removeprefix("trademl").strip()
        self.exit(2, f"trademl: error: {where + ': ' if where else ''}{message} (see `{self.prog} --help`)\n")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown log level {value!r}; choose one of {', '.join(LOG_LEVELS)}")
    return level


def positive_int(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def reject_unhappened(end: dt.date, name: str) -> None:
    """Sessions after the latest completed XNYS session have no data anywhere yet: refuse them up front."""
    latest = calendar.latest_completed_session()
    later = calendar.sessions(calendar.next_session(latest), end) if end > latest else []
    if len(later):
        span = f"{later[0].date()}" + (f"..{later[-1].date()}" if len(later) > 1 else "")
        raise CliError(
            f"{name} {end} reaches past the latest completed XNYS session {latest}: {span} "
            f"({len(later)} session{'s' if len(later) > 1 else ''}) not closed yet, so no vendor has data for them"
        )


def say(msg: str) -> None:
    print(msg, flush=True)


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"{name} {value!r} is not a date (expected YYYY-MM-DD)") from exc


_SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,14}$")


def parse_symbols(raw: str) -> list[str]:
    symbols = [s.strip().upper() for s in raw.split(",") if s.strip()]
    bad = [s for s in symbols if not _SYMBOL_RE.match(s)]
    if bad or not symbols:
        raise CliError(f"--symbols {raw!r}: not a valid symbol list (e.g. AAPL,MSFT,BRK.B); bad: {', '.join(bad) or 'empty'}")
    return symbols


def resolve_tables(names: Sequence[str]) -> list[str]:
    out = []
    for raw in names:
        for name in [n.strip() for n in raw.split(",") if n.strip()]:
            try:
                out.append(table_spec(name).name)
            except ValueError as exc:
                raise CliError(str(exc)) from exc
    if not out:
        raise CliError("no tables given; known tables: " + ", ".join(sorted(TABLES)))
    return out


def control_db():
    """The control db engine of the configured node (DB_URI, else the SQLite file in the data root)."""
    from trademl.data.control import control_engine

    return control_engine(settings().db_uri)


def require_data_root() -> Path:
    """The data root, for a command that only reads: a one-line error naming the path and where it
    came from when it does not exist, instead of creating an empty lake in the wrong place."""
    root, source = path_sources()["data_root"]
    if not root.is_dir():
        raise CliError(
            f"no data root at {root} ({source}): nothing is stored there yet; run `trademl demo` or "
            "`trademl ingest`, or set TRADEML_DATA_ROOT to your lake (`trademl where` shows every path)"
        )
    return root


def existing_control_db():
    """`control_db()` for a command that only reads: when the control db is the data root's SQLite
    file, the data root and that file must exist (a one-line error otherwise, nothing created)."""
    from sqlalchemy.engine import make_url

    s = settings()
    url = make_url(s.db_uri)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if Path(url.database) == s.control_db_path:
            require_data_root()
        if not Path(url.database).expanduser().is_file():
            raise CliError(
                f"no control db at {url.database}: nothing has been ingested on this node yet "
                "(`trademl where` shows every path)"
            )
    return control_db()


def add_out_arguments(cmd: argparse.ArgumentParser, what: str) -> None:
    """`--out FILE` (relative paths land in the data root's exports/) and `--allow-outside`."""
    cmd.add_argument("--out", default=None,
                     help=f"write {what} to this file; a relative path goes under the data root's exports/, "
                          "a path outside the data root needs --allow-outside")
    cmd.add_argument("--allow-outside", action="store_true", help="let --out point outside the data root")


def export_path(out: str, allow_outside: bool) -> Path:
    """The resolved file `--out` names (spec 000 sanitize_out_path): relative to exports/, inside the
    data root unless `allow_outside`; CliError otherwise. Its folder is created."""
    from trademl.config import sanitize_out_path

    exports = settings().exports_dir
    try:
        return sanitize_out_path(out, exports, allow_outside=allow_outside, base=exports)
    except ValueError as exc:
        raise CliError(f"--out {out!r}: {exc}; or pass --allow-outside") from None
