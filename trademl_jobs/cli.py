"""`trademl` console script: demo, status, audit, backfill, ingest, lake and ui — each running through Dagster
(`lake` reads the lake directly: a partition's versions, an older version, accepting a revision)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from trademl import calendar
from trademl.config import REPO_ROOT, load_config, settings
from trademl.logs import configure_logging
from trademl.schemas import DATASET_TABLES, TABLES, table_spec

INGEST_DATASETS = ("equities_eod", "equities_minute", "corp_actions", "delistings", "macros_fred", "options_chains")
REFERENCE_DATASETS = ("calendars", "universe", "corp_actions", "delistings", "index_membership", "tick_size_regime")


class CliError(Exception):
    """A user error: printed as one line, exit code 2, never a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (`trademl: error: ...`, exit 2), like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        where = self.prog.removeprefix("trademl").strip()
        self.exit(2, f"trademl: error: {where + ': ' if where else ''}{message} (see `{self.prog} --help`)\n")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown log level {value!r}; choose one of {', '.join(LOG_LEVELS)}")
    return level


def _positive_int(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def _reject_unhappened(end: dt.date, name: str) -> None:
    """Sessions after the latest completed XNYS session have no data anywhere yet: refuse them up front."""
    latest = calendar.latest_completed_session()
    later = calendar.sessions(calendar.next_session(latest), end) if end > latest else []
    if len(later):
        span = f"{later[0].date()}" + (f"..{later[-1].date()}" if len(later) > 1 else "")
        raise CliError(
            f"{name} {end} reaches past the latest completed XNYS session {latest}: {span} "
            f"({len(later)} session{'s' if len(later) > 1 else ''}) not closed yet, so no vendor has data for them"
        )


def _say(msg: str) -> None:
    print(msg, flush=True)


def _parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"{name} {value!r} is not a date (expected YYYY-MM-DD)") from exc


_SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,14}$")


def _parse_symbols(raw: str) -> list[str]:
    symbols = [s.strip().upper() for s in raw.split(",") if s.strip()]
    bad = [s for s in symbols if not _SYMBOL_RE.match(s)]
    if bad or not symbols:
        raise CliError(f"--symbols {raw!r}: not a valid symbol list (e.g. AAPL,MSFT,BRK.B); bad: {', '.join(bad) or 'empty'}")
    return symbols


def _resolve_tables(names: Sequence[str]) -> list[str]:
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


def _engine():
    from trademl.data.control import control_engine

    return control_engine(settings().db_uri)


# ---------------------------------------------------------------------------------------------- status
def status_payload() -> dict:
    """The `trademl status --json` document; `leases` lists every LEASED task with its owner and
    lease expiry (UTC ISO), so a task held by a dead worker is visible until its lease expires."""
    from trademl.data import backfill, control

    engine = _engine()
    tables = control.status_counts(engine)
    leases = [backfill.lease_record(t) for t in backfill.leased_tasks(engine)]
    return {"tables": tables, "queue": control.queue_counts(engine), "leases": leases}


def cmd_status(args: argparse.Namespace) -> int:
    payload = status_payload()
    if args.json:
        print(json.dumps(payload, sort_keys=True))
        return 0
    _print_coverage(payload)
    return 0


def _print_coverage(payload: dict) -> None:
    rows = payload["tables"]
    width = max([len(t) for t in rows] + [len("table")])
    _say(f"{'table':<{width}}  {'GREEN':>7} {'AMBER':>7} {'RED':>7}")
    for table in sorted(rows):
        c = rows[table]
        _say(f"{table:<{width}}  {c.get('GREEN', 0):>7} {c.get('AMBER', 0):>7} {c.get('RED', 0):>7}")
    q = payload["queue"]
    _say("queue: " + ", ".join(f"{k} {q.get(k, 0)}" for k in ("PENDING", "LEASED", "DONE", "FAILED")))
    _print_leases(payload.get("leases", []))


def _print_leases(leases: list[dict]) -> None:
    from trademl.data import backfill

    for lease in leases:
        _say(f"  LEASED {backfill.describe_lease(lease)}")


# ---------------------------------------------------------------------------------------------- audit
def cmd_audit(args: argparse.Namespace) -> int:
    from trademl.data import backfill
    from trademl.data.lake import Lake

    tables = _resolve_tables(args.tables)
    start, end = backfill.stage_window()
    if args.start:
        start = _parse_date(args.start, "--start")
    if args.end:
        end = _parse_date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    _reject_unhappened(end, "--end")
    _say(f"auditing {', '.join(tables)} over {start}..{end}")
    report = backfill.audit_scan(tables, engine=_engine(), lake=Lake(settings().data_root), start=start, end=end)
    _say(str(report))
    return 0


