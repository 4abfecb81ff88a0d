"""`trademl materialize`: any session-partitioned assets over a session range, as ONE Dagster run.

It is what a single-run backfill from the UI does, from the shell: `materialize_job` with
`asset_selection` = the selected keys and the partition range tags, executed on the project's
instance (so the run, its partitions and its check results show up in the UI), from the vendor
given explicitly (`--vendor`, default the configured one). While it runs it prints a line per step
start and finish (trademl_jobs/run_progress.py); then, per selected asset, its sessions per check
colour from the evaluations the run produced and its RED session ranges (with the ledger's causes
when the asset's table is in it). Exit 0 when the run succeeded, 1 when it failed (a RED blocking
check that stopped downstream steps says so in one line), 2 for a user error.

`--select` takes asset keys ("raw/equities_bars", the lake path) and groups ("group:reference"),
comma-separated; an unknown one is a one-line error naming close matches or the known groups.
Selected assets without session partitions are left out of the run, with a line saying so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
from collections.abc import Sequence

import dagster as dg
import pandas as pd

from trademl import calendar
from trademl.config import settings
from trademl_jobs.cli.args import CliError, parse_date, reject_unhappened, say

GROUP_PREFIX = "group:"


def resolve_selection(defs: dg.Definitions, select: str) -> list[dg.AssetKey]:
    """The asset keys `select` names: comma-separated asset keys ("curated/equities_ohlcv_adj") and
    groups ("group:features"), in the order given, each key once; only assets the definitions
    materialize count (an upstream key no asset defines is unknown). Unknown names raise a one-line
    CliError listing close matches (keys) or the known groups."""
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string())
    by_name = {k.to_user_string(): k for k in keys}
    groups: dict[str, list[dg.AssetKey]] = {}
    for key in keys:  # one entry per asset of the graph (tens), to list them by group
        groups.setdefault(graph.get(key).group_name or "default", []).append(key)
    known_groups = ", ".join(sorted(groups))
    out: list[dg.AssetKey] = []
    names = [n.strip() for n in select.split(",") if n.strip()]
    if not names:
        raise CliError(f"--select {select!r} names nothing; give asset keys (e.g. raw/equities_bars) or groups ({known_groups}) as group:NAME")
    for name in names:
        if name.startswith(GROUP_PREFIX):
            group = name[len(GROUP_PREFIX):].strip()
            if group not in groups:
                raise CliError(f"--select: unknown group {group!r} (no asset is in it); known groups: {known_groups}")
            chosen = groups[group]
        else:
            key = by_name.get(name.strip("/"))
            if key is None:
                close = difflib.get_close_matches(name, list(by_name), n=3, cutoff=0.6)
                hint = f"close matches: {', '.join(close)}" if close else f"known groups: {known_groups} (select one as group:NAME)"
                raise CliError(f"--select: unknown asset key {name!r}; {hint}")
            chosen = [key]
        out.extend(k for k in chosen if k not in out)
    return out


def session_partitions_of(
    defs: dg.Definitions, keys: Sequence[dg.AssetKey]
) -> tuple[dg.TimeWindowPartitionsDefinition, list[dg.AssetKey]]:
    """The session partitions the selected assets share and the keys that have them (in order);
    assets without session partitions are left out (materialize runs a session range; they are
    materialized from the UI). A one-line CliError when none is left or the partitions differ."""
    graph = defs.resolve_asset_graph()
    found = {k: graph.get(k).partitions_def for k in keys}
    partitioned = [k for k, p in found.items() if isinstance(p, dg.TimeWindowPartitionsDefinition)]
    if not partitioned:
        names = ", ".join(k.to_user_string() for k in keys)
        raise CliError(f"--select: {names} {'is' if len(keys) == 1 else 'are'} not partitioned by session; "
                       "materialize runs a session range (materialize unpartitioned assets from the UI)")
    distinct = {found[k] for k in partitioned}
    if len(distinct) > 1:
        raise CliError("--select: the selected assets have different session partitions; select them in separate runs")
    return next(iter(distinct)), partitioned  # type: ignore[return-value]


def session_range(start: dt.date, end: dt.date, partitions: dg.TimeWindowPartitionsDefinition | None = None) -> tuple[str, str, int]:
    """The first and last XNYS session of [start, end] and how many there are, checked against the
    session partitions (default: configs/partitions.yml): a reversed range, a range without a
    session, a start before the first partition or an end after the last is a one-line CliError
    naming the bound; an end past the latest completed session is refused too (no data yet)."""
    if partitions is None:
        from trademl_assets.partitions import session_partitions

        partitions = session_partitions()
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    first_key = partitions.get_first_partition_key()
    last_key = partitions.get_last_partition_key()
    if first_key is not None and start < dt.date.fromisoformat(first_key):
        raise CliError(
            f"--start {start} is before the first session partition {first_key} (configs/partitions.yml sessions.start); "
            "earlier history is ingested with `trademl ingest`"
        )
    if last_key is not None and end > dt.date.fromisoformat(last_key):
        raise CliError(f"--end {end} is after the last session partition {last_key}")
    sessions = calendar.sessions(start, end)
    if len(sessions) == 0:
        raise CliError(f"no XNYS session between {start} and {end}")
    reject_unhappened(end, "--end")
    return sessions[0].strftime("%Y-%m-%d"), sessions[-1].strftime("%Y-%m-%d"), len(sessions)


def session_colours(instance: dg.DagsterInstance, run_id: str) -> dict[dg.AssetKey, pd.DataFrame]:
    """Per asset, the per-session check results of run `run_id`: columns dt ("YYYY-MM-DD"),
    check, status (GREEN/AMBER/RED) and qc_codes, from its ASSET_CHECK_EVALUATION events that
    carry a partition (the range summary has none)."""
    from trademl_jobs.run_progress import check_colour

    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    rows = []
    for record in records:  # one per evaluated (asset, check, session): the event log's own granularity
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.partition is None:
            continue
        codes = evaluation.metadata.get("qc_codes") if evaluation.metadata else None
        rows.append({
            "asset": evaluation.asset_key, "dt": evaluation.partition, "check": evaluation.check_name,
            "status": check_colour(evaluation), "qc_codes": str(getattr(codes, "value", codes) or ""),
        })
    frame = pd.DataFrame(rows, columns=["asset", "dt", "check", "status", "qc_codes"])
    return {key: group.drop(columns="asset").reset_index(drop=True) for key, group in frame.groupby("asset", sort=False)}


_RANK = {"GREEN": 0, "AMBER": 1, "RED": 2}


def colour_lines(key: dg.AssetKey, results: pd.DataFrame | None, first: str, last: str) -> list[str]:
    """One line of session counts per colour for asset `key` (a session takes the worst colour of
    its checks), then one line per contiguous range of RED sessions with its qc codes and, when the
    asset's table is in the control ledger, the ledger's causes."""
    from trademl.data.red_explanation import red_ranges, session_span

    name = key.to_user_string()
    if results is None or len(results) == 0:
        return [f"{name}: no check results in this run (it has no session check)"]
    worst = results.assign(rank=results["status"].map(_RANK)).sort_values("rank").groupby("dt").tail(1)
    counts = worst["status"].value_counts()
    checks = ", ".join(sorted(results["check"].unique()))
    lines = [f"{name}: " + "  ".join(f"{c} {int(counts.get(c, 0))}" for c in _RANK) + f" (sessions; check {checks})"]
    red = worst[worst["status"] == "RED"]
    if len(red) == 0:
        return lines
    ranges = red_ranges(pd.DataFrame({
        "dt": red["dt"], "symbol": None, "status": "RED", "qc_code": red["qc_codes"].where(red["qc_codes"] != "", "RED"),
        "source_name": "", "detail": "",
    }))
    for r in ranges.to_dict("records"):
        lines.append(f"  RED {session_span(r['first'], r['last'])} ({r['sessions']} session{'s' if r['sessions'] != 1 else ''}): {r['qc_code']}")
    lines.extend(f"    {cause}" for cause in _ledger_causes(name, first, last))
    return lines


def _ledger_causes(table: str, first: str, last: str) -> list[str]:
    """The ledger's RED causes of `table` over [first, last] (`explain_red`), empty when the table
    is not in the ledger (derived layers may not record per-symbol rows)."""
    from trademl.data import control
    from trademl.data.red_explanation import explain_red
    from trademl_jobs.cli.args import control_db

    rows = control.read_partition_status(control_db(), table, first, last)
    return explain_red(rows) if len(rows) else []


def _failure_line(run, failures: list[str], red_assets: list[str]) -> str:
    """Why a failed run failed, in one line: its step errors, else the RED blocking checks and the
    steps they stopped."""
    if failures:
        return f"run {run.run_id} failed in {run.seconds:.1f}s: " + "; ".join(failures)
    stopped = f", which stopped {len(run.not_run)} downstream step(s): {', '.join(run.not_run)}" if run.not_run else ""
    if red_assets:
        return f"run {run.run_id} failed in {run.seconds:.1f}s: RED sessions in {', '.join(red_assets)} (blocking check){stopped}"
    return f"run {run.run_id} failed in {run.seconds:.1f}s{stopped}; its step logs are in the UI"


def cmd_materialize(args: argparse.Namespace) -> int:
    from trademl_jobs.definitions import build_definitions
    from trademl_jobs.run_outcome import step_failure_messages
    from trademl_jobs.runner import dagster_instance, materialize_assets

    start, end = parse_date(args.start, "--start"), parse_date(args.end, "--end")
    vendor = args.vendor or settings().vendor  # --vendor, else TRADEML_VENDOR: passed to the run, never exported
    if args.vendor:
        from trademl.data.connectors.registry import check_vendor_setting

        check_vendor_setting(args.vendor)
    defs = build_definitions(vendor)
    selected = resolve_selection(defs, args.select)
    partitions, keys = session_partitions_of(defs, selected)
    first, last, n = session_range(start, end, partitions)
    left_out = [k.to_user_string() for k in selected if k not in keys]
    if left_out:
        say(f"leaving out {', '.join(left_out)}: not partitioned by session (materialize {'it' if len(left_out) == 1 else 'them'} from the UI)")
    names = ", ".join(k.to_user_string() for k in keys)
    say(f"materializing {names} over {first}..{last} ({n} session{'s' if n != 1 else ''}) from {vendor}, as one run")
    instance = dagster_instance()
    run = materialize_assets(instance, keys, first, last, vendor=vendor, progress=say)
    results = session_colours(instance, run.run_id)
    for key in keys:
        if key.to_python_identifier() in run.not_run:
            say(f"{key.to_user_string()}: not run (stopped by a failed step or a RED blocking check upstream)")
            continue
        for line in colour_lines(key, results.get(key), first, last):
            say(line)
    if run.success:
        say(f"run {run.run_id} succeeded in {run.seconds:.1f}s")
        return 0
    red_assets = [k.to_user_string() for k in keys if k in results and (results[k]["status"] == "RED").any()]
    say(_failure_line(run, step_failure_messages(instance, run.run_id), red_assets))
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add `materialize` to the `trademl` parser."""
    m = sub.add_parser("materialize", help="materialize assets (keys or group:NAME) over a session range as one Dagster run")
    m.add_argument("--select", required=True,
                   help="comma-separated asset keys (e.g. raw/equities_bars) and groups (e.g. group:reference)")
    m.add_argument("--start", required=True, help="first session (YYYY-MM-DD)")
    m.add_argument("--end", required=True, help="last session (YYYY-MM-DD)")
    m.add_argument("--vendor", default=None, help="vendor setting for the run (default: $TRADEML_VENDOR, else synthetic)")
    m.set_defaults(func=cmd_materialize)
