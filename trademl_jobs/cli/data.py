"""The data node's commands: `status`, `audit gaps`, `backfill run`, `ingest`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from collections.abc import Sequence

from trademl import calendar
from trademl.config import settings
from trademl.schemas import DATASET_TABLES, table_spec
from trademl_jobs.cli.args import (
    CliError,
    control_db,
    existing_control_db,
    parse_date,
    parse_symbols,
    positive_int,
    reject_unhappened,
    resolve_tables,
    say,
)

INGEST_DATASETS = tuple(DATASET_TABLES)  # every dataset of the catalog (trademl.schemas)


def status_payload() -> dict:
    """The `trademl status --json` document. `tables`: ledger rows per status (symbol-sessions, the
    original key); `details`: per table its sessions per colour, symbol-sessions per status, first and
    last session, distinct symbols and sources (`control.table_summaries`); `queue`: tasks per
    status; `leases`: every LEASED task with its owner and lease expiry (UTC ISO), so a task held by
    a dead worker is visible until its lease expires."""
    from trademl.data import backfill, control

    engine = control_db()
    details = control.table_summaries(engine)
    tables = {t: d["symbol_sessions"] for t, d in details.items()}
    leases = [backfill.lease_record(t) for t in backfill.leased_tasks(engine)]
    return {"tables": tables, "details": details, "queue": control.queue_counts(engine), "leases": leases}


def cmd_status(args: argparse.Namespace) -> int:
    existing_control_db()  # read-only: a missing data root is an error, never created
    if args.symbol and not args.table:
        raise CliError("--symbol needs --table (e.g. --table raw/equities_bars --symbol SYN001)")
    if args.table:
        table = resolve_tables([args.table])[0]
        if args.symbol:
            return _print_symbol_status(table, args.symbol.strip().upper(), as_json=args.json)
    payload = status_payload()
    if args.table:
        payload["tables"] = {k: v for k, v in payload["tables"].items() if k == table}
        payload["details"] = {k: v for k, v in payload["details"].items() if k == table}
    if args.json:
        print(json.dumps(payload, sort_keys=True))
        return 0
    print_coverage(payload)
    return 0


def print_coverage(payload: dict) -> None:
    """One line per table: its session span, sessions per colour and, separately, symbol-sessions
    (ledger rows) per status, then its sources; the queue and leases below."""
    from trademl.data.red_explanation import session_span

    rows = payload.get("details", {})
    width = max([len(t) for t in rows] + [len("table")])
    spans = {t: session_span(d["first"], d["last"]) for t, d in rows.items()}
    sw = max([len(v) for v in spans.values()] + [len("first..last")])
    say(f"{'':<{width}}  {'':<{sw}}  {'sessions':^22}  {'symbol-sessions':^28}")
    say(f"{'table':<{width}}  {'first..last':<{sw}}  {'GREEN':>6} {'AMBER':>6} {'RED':>6}   {'GREEN':>8} {'AMBER':>8} {'RED':>8}  sources")
    for table in sorted(rows):
        d = rows[table]
        s, r = d["sessions"], d["symbol_sessions"]
        say(
            f"{table:<{width}}  {spans[table]:<{sw}}  {s['GREEN']:>6} {s['AMBER']:>6} {s['RED']:>6}   "
            f"{r['GREEN']:>8} {r['AMBER']:>8} {r['RED']:>8}  {', '.join(d['sources'])}"
        )
    if not rows:
        say("(the ledger holds no table yet: `trademl ingest` or `make demo` fills it)")
    q = payload["queue"]
    say("queue: " + ", ".join(f"{k} {q.get(k, 0)}" for k in ("PENDING", "LEASED", "DONE", "FAILED")))
    _print_leases(payload.get("leases", []))


def _json_scalar(value: object) -> object:
    """numpy scalars (counts, flags) as plain JSON values."""
    return value.item() if hasattr(value, "item") else str(value)


def _print_symbol_status(table: str, symbol: str, *, as_json: bool) -> int:
    """One symbol's sessions of `table` grouped into ranges of the same status, code and source
    (symbol-less rows that judge whole sessions included)."""
    from trademl.data import control
    from trademl.data.red_explanation import describe_sessions, session_span

    ranges = describe_sessions(control.read_symbol_status(control_db(), table, symbol))
    if as_json:
        print(json.dumps({"table": table, "symbol": symbol, "ranges": ranges.to_dict("records")}, sort_keys=True, default=_json_scalar))
        return 0
    if len(ranges) == 0:
        say(f"{table} {symbol}: no ledger rows (nothing ingested for it; see `trademl symbols` for what a vendor serves)")
        return 0
    counts = ranges.groupby("status")["sessions"].sum()
    say(
        f"{table} {symbol}: {session_span(ranges['first'].iloc[0], ranges['last'].iloc[-1])}, "
        + ", ".join(f"{c} {int(counts.get(c, 0))}" for c in ("GREEN", "AMBER", "RED")) + " (sessions)"
    )
    for r in ranges.to_dict("records"):
        n = f"{r['sessions']} session{'s' if r['sessions'] != 1 else ''}"
        code = f" {r['qc_code']}" if r["qc_code"] else ""
        why = f" ({r['detail']})" if r["detail"] and r["status"] != "GREEN" else ""
        scope = ", whole session" if r["whole_session"] else ""
        say(f"  {session_span(r['first'], r['last'])} ({n}): {r['status']}{code} from {r['source_name']}{scope}{why}")
    return 0


def _print_leases(leases: list[dict]) -> None:
    from trademl.data import backfill

    for lease in leases:
        say(f"  LEASED {backfill.describe_lease(lease)}")


def cmd_audit(args: argparse.Namespace) -> int:
    """Without dates: each table over the range already in the lake (nothing planned beyond it); with
    --start/--end: that window (the missing bound from the stage window). `--dry-run` writes nothing."""
    from trademl.data import backfill
    from trademl.data.lake import Lake

    tables = resolve_tables(args.tables)
    lake = Lake(settings().data_root)
    if not args.start and not args.end:
        for table in tables:
            span = backfill.stored_range(lake, table)
            if span is None:
                say(f"{table}: nothing stored; skipped (pass --start/--end to plan a fetch)")
            else:
                say(f"auditing {table} over {span[0]}..{span[1]} (the range in the lake; pass --start/--end to plan beyond it)")
        if all(backfill.stored_range(lake, t) is None for t in tables):
            say("nothing to audit: none of these tables has a stored partition (pass --start/--end to plan a fetch)")
            return 0
        report = backfill.audit_stored_ranges(tables, engine=control_db(), lake=lake, dry_run=args.dry_run)
        say(str(report))
        return 0
    start, end = backfill.stage_window()
    if args.start:
        start = parse_date(args.start, "--start")
    if args.end:
        end = parse_date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    reject_unhappened(end, "--end")
    say(f"auditing {', '.join(tables)} over {start}..{end}")
    report = backfill.audit_scan(tables, engine=control_db(), lake=lake, start=start, end=end, dry_run=args.dry_run)
    say(str(report))
    return 0


def _parse_budget(items: Sequence[str] | None) -> dict[str, int] | None:
    from trademl.data.connectors.registry import vendor_names

    if not items:
        return None
    budget: dict[str, int] = {}
    for item in items:
        vendor, sep, n = item.partition("=")
        if not sep or not n.strip().isdigit():
            raise CliError(f"--budget {item!r} must look like vendor=N (e.g. synthetic=100)")
        if vendor.strip().lower() not in vendor_names():
            raise CliError(f"--budget {item!r}: unknown vendor {vendor.strip()!r}; known vendors: {', '.join(vendor_names())}")
        budget[vendor.strip().lower()] = int(n)
    return budget


def cmd_backfill(args: argparse.Namespace) -> int:
    from trademl.data import backfill
    from trademl_jobs.runner import dagster_instance, execute_tasks

    budget = _parse_budget(args.budget)
    instance = dagster_instance()
    owner = f"cli:{settings().node_id}:{os.getpid()}"
    say(f"draining backfill_queue (budget: {budget or 'configured caps'})")
    run_tasks = execute_tasks(instance, owner)
    ran: list = []

    def execute(tasks: list) -> list[str]:
        ran.extend(tasks)
        return run_tasks(tasks)

    report = backfill.backfill_run(
        budget, engine=control_db(), execute=execute, owner=owner, max_tasks=args.max_tasks
    )  # prints its progress and summary itself
    for line in _still_red(ran):
        say(line)
    return 0 if report.gave_up == 0 and report.errors == 0 else 1


def _still_red(tasks: list) -> list[str]:
    """Why the tasks this run executed that did not end DONE are still RED: per task table, the
    ranges of RED sessions in their windows with qc_code, vendor, symbols and reason (the ledger's
    detail holds the vendor's reason)."""
    import pandas as pd

    from trademl.data import backfill, control
    from trademl.data.red_explanation import explain_red
    from trademl_jobs.queue import task_range

    engine = control_db()
    open_tasks = [t for t in tasks if (backfill.get_task(engine, t.id) or t).status != "DONE" and t.kind != "QC_PROBE"]
    by_table: dict[str, list] = {}
    for task in open_tasks:  # one ledger read per task window
        first, last = task_range(task)
        rows = control.read_partition_status(engine, table_spec(task.dataset).name, first, last)
        if task.symbol and task.symbol != "*":
            rows = rows[rows["symbol"].isna() | (rows["symbol"] == task.symbol)]
        by_table.setdefault(table_spec(task.dataset).name, []).append(rows)
    lines = []
    for table, frames in sorted(by_table.items()):
        rows = pd.concat(frames, ignore_index=True).drop_duplicates("status_key")
        causes = explain_red(rows)
        if causes:
            lines.append(f"still RED in {table}:")
            lines.extend(f"  {c}" for c in causes)
    return lines


def cmd_ingest(args: argparse.Namespace) -> int:
    from trademl_jobs.runner import dagster_instance, materialize_range

    if args.dataset not in INGEST_DATASETS:
        raise CliError(f"unknown dataset {args.dataset!r}; choose one of {', '.join(INGEST_DATASETS)}")
    start, end = parse_date(args.start, "--start"), parse_date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    sessions = calendar.sessions(start, end)
    if len(sessions) == 0:
        raise CliError(f"no XNYS session between {start} and {end}")
    reject_unhappened(end, "--end")
    vendor = args.vendor or settings().vendor  # --vendor, else TRADEML_VENDOR: passed to the run, never exported
    if args.vendor:
        from trademl.data.connectors.registry import check_vendor_setting

        check_vendor_setting(args.vendor)
    if args.force_market:
        os.environ["TRADEML_FORCE_MARKET"] = "1"  # read by ingest's market check in this run (trademl/data/lake/market.py)
    _check_market(vendor)
    symbols = parse_symbols(args.symbols) if args.symbols else None
    first, last = sessions[0].strftime("%Y-%m-%d"), sessions[-1].strftime("%Y-%m-%d")
    instance = dagster_instance()
    say(f"ingesting {args.dataset} {first}..{last} ({len(sessions)} sessions) from {vendor}")
    run = materialize_range(instance, [args.dataset], first, last, symbols=symbols, vendor=vendor)
    reasons = _why_failed(instance, run.run_id, args.dataset, first, last, symbols, run.success, vendor)
    ok = run.success and not reasons
    verdict = "succeeded" if ok else ("finished" if run.success else "failed")
    if len(reasons) == 1:
        say(f"run {run.run_id} {verdict} in {run.seconds:.1f}s: {reasons[0]}")
    else:
        say(f"run {run.run_id} {verdict} in {run.seconds:.1f}s" + (":" if reasons else ""))
        for reason in reasons:
            say(f"  {reason}")
    _print_range_colours(args.dataset, first, last)
    return 0 if ok else 1


def _check_market(vendor: str) -> None:
    """Refuse up front (one line, exit 2) what ingest from `vendor` would refuse: the other market's data in this root."""
    from trademl.data.connectors.registry import check_vendor_setting
    from trademl.data.lake import Lake
    from trademl.data.lake.market import check_market

    check_market(Lake(settings().data_root), check_vendor_setting(vendor))


def _why_failed(
    instance, run_id: str, dataset: str, first: str, last: str, symbols: list[str] | None, success: bool, vendor: str
) -> list[str]:
    """Why the run failed or fell short: its step errors, else each range of RED sessions with its
    qc_code, vendor, symbols and the vendor's reason (`red_explanation`), and requested symbols
    nothing was stored for. Empty for a clean run. `vendor` is the setting the run used (each
    materialization's `vendor` metadata names the one that served)."""
    from trademl.data import control
    from trademl_jobs.run_outcome import materialization_metadata, step_failure_messages

    failures = step_failure_messages(instance, run_id)
    if failures:
        return failures
    vendor_reasons: dict[str, str] = {}
    for meta in materialization_metadata(instance, run_id):
        vendor_reasons.update(meta.get("failed_sessions") or {})
        vendor_reasons.update(meta.get("rejected_sessions") or {})
        vendor = str(meta.get("vendor") or vendor)
    table = DATASET_TABLES[dataset]
    ledger = control.read_partition_status(control_db(), table, first, last)
    lines = red_lines(ledger, vendor_reasons, table=table, first=first, last=last, symbols=symbols, vendor=vendor)
    return lines or ([] if success else [f"run {run_id} failed without RED sessions; its step logs are in the UI"])


def red_lines(
    ledger, vendor_reasons: dict[str, str], *, table: str, first: str, last: str, symbols: list[str] | None, vendor: str
) -> list[str]:
    """The RED causes of `ledger` rows (of `table` over [first, last]) restricted to `symbols` (and the
    symbol-less rows that stand for whole sessions), plus requested symbols that have no stored row
    and no RED row naming them (a vendor that does not know a symbol usually sends nothing).
    `vendor` is the one the run used."""
    from trademl.data.red_explanation import explain_red, missing_symbols

    rows = ledger if not symbols else ledger[ledger["symbol"].isna() | ledger["symbol"].isin(symbols)]
    lines = explain_red(rows, vendor_reasons, requested_symbols=symbols)
    column = table_spec(table).symbol_column
    if symbols and column:
        import pyarrow.compute as pc
        from trademl.data.lake import Lake

        stored = pc.unique(Lake(settings().data_root).read(table, start=first, end=last, columns=[column])[column]).to_pylist()
        named = set(rows.loc[rows["status"] == "RED", "symbol"].dropna())
        if (rows["status"] == "RED").any() and rows.loc[rows["status"] == "RED", "symbol"].isna().any():
            named |= set(symbols)  # a whole-session RED line already names every requested symbol
        absent = [s for s in missing_symbols(symbols, stored, None) if s not in named]
        if absent:
            lines.append(f"{first}..{last}: nothing stored for {', '.join(absent)} ({_not_served_reason(absent, last, vendor)})")
    if lines and vendor == "files":
        lines.extend(_files_spans(rows, symbols, last))
    return lines


def _files_spans(rows, symbols: list[str] | None, last: str) -> list[str]:
    """What the files hold for the symbols of the RED rows (or the requested ones): one line of
    "first..last" spans, so a range past the end (or before the start) of a file explains itself."""
    from trademl.data.lake import Lake
    from trademl.data.listings import vendor_symbols

    listing = vendor_symbols("files", dt.date.fromisoformat(last), lake=Lake(settings().data_root))
    red = rows[rows["status"] == "RED"]
    wanted = sorted(set(red["symbol"].dropna()) | set(symbols or [])) or list(listing.symbols)
    spans: dict[str, list[str]] = {}
    for symbol in wanted:  # one entry per symbol named (few), grouped by their span
        a, b = listing.spans.get(symbol, ("", ""))
        spans.setdefault(f"{a}..{b}" if a else "no rows", []).append(symbol)
    if not spans:
        return []
    held = "; ".join(f"{', '.join(syms[:5])}{f' and {len(syms) - 5} more' if len(syms) > 5 else ''}: {span}" for span, syms in spans.items())
    return [f"the files hold {held} (see `trademl symbols --vendor files`)"]


def _not_served_reason(absent: list[str], last: str, vendor: str) -> str:
    """Why the vendor sent nothing for `absent` symbols: not in its listing (an offline vendor's
    listing is cheap to read), else that it sent no rows."""
    from trademl.data.connectors.registry import OFFLINE
    from trademl.data.lake import Lake
    from trademl.data.listings import vendor_symbols
    from trademl.data.red_explanation import symbol_span

    see = f"see `trademl symbols --vendor {vendor}`"
    if vendor in OFFLINE:
        listing = vendor_symbols(vendor, dt.date.fromisoformat(last), lake=Lake(settings().data_root))
        unlisted = [s for s in absent if s not in set(listing.symbols)]
        if unlisted == absent:
            return f"not listed by {vendor} on {last}; it lists {symbol_span(listing.symbols) or 'nothing'}, {see}"
    return f"{vendor} sent no rows for {'it' if len(absent) == 1 else 'them'}; {see}"


def _print_range_colours(dataset: str, first: str, last: str) -> None:
    from trademl_jobs.queue import range_colours

    c = range_colours(control_db(), dataset, first, last)
    say(f"{DATASET_TABLES[dataset]}: GREEN {c['GREEN']}  AMBER {c['AMBER']}  RED {c['RED']} (sessions)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `status`, `audit gaps`, `backfill run` and `ingest` to the `trademl` parser."""
    st = sub.add_parser("status", help="sessions and symbol-sessions GREEN/AMBER/RED per table, its span and sources; the queue")
    st.add_argument("--json", action="store_true", help="print the status document as JSON")
    st.add_argument("--table", default=None, help="only this table (or dataset)")
    st.add_argument("--symbol", default=None, help="with --table: that symbol's sessions, grouped into ranges with their codes")
    st.set_defaults(func=cmd_status)

    audit = sub.add_parser("audit", help="audit partitions")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    gaps = audit_sub.add_parser(
        "gaps", help="re-judge stored partitions, update partition_status and queue GAP tasks (default: the range in the lake)"
    )
    gaps.add_argument("--tables", nargs="+", required=True, help="table or dataset names (comma or space separated)")
    gaps.add_argument("--start", default=None, help="first session to audit (default: each table's first stored session)")
    gaps.add_argument("--end", default=None, help="last session to audit (default: each table's last stored session)")
    gaps.add_argument("--dry-run", action="store_true", help="report what would be recorded and queued; write nothing")
    gaps.set_defaults(func=cmd_audit)

    bf = sub.add_parser("backfill", help="backfill queue")
    bf_sub = bf.add_subparsers(dest="backfill_command", required=True)
    run = bf_sub.add_parser("run", help="drain the backfill queue through Dagster runs")
    run.add_argument("--budget", nargs="*", default=None, help="per-vendor caps for this run, e.g. synthetic=100")
    run.add_argument("--max-tasks", type=positive_int, default=None, help="stop after this many tasks (>= 1)")
    run.set_defaults(func=cmd_backfill)

    ing = sub.add_parser("ingest", help="one single-run materialization of a dataset over a date range")
    ing.add_argument("--dataset", required=True)
    ing.add_argument("--start", required=True)
    ing.add_argument("--end", required=True)
    ing.add_argument("--symbols", default=None)
    ing.add_argument("--series", default=None)
    ing.add_argument("--vendor", default=None)
    ing.add_argument("--force-market", action="store_true",
                     help="ingest even when the data root holds the other market (synthetic vs real); same as TRADEML_FORCE_MARKET=1")
    ing.set_defaults(func=cmd_ingest)