# ---------------------------------------------------------------------------------------------- backfill
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
    _say(f"draining backfill_queue (budget: {budget or 'configured caps'})")
    report = backfill.backfill_run(
        budget, engine=_engine(), execute=execute_tasks(instance, owner), owner=owner, max_tasks=args.max_tasks
    )  # prints its progress and summary itself
    return 0 if report.gave_up == 0 and report.errors == 0 else 1


# ---------------------------------------------------------------------------------------------- ingest
def cmd_ingest(args: argparse.Namespace) -> int:
    from trademl_jobs.runner import dagster_instance, materialize_range

    if args.dataset not in INGEST_DATASETS:
        raise CliError(f"unknown dataset {args.dataset!r}; choose one of {', '.join(INGEST_DATASETS)}")
    start, end = _parse_date(args.start, "--start"), _parse_date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    sessions = calendar.sessions(start, end)
    if len(sessions) == 0:
        raise CliError(f"no XNYS session between {start} and {end}")
    _reject_unhappened(end, "--end")
    if args.vendor:
        from trademl.data.connectors.registry import check_vendor_setting

        check_vendor_setting(args.vendor)
        os.environ["TRADEML_VENDOR"] = args.vendor
    symbols = _parse_symbols(args.symbols) if args.symbols else None
    first, last = sessions[0].strftime("%Y-%m-%d"), sessions[-1].strftime("%Y-%m-%d")
    instance = dagster_instance()
    _say(f"ingesting {args.dataset} {first}..{last} ({len(sessions)} sessions) from {settings().vendor}")
    run = materialize_range(instance, [args.dataset], first, last, symbols=symbols)
    reasons = _why_failed(instance, run.run_id, args.dataset, first, last, symbols, run.success)
    ok = run.success and not reasons
    verdict = "succeeded" if ok else ("finished" if run.success else "failed")
    if len(reasons) == 1:
        _say(f"run {run.run_id} {verdict} in {run.seconds:.1f}s: {reasons[0]}")
    else:
        _say(f"run {run.run_id} {verdict} in {run.seconds:.1f}s" + (":" if reasons else ""))
        for reason in reasons:
            _say(f"  {reason}")
    _print_range_colours(args.dataset, first, last)
    return 0 if ok else 1


def _why_failed(
    instance, run_id: str, dataset: str, first: str, last: str, symbols: list[str] | None, success: bool
) -> list[str]:
    """Why the run failed or fell short: its step errors, else which sessions are RED and why (vendor
    reason, qc_code), and requested symbols nothing was stored for. Empty for a clean run."""
    from trademl.data import control
    from trademl.data.lake import Lake
    from trademl.data.red_explanation import explain_red
    from trademl_jobs.run_outcome import materialization_metadata, step_failure_messages

    failures = step_failure_messages(instance, run_id)
    if failures:
        return failures
    vendor_reasons: dict[str, str] = {}
    vendor = settings().vendor
    for meta in materialization_metadata(instance, run_id):
        vendor_reasons.update(meta.get("failed_sessions") or {})
        vendor_reasons.update(meta.get("rejected_sessions") or {})
        vendor = str(meta.get("vendor") or vendor)
    if success and not vendor_reasons and not symbols:
        return []
    table = DATASET_TABLES[dataset]
    ledger = control.read_partition_status(_engine(), table, first, last)
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

    c = range_colours(_engine(), dataset, first, last)
    _say(f"{DATASET_TABLES[dataset]}: GREEN {c['GREEN']}  AMBER {c['AMBER']}  RED {c['RED']} (sessions)")


