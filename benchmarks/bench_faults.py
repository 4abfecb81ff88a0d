"""Issue 8 kill -9 experiment: random SIGKILLs of `trademl ingest`, each followed by a restart, then a normal run.

One node (its own lake, control db and DAGSTER_HOME; the `synthetic` pool at its configured 2
slots) ingests minute bars of the synthetic market (50 symbols x 124 sessions by default) with the
real `trademl` CLI. Each ingest is SIGKILLed (with its whole process group, as on power loss) at a
uniformly random moment of an uninterrupted run's duration and restarted, until `--kills` kills
happened; then one ingest runs to the end. Reported:
  kills (and how many hit while the run held a pool slot), slots leaked right after each kill and
  after the reaper (must be 0), hung runs (never finished, or still STARTED, must be 0), lake
  files that are unreadable or differ from their manifest's sha256 / row count (0), whether the
  final lake equals a fresh uninterrupted ingest in another data root (per-partition content hash of
  the latest version, and its bytes), and the time to recover: from restart to the restarted run
  holding its slot (vs. the uninterrupted run), and the final run's wall time.

    .venv/bin/python benchmarks/bench_faults.py                # 10 kills
    .venv/bin/python benchmarks/bench_faults.py --kills 30 --seed 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRADEML = Path(sys.executable).with_name("trademl")
DATASET, TABLE, POOL = "equities_minute", "raw/equities_minute", "synthetic"


class Node:
    """A data root + Dagster home, the CLI environment for it, and a read-only view of its instance."""

    def __init__(self, root: Path, n_symbols: int):
        import dagster as dg

        self.root = root
        self.env = {
            **os.environ,
            "TRADEML_DATA_ROOT": str(root / "data_layer"),
            "DAGSTER_HOME": str(root / "dagster_home"),
            "TRADEML_VENDOR": "synthetic",
            "TRADEML_SYNTHETIC_N_SYMBOLS": str(n_symbols),
            "TRADEML_SYNTHETIC_OUTAGES": "off",
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        }
        self.env.pop("DB_URI", None)
        home = root / "dagster_home"
        home.mkdir(parents=True)
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
        # a read-only observer: it never reaps or applies limits itself (the CLI must do that)
        self.instance = dg.DagsterInstance.from_config(str(home))
        self.n = 0

    def ingest(self, first: str, last: str) -> subprocess.Popen:
        self.n += 1
        log = open(self.root / f"ingest-{self.n:02d}.log", "w")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [str(TRADEML), "ingest", "--dataset", DATASET, "--start", first, "--end", last],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO, start_new_session=True,
        )
        proc.launched_at = time.time()
        return proc

    def claims(self) -> tuple[list[str], list[str]]:
        """Run ids holding a slot, and run ids with a step waiting for one, over every pool."""
        storage = self.instance.event_log_storage
        held, pending = [], []
        for info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values():
            mine = {s.run_id for s in info.claimed_slots}
            held += sorted(mine)
            pending += [p.run_id for p in info.pending_steps if p.run_id not in mine]
        return held, pending

    def run_of(self, proc: subprocess.Popen) -> str | None:
        """The run id the CLI process executes (its trademl/pid tag; without tags, as before the fix:
        the newest run created after it was launched), None before the run exists."""
        import dagster as dg

        runs = self.instance.get_runs(filters=dg.RunsFilter(tags={"trademl/pid": str(proc.pid)}), limit=1)
        if not runs:
            after = dt.datetime.fromtimestamp(proc.launched_at, dt.UTC)
            runs = self.instance.get_runs(filters=dg.RunsFilter(created_after=after), limit=1)
        return runs[0].run_id if runs else None


def drive(node: Node, proc: subprocess.Popen, seconds: float) -> float | None:
    """Let `proc` run for up to `seconds` (until it exits); returns when its run first held a pool
    slot, in seconds after the call (None if it never did meanwhile)."""
    t0, to_slot = time.monotonic(), None
    while proc.poll() is None and time.monotonic() - t0 < seconds:
        if to_slot is None:
            run_id = node.run_of(proc)
            if run_id is not None and run_id in node.claims()[0]:
                to_slot = time.monotonic() - t0
        time.sleep(0.05)
    return to_slot


def lake_report(data_root: Path) -> dict:
    """Read every version of every partition back and check it against the manifest; latest hashes."""
    from trademl.data.lake import TMP_PREFIX, Lake, content_hash
    from trademl.schemas import table_spec

    lake, spec = Lake(data_root), table_spec(TABLE)
    files = bad = 0
    latest: dict[str, tuple[str, str]] = {}
    for day in lake.partitions(TABLE):
        versions = lake.versions(TABLE, day)
        committed = len(list((Path(lake.partition_dir(TABLE, day))).glob("v*.parquet")))
        bad += committed - len(versions)  # a committed file without a manifest entry
        for v in versions:
            files += 1
            try:
                raw = Path(v.path).read_bytes()
                rows = lake.read_partition(TABLE, day, version=v.version)
                ok = hashlib.sha256(raw).hexdigest() == v.sha256 and rows.num_rows == v.row_count
                ok = ok and content_hash(rows, spec) == v.content_hash
            except Exception:  # unreadable counts as bad, whatever the reason
                ok = False
            bad += not ok
        if versions:
            latest[day.isoformat()] = (versions[-1].content_hash, versions[-1].sha256)
        bad += not lake.verify_partition(TABLE, day)
    temp_files = [p for p in Path(data_root).rglob(f"{TMP_PREFIX}*") if p.is_file()]
    return {"files": files, "bad": bad, "latest": latest, "temp_files": len(temp_files)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--symbols", type=int, default=50)
    p.add_argument("--sessions", type=int, default=124)
    p.add_argument("--end", default="2025-06-30", help="last session")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--json", action="store_true", help="print the result as one JSON document")
    args = p.parse_args()

    import dagster as dg

    from trademl import calendar

    end = dt.date.fromisoformat(args.end)
    sessions = calendar.sessions(calendar.previous_session(end, args.sessions + 5), end)[-args.sessions :]
    first, last = sessions[0].strftime("%Y-%m-%d"), sessions[-1].strftime("%Y-%m-%d")
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    try:
        # the uninterrupted reference
        ref = Node(tmp / "reference", args.symbols)
        t0 = time.monotonic()
        proc = ref.ingest(first, last)
        ref_to_slot = drive(ref, proc, 600)
        assert proc.wait() == 0, (tmp / "reference" / "ingest-01.log").read_text()[-3000:]
        ref_seconds = time.monotonic() - t0
        print(f"uninterrupted: {args.symbols} symbols x {len(sessions)} sessions ({first}..{last}) in {ref_seconds:.1f}s, "
              f"slot after {ref_to_slot or 0:.1f}s", flush=True)

        node = Node(tmp / "faulted", args.symbols)
        kills = held_at_kill = 0
        leaked_after_kill: list[int] = []
        to_slot_after_kill: list[float] = []
        proc, restarted = node.ingest(first, last), False
        while kills < args.kills:
            at = rng.uniform(0.5, ref_seconds)
            waited = drive(node, proc, at)
            if restarted and waited is not None:  # how long the restart took to get past the dead runs
                to_slot_after_kill.append(waited)
            if proc.poll() is not None:  # finished before the chosen moment: not a kill, go again
                proc, restarted = node.ingest(first, last), False
                continue
            run_id = node.run_of(proc)
            held_at_kill += run_id is not None and run_id in node.claims()[0]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            dead = node.claims()
            leaked_after_kill.append(len(dead[0]) + len(dead[1]))
            print(f"kill {kills}: at {at:.1f}s, run {run_id or '(not created yet)'}, "
                  f"{'held a slot' if run_id in dead[0] else 'held no slot'}; claims left by dead runs: {leaked_after_kill[-1]}",
                  flush=True)
            proc, restarted = node.ingest(first, last), True

        # the normal run after the last kill
        t0 = time.monotonic()
        waited = drive(node, proc, 10 * ref_seconds)
        if waited is not None:
            to_slot_after_kill.append(waited)
        hung_final = proc.poll() is None
        if hung_final:
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
        final_seconds = time.monotonic() - t0
        held, pending = node.claims()
        unfinished = node.instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                                            dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING])
        )
        failed = node.instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        reaped = [r for r in failed if any("run reaper" in (e.message or "") for e in
                  [rec.event_log_entry.dagster_event for rec in
                   node.instance.get_records_for_run(r.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records])]

        ref_lake, lake = lake_report(ref.root / "data_layer"), lake_report(node.root / "data_layer")
        content_equal = {d: h[0] for d, h in lake["latest"].items()} == {d: h[0] for d, h in ref_lake["latest"].items()}
        bytes_equal = {d: h[1] for d, h in lake["latest"].items()} == {d: h[1] for d, h in ref_lake["latest"].items()}
        result = {
            "symbols": args.symbols,
            "sessions": len(sessions),
            "window": f"{first}..{last}",
            "seed": args.seed,
            "uninterrupted_seconds": round(ref_seconds, 1),
            "uninterrupted_to_slot_seconds": round(ref_to_slot or 0, 1),
            "kills": kills,
            "kills_holding_a_slot": held_at_kill,
            "max_claims_left_by_dead_runs_right_after_a_kill": max(leaked_after_kill, default=0),
            "slots_leaked_after_reaper": len(held) + len(pending),
            "hung_runs": len(unfinished) + hung_final,
            "runs_reaped_failed": len(reaped),
            "final_run_rc": rc,
            "final_run_seconds": round(final_seconds, 1),
            "restart_to_slot_seconds_mean": round(sum(to_slot_after_kill) / len(to_slot_after_kill), 1) if to_slot_after_kill else None,
            "restart_to_slot_seconds_max": round(max(to_slot_after_kill), 1) if to_slot_after_kill else None,
            "lake_files_checked": lake["files"],
            "lake_files_bad": lake["bad"] + ref_lake["bad"],
            "temp_files_left": lake["temp_files"],
            "partitions": len(lake["latest"]),
            "final_lake_content_equal": content_equal and len(lake["latest"]) == len(sessions),
            "final_lake_bytes_equal": bytes_equal,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        print("| measure | value |\n| --- | ---: |")
        for key, value in result.items():
            print(f"| {key.replace('_', ' ')} | {value} |")
    ok = (result["slots_leaked_after_reaper"] == 0 and result["hung_runs"] == 0 and result["lake_files_bad"] == 0
          and result["final_run_rc"] == 0 and result["final_lake_content_equal"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
