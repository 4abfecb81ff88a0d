"""The data node's commands: `status`, `audit gaps`, `backfill run`, `ingest`."""

from __future__ import annotations

import argparse
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
    """The `trademl status --json` document; `leases` lists every LEASED task with its owner and
    lease expiry (UTC ISO), so a task held by a dead worker is visible until its lease expires."""
    from trademl.data import backfill, control

    engine = control_db()
    tables = control.status_counts(engine)
    leases = [backfill.lease_record(t) for t in backfill.leased_tasks(engine)]
    return {"tables": tables, "queue": control.queue_counts(engine), "leases": leases}


def cmd_status(args: argparse.Namespace) -> int:
    existing_control_db()  # read-only: a missing data root is an error, never created
    payload = status_payload()
    if args.json:
        print(json.dumps(payload, sort_keys=True))
        return 0
    print_coverage(payload)
    return 0


def print_coverage(payload: dict) -> None:
    rows = payload["tables"]
    width = max([len(t) for t in rows] + [len("table")])
    say(f"{'table':<{width}}  {'GREEN':>7} {'AMBER':>7} {'RED':>7}")
    for table in sorted(rows):
        c = rows[table]
        say(f"{table:<{width}}  {c.get('GREEN', 0):>7} {c.get('AMBER', 0):>7} {c.get('RED', 0):>7}")
    q = payload["queue"]
    say("queue: " + ", ".join(f"{k} {q.get(k, 0)}" for k in ("PENDING", "LEASED", "DONE", "FAILED")))
    _print_leases(payload.get("leases", []))


def _print_leases(leases: list[dict]) -> None:
    from trademl.data import backfill

    for lease in leases:
        say(f"  LEASED {backfill.describe_lease(lease)}")


def cmd_audit(args: argparse.Namespace) -> int:
    from trademl.data import backfill
    from trademl.data.lake import Lake

    tables = resolve_tables(args.tables)
    start, end = backfill.stage_window()
    if args.start:
        start = parse_date(args.start, "--start")
    if args.end:
        end = parse_date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    reject_unhappened(end, "--end")
    say(f"auditing {', '.join(tables)} over {start}..{end}")
    report = backfill.audit_scan(tables, engine=control_db(), lake=Lake(settings().data_root), start=start, end=end)
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
    report = backfill.backfill_run(
        budget, engine=control_db(), execute=execute_tasks(instance, owner), owner=owner, max_tasks=args.max_tasks
    )  # prints its progress and summary itself
    return 0 if report.gave_up == 0 and report.errors == 0 else 1


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


def _why_failed(
    instance, run_id: str, dataset: str, first: str, last: str, symbols: list[str] | None, success: bool, vendor: str
) -> list[str]:
    """Why the run failed or fell short: its step errors, else which sessions are RED and why (vendor
    reason, qc_code), and requested symbols nothing was stored for. Empty for a clean run.
    `vendor` is the setting the run used (each materialization's `vendor` metadata names the one that served)."""
    from trademl.data import control
    from trademl.data.lake import Lake
    from trademl.data.red_explanation import explain_red
    from trademl_jobs.run_outcome import materialization_metadata, step_failure_messages

    failures = step_failure_messages(instance, run_id)
    if failures:
        return failures
    vendor_reasons: dict[str, str] = {}
    for meta in materialization_metadata(instance, run_id):
        vendor_reasons.update(meta.get("failed_sessions") or {})
        vendor_reasons.update(meta.get("rejected_sessions") or {})
        vendor = str(meta.get("vendor") or vendor)
    if success and not vendor_reasons and not symbols:
        return []
    table = DATASET_TABLES[dataset]
    ledger = control.read_partition_status(control_db(), table, first, last)
    red = ledger[ledger["status"] == "RED"]
    stored: set[str] = set()
    column = table_spec(table).symbol_column
    if symbols and column:
        import pyarrow.compute as pc

        stored = {str(s) for s in pc.unique(Lake(settings().data_root).read(table, start=first, end=last, columns=[column])[column]).to_pylist()}
    lines = explain_red(red, vendor_reasons, vendor=vendor, first=first, last=last, requested_symbols=symbols, stored_symbols=stored)
    return lines or ([] if success else ["failed checks (see the UI)"])


def _print_range_colours(dataset: str, first: str, last: str) -> None:
    from trademl_jobs.queue import range_colours

    c = range_colours(control_db(), dataset, first, last)
    say(f"{DATASET_TABLES[dataset]}: GREEN {c['GREEN']}  AMBER {c['AMBER']}  RED {c['RED']} (sessions)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `status`, `audit gaps`, `backfill run` and `ingest` to the `trademl` parser."""
    st = sub.add_parser("status", help="GREEN/AMBER/RED per table and the queue")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    audit = sub.add_parser("audit", help="audit partitions")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    gaps = audit_sub.add_parser("gaps", help="audit_scan: update partition_status and enqueue GAP tasks")
    gaps.add_argument("--tables", nargs="+", required=True, help="table or dataset names (comma or space separated)")
    gaps.add_argument("--start", default=None)
    gaps.add_argument("--end", default=None)
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
    ing.set_defaults(func=cmd_ingest)