# ---------------------------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    from trademl.data import backfill
    from trademl.data.lake import Lake
    from trademl_jobs.runner import dagster_instance, execute_tasks, materialize_range, project_paths

    cfg = load_config("demo")
    os.environ.setdefault("TRADEML_VENDOR", "synthetic")
    if settings().vendor != "synthetic":
        raise CliError("the demo runs on the embedded synthetic market; unset TRADEML_VENDOR")
    os.environ.setdefault("TRADEML_SYNTHETIC_N_SYMBOLS", str(args.symbols or cfg["symbols"]))
    os.environ.setdefault("TRADEML_SYNTHETIC_SIGNAL_STRENGTH", str(cfg["signal_strength"]))
    end = _parse_date(args.end or cfg["end"], "--end")
    _reject_unhappened(end, "--end")
    n_daily = args.sessions or int(cfg["daily_sessions"])
    n_minute = int(cfg["minute_sessions"])
    daily = calendar.sessions(calendar.previous_session(end, n_daily + 5), end)[-n_daily:]
    minute = daily[-n_minute:]
    d0, d1 = daily[0].strftime("%Y-%m-%d"), daily[-1].strftime("%Y-%m-%d")
    m0 = minute[0].strftime("%Y-%m-%d")
    instance = dagster_instance()
    t_start = time.perf_counter()

    steps = [
        ("reference tables", list(REFERENCE_DATASETS), d0),
        ("daily bars + macro vintages", ["equities_eod", "macros_fred"], d0),
        ("minute bars + option chains", ["equities_minute", "options_chains"], m0),
    ]
    for i, (label, datasets, first) in enumerate(steps, 1):
        _say(f"[{i}/5] materializing {label}: {first}..{d1} (one run)")
        run = materialize_range(instance, datasets, first, d1)
        note = "" if run.success else " — some sessions RED (vendor outage); the queue will backfill them"
        _say(f"      run {run.run_id[:8]} {'ok' if run.success else 'finished with failed checks'} in {run.seconds:.1f}s{note}")

    engine = _engine()
    tables = [DATASET_TABLES[d] for d in (*REFERENCE_DATASETS, "equities_eod", "macros_fred")]
    _say(f"[4/5] audit_scan over {d0}..{d1}")
    backfill.audit_scan(tables, engine=engine, lake=Lake(settings().data_root), start=daily[0].date(), end=daily[-1].date())
    backfill.audit_scan(
        [DATASET_TABLES["equities_minute"], DATASET_TABLES["options_chains"]],
        engine=engine,
        lake=Lake(settings().data_root),
        start=minute[0].date(),
        end=minute[-1].date(),
    )
    from trademl.data import control

    pending = control.queue_counts(engine).get("PENDING", 0)
    _say(f"[5/5] queue worker: backfilling {pending} pending task(s)")
    owner = f"demo:{os.getpid()}"
    backfill.backfill_run(None, engine=engine, execute=execute_tasks(instance, owner), owner=owner)
    payload = status_payload()
    _say("")
    _print_coverage(payload)
    paths = project_paths()
    _say("")
    _say(f"lake:         {paths['lake']}")
    _say(f"control db:   {paths['control_db']}")
    _say(f"dagster home: {paths['dagster_home']}")
    _say(f"done in {time.perf_counter() - t_start:.1f}s — `make ui` shows the runs, partitions and checks")
    red = sum(c.get("RED", 0) for c in payload["tables"].values())
    return 0 if red == 0 else 1


# ---------------------------------------------------------------------------------------------- lake
def _lake_target(args: argparse.Namespace) -> tuple:
    """The lake, the SSOT table name and the partition date named by --table / --partition."""
    from trademl.data.lake import Lake

    table = _resolve_tables([args.table])[0]
    return Lake(settings().data_root), table, _parse_date(args.partition, "--partition")


def cmd_lake_versions(args: argparse.Namespace) -> int:
    """List the committed versions of one partition: rows, vendor, what each revised, its review."""
    lake, table, day = _lake_target(args)
    versions = lake.versions(table, day)
    if not versions:
        raise CliError(f"{table} has no stored version of partition {day}")
    if args.json:
        from dataclasses import asdict

        print(json.dumps([{**asdict(v), "created_at": v.created_at.isoformat()} for v in versions], sort_keys=True))
        return 0
    _say(f"{table} {day}: {len(versions)} version(s)")
    _say(f"{'version':>7}  {'created_at (UTC)':<19}  {'rows':>7}  {'vendor':<10}  {'revised rows':<22}  review")
    latest = versions[-1].version
    for v in versions:
        revised = (
            f"{v.revised_rows}/{v.previous_rows} of v{v.previous_version} ({v.revised_rows / v.previous_rows:.1%})"
            if v.previous_version is not None and v.previous_rows
            else "-"
        )
        review = "-"
        if v.review:
            review = f"{v.review.get('code')} ({'accepted' if v.review.get('accepted_at') else 'pending'})"
        created = v.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        tail = "  latest" if v.version == latest else ""
        _say(f"{v.version:>7}  {created:<19}  {v.row_count:>7}  {str(v.vendor or '-'):<10}  {revised:<22}  {review}{tail}")
    return 0


def cmd_lake_read(args: argparse.Namespace) -> int:
    """Print one version of a partition as CSV (default: the latest), or export it with --out."""
    lake, table, day = _lake_target(args)
    versions = [v.version for v in lake.versions(table, day)]
    if not versions:
        raise CliError(f"{table} has no stored version of partition {day}")
    version = versions[-1] if args.version is None else args.version
    if version not in versions:
        raise CliError(f"{table} partition {day} has no version {version}; versions: {', '.join(map(str, versions))}")
    rows = lake.read(table, start=day, version=version)
    if args.out is None:
        try:
            rows.to_pandas().to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `trademl lake read ... | head`: the reader has all it wants
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    out = os.path.abspath(args.out)
    if out.endswith(".parquet"):
        import pyarrow.parquet as pq

        pq.write_table(rows, out)
    elif out.endswith(".csv"):
        rows.to_pandas().to_csv(out, index=False)
    else:
        raise CliError(f"--out {args.out!r}: name a .parquet or .csv file")
    _say(f"wrote {rows.num_rows} rows of {table} {day} version {version} to {out}")
    return 0


