"""A run killed with SIGKILL never wedges the node, and a run waiting for a slot can be stopped (issue 8.1).

Real `trademl ingest` subprocesses on an isolated node (own lake, control db and DAGSTER_HOME) are
SIGKILLed while they hold a slot of the `synthetic` pool: the moment is observed by polling the
instance's concurrency table, not guessed. The next ingest on the same home must complete, and the
killed runs must end FAILED with the reason. A process waiting for a slot held by a live run must
say which run holds it, not burn CPU, and stop at once on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from trademl.config import REPO_ROOT

TRADEML = Path(sys.executable).with_name("trademl")
DAGSTER = Path(sys.executable).with_name("dagster")
POOL = "synthetic"
STEP = "raw__equities_minute"
LONG = ("2025-01-02", "2025-03-31")  # 60 minute sessions: the step holds its slot for many seconds
SHORT = ("2025-04-01", "2025-04-02")  # the ingest that must get through after the kills


# ---------------------------------------------------------------------------------------------- helpers
class Node:
    """An isolated node whose `synthetic` pool has `limit` slots (configs/ copied, env/local/edge.yml)."""

    def __init__(self, root: Path, limit: int, mp: pytest.MonkeyPatch):
        configs = root / "configs"
        shutil.copytree(REPO_ROOT / "configs", configs)
        (configs / "env" / "local").mkdir(parents=True, exist_ok=True)
        (configs / "env" / "local" / "edge.yml").write_text(yaml.safe_dump({"pools": {POOL: limit}}))
        self.root = root
        for key, value in {
            "TRADEML_DATA_ROOT": root / "data_layer",
            "DAGSTER_HOME": root / "dagster_home",
            "TRADEML_CONFIG_DIR": configs,
            "TRADEML_ENV": "local",
            "TRADEML_VENDOR": "synthetic",
            "TRADEML_SYNTHETIC_N_SYMBOLS": 6,
            "TRADEML_SYNTHETIC_OUTAGES": "off",
        }.items():
            mp.setenv(key, str(value))
        mp.delenv("DB_URI", raising=False)
        self.env = dict(os.environ)
        from trademl_jobs.runner import dagster_instance

        self.instance = dagster_instance()  # creates the home and applies the pool limit
        assert self.instance.event_log_storage.get_concurrency_info(POOL).slot_count == limit

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                start_new_session=True)
        proc.log_path = self.root / f"{name}.log"
        return proc

    def ingest(self, name: str, window: tuple[str, str]) -> subprocess.Popen:
        return self.spawn(name, [str(TRADEML), "ingest", "--dataset", "equities_minute", "--start", window[0], "--end", window[1]])

    def claims(self) -> tuple[list[str], list[str]]:
        """Run ids holding a slot of the pool, and run ids with a step waiting for one."""
        info = self.instance.event_log_storage.get_concurrency_info(POOL)
        held = [s.run_id for s in info.claimed_slots]
        return held, [p.run_id for p in info.pending_steps if p.run_id not in held]

    def wait_for(self, what: str, predicate: Callable[[], bool], procs: list[subprocess.Popen], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            for p in procs:
                assert p.poll() is None, f"{p.args[1]} exited (rc {p.returncode}) before {what}:\n{p.log_path.read_text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)


def _finish(proc: subprocess.Popen, timeout: float) -> int:
    """The process's exit code; killed (and the test failed) if it does not end within `timeout` s."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"{' '.join(proc.args[1:3])} did not finish within {timeout:.0f}s:\n{proc.log_path.read_text()[-3000:]}")


def _kill_holding(node: Node, n: int) -> list[str]:
    """Start n long ingests, SIGKILL them once all n hold a slot; the run ids that held them."""
    procs = [node.ingest(f"killed-{i}", LONG) for i in range(n)]
    node.wait_for(f"{n} slot(s) claimed", lambda: len(node.claims()[0]) == n, procs)
    held = node.claims()[0]
    for p in procs:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    assert node.claims()[0] == held  # a SIGKILLed run cannot free its slot itself
    return held


@pytest.fixture(scope="module")
def after_two_kills(tmp_path_factory) -> Iterator[tuple[Node, list[str], subprocess.Popen, int]]:
    """Pool of 2: two ingests killed holding both slots, then a third ingest on the same home."""
    with pytest.MonkeyPatch.context() as mp:
        node = Node(tmp_path_factory.mktemp("pool2"), 2, mp)
        killed = _kill_holding(node, 2)
        survivor = node.ingest("survivor", SHORT)
        yield node, killed, survivor, _finish(survivor, 90)


@pytest.fixture(scope="module")
def after_one_kill(tmp_path_factory) -> Iterator[tuple[Node, list[str], subprocess.Popen, int]]:
    """Pool of 1 (a massive/alpha_vantage-sized pool): one ingest killed holding the slot, then another."""
    with pytest.MonkeyPatch.context() as mp:
        node = Node(tmp_path_factory.mktemp("pool1"), 1, mp)
        killed = _kill_holding(node, 1)
        survivor = node.ingest("survivor", SHORT)
        yield node, killed, survivor, _finish(survivor, 90)


# ---------------------------------------------------------------------------------------------- killed runs
def test_an_ingest_completes_after_two_killed_ingests_held_both_slots_of_a_pool_of_two(after_two_kills):
    node, killed, survivor, rc = after_two_kills
    assert rc == 0, survivor.log_path.read_text()
    assert "succeeded" in survivor.log_path.read_text()