def cmd_lake_accept(args: argparse.Namespace) -> int:
    """Accept a partition's flagged latest version (LARGE_REVISION) and re-record its QC."""
    from trademl.data.ingest import accept_revision

    lake, table, day = _lake_target(args)
    summary = accept_revision(lake, _engine(), table, day)
    _say(f"{table} {day}: latest version accepted; now {summary.color} ({', '.join(summary.qc_codes) or 'no rows'})")
    return 0


def _add_lake_parser(sub: argparse._SubParsersAction) -> None:
    """`trademl lake versions|read|accept --table T --partition YYYY-MM-DD`."""
    lake = sub.add_parser("lake", help="inspect a partition's stored versions")
    lake_sub = lake.add_subparsers(dest="lake_command", required=True)
    for name, func, text in (
        ("versions", cmd_lake_versions, "list a partition's versions (rows, vendor, revision, review)"),
        ("read", cmd_lake_read, "print (CSV) or export one version of a partition"),
        ("accept", cmd_lake_accept, "accept a partition's LARGE_REVISION (its latest version) and re-run its QC"),
    ):
        cmd = lake_sub.add_parser(name, help=text)
        cmd.add_argument("--table", required=True, help="table or dataset name, e.g. raw/equities_minute")
        cmd.add_argument("--partition", required=True, help="session date YYYY-MM-DD")
        if name == "versions":
            cmd.add_argument("--json", action="store_true")
        if name == "read":
            cmd.add_argument("--version", type=int, default=None, help="version number (default: the latest)")
            cmd.add_argument("--out", default=None, help="write to this .parquet or .csv file instead of printing")
        cmd.set_defaults(func=func)


# ---------------------------------------------------------------------------------------------- ui
def cmd_ui(args: argparse.Namespace) -> int:
    from trademl_jobs.runner import dagster_instance

    if args.automation:
        os.environ["TRADEML_AUTOMATION"] = args.automation
    from trademl_jobs.automation import automation_on

    dagster_instance()
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    cmd = [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    _say(f"Dagster UI on http://{args.host}:{args.port} (webserver + daemon; Ctrl-C stops both)")
    _say(
        "schedules and sensors start RUNNING (the node loop runs; `--automation off` to start them stopped)"
        if automation_on()
        else "automation off: schedules and sensors start STOPPED; runs happen only when you launch them"
    )
    # `dagster dev` started from a script ignores SIGINT unless it is reset to default before exec.
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="trademl", description=__doc__)
    p.add_argument("--log-level", type=_log_level, default=os.environ.get("TRADEML_LOG_LEVEL", "WARNING"),
                   help=f"one of {', '.join(LOG_LEVELS)} (default: $TRADEML_LOG_LEVEL or WARNING)")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="materialize the demo window of the synthetic market and backfill its outage")
    demo.add_argument("--symbols", type=_positive_int, default=None)
    demo.add_argument("--sessions", type=_positive_int, default=None)
    demo.add_argument("--end", default=None, help="last session (YYYY-MM-DD); default from configs/demo.yml")
    demo.set_defaults(func=cmd_demo)

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
    run.add_argument("--max-tasks", type=_positive_int, default=None, help="stop after this many tasks (>= 1)")
    run.set_defaults(func=cmd_backfill)

    ing = sub.add_parser("ingest", help="one single-run materialization of a dataset over a date range")
    ing.add_argument("--dataset", required=True)
    ing.add_argument("--start", required=True)
    ing.add_argument("--end", required=True)
    ing.add_argument("--symbols", default=None)
    ing.add_argument("--series", default=None)
    ing.add_argument("--vendor", default=None)
    ing.set_defaults(func=cmd_ingest)

    _add_lake_parser(sub)

    ui = sub.add_parser("ui", help="Dagster webserver + daemon over the project's instance")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=_positive_int, default=3000)
    ui.add_argument("--automation", choices=("on", "off"), default=None,
                    help="start schedules and sensors RUNNING (on, the default) or STOPPED (off); sets TRADEML_AUTOMATION")
    ui.set_defaults(func=cmd_ui)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"trademl: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # domain validation errors (unknown table, bad date range…)
        print(f"trademl: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