def test_an_ingest_completes_after_a_killed_ingest_held_the_only_slot_of_a_pool_of_one(after_one_kill):
    node, killed, survivor, rc = after_one_kill
    assert rc == 0, survivor.log_path.read_text()
    assert "raw/equities_minute: GREEN 2  AMBER 0  RED 0" in survivor.log_path.read_text()


def test_killed_runs_end_failed_with_the_reason_not_started(after_two_kills):
    node, killed, _, _ = after_two_kills
    for run_id in killed:
        run = node.instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        (failure,) = node.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        message = failure.event_log_entry.dagster_event.message
        assert f"pid {run.tags['trademl/pid']}" in message and "is gone" in message and POOL in message
    started = node.instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert started == []


def test_no_slot_or_claim_is_left_after_the_recovery(after_one_kill, after_two_kills):
    for node, *_ in (after_one_kill, after_two_kills):
        assert node.claims() == ([], [])


def test_the_daemon_sensor_reaps_a_killed_run_launched_by_dagster_itself(tmp_path, monkeypatch):
    """A run executed by Dagster's own run worker (no trademl tags, as the daemon launches them) is
    judged by the pid of its RUN_START event; the daemon's run_health_sensor fails it and frees its slot."""
    from trademl_jobs.run_health import run_health_sensor

    node = Node(tmp_path, 1, monkeypatch)
    tags = '{"dagster/asset_partition_range_start": "%s", "dagster/asset_partition_range_end": "%s"}' % LONG
    worker = node.spawn("worker", [str(DAGSTER), "job", "execute", "-m", "trademl_jobs.definitions", "-j", "ingest_job",
                                   "-o", STEP, "--tags", tags])
    node.wait_for("the run worker's slot claim", lambda: len(node.claims()[0]) == 1, [worker])
    (run_id,) = node.claims()[0]
    os.killpg(worker.pid, signal.SIGKILL)  # the run worker and its step subprocess, as on power loss
    worker.wait()
    assert "trademl/pid" not in node.instance.get_run_by_id(run_id).tags

    skip = run_health_sensor(dg.build_sensor_context(instance=node.instance))
    assert f"run {run_id} FAILED" in skip.skip_message
    assert node.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert node.claims() == ([], [])


# ---------------------------------------------------------------------------------------------- waiting
def _live_holder(node: Node) -> str:
    """A STARTED run of this (live) test process holding the pool's only slot."""
    from trademl_jobs.run_health import process_tags

    run_id = str(uuid.uuid4())
    node.instance.add_run(dg.DagsterRun(job_name="ingest_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=process_tags()))
    assert node.instance.event_log_storage.claim_concurrency_slot(POOL, run_id, STEP).is_claimed
    return run_id


def _start_waiter(node: Node, name: str) -> tuple[subprocess.Popen, str]:
    """An ingest whose step waits behind the live holder; returns it with its run id."""
    waiter = node.ingest(name, SHORT)
    node.wait_for("the ingest to wait for the slot", lambda: len(node.claims()[1]) == 1, [waiter])
    return waiter, node.claims()[1][0]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def waiting(tmp_path_factory) -> Iterator[tuple[Node, str, subprocess.Popen, str]]:
    """Pool of 1 held by a live run; an ingest waiting for it (killed at the end)."""
    with pytest.MonkeyPatch.context() as mp:
        node = Node(tmp_path_factory.mktemp("waiting"), 1, mp)
        holder = _live_holder(node)
        waiter, run_id = _start_waiter(node, "waiter")
        yield node, holder, waiter, run_id
        os.killpg(waiter.pid, signal.SIGKILL)
        waiter.wait()


def test_a_waiting_ingest_says_once_which_pool_and_which_live_run_hold_the_slot(waiting):
    node, holder, waiter, run_id = waiting
    node.wait_for("the waiting message", lambda: "waiting for a slot" in waiter.log_path.read_text(), [waiter], timeout=10)
    time.sleep(3)  # no repeat within configs/runs.yml wait.report_every_seconds (60 s)
    lines = [line for line in waiter.log_path.read_text().splitlines() if "waiting for a slot" in line]
    assert len(lines) == 1
    assert f"run {run_id} is waiting for a slot in pool '{POOL}' (limit 1), held by run {holder}" in lines[0]
    assert f"pid {os.getpid()}" in lines[0] and "alive" in lines[0]
    assert node.claims() == ([holder], [run_id])  # a live holder is never reaped


def test_a_waiting_ingest_does_not_burn_cpu(waiting):
    _, _, waiter, _ = waiting
    before = _cpu_seconds(waiter.pid)
    time.sleep(3)
    assert _cpu_seconds(waiter.pid) - before < 0.5  # Dagster 1.13 alone re-polls in a tight loop (~3 s of CPU)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_waiting_ingest_stops_at_once_on_a_signal_and_cancels_its_run(tmp_path, monkeypatch, signum):
    node = Node(tmp_path, 1, monkeypatch)
    holder = _live_holder(node)
    waiter, run_id = _start_waiter(node, "waiter")
    t0 = time.monotonic()
    os.kill(waiter.pid, signum)
    rc = _finish(waiter, 10)
    assert time.monotonic() - t0 < 3
    assert rc == 128 + signum
    run = node.instance.get_run_by_id(run_id)
    assert run.status == dg.DagsterRunStatus.CANCELED
    assert f"interrupted by {signal.Signals(signum).name} while step {STEP} waited for a slot in pool '{POOL}'" in waiter.log_path.read_text()
    assert node.claims() == ([holder], [])  # its claim is gone, the live holder keeps its slot
