"""Process liveness (trademl.data.liveness): a recorded process is proved gone, also after PID reuse or a reboot."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from trademl.data.liveness import Liveness, ProcessStamp, boot_id, pid_alive_since, pid_exists, start_time


def _exited_child() -> ProcessStamp:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    stamp = ProcessStamp.of(proc.pid)
    proc.wait()
    return stamp


def test_the_calling_process_is_alive():
    assert ProcessStamp.current().liveness() is Liveness.ALIVE


def test_an_exited_process_is_dead():
    assert _exited_child().liveness() is Liveness.DEAD


def test_an_unreaped_zombie_is_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    stamp = ProcessStamp.of(proc.pid)
    deadline = time.monotonic() + 10
    while pid_exists(proc.pid) and time.monotonic() < deadline:  # exited, not yet waited for
        time.sleep(0.02)
    assert stamp.liveness() is Liveness.DEAD
    proc.wait()


def test_a_pid_now_owned_by_a_later_process_is_dead():
    me = ProcessStamp.current()
    boot, _, ticks = me.start.partition("/")
    assert ProcessStamp(me.host, me.pid, f"{boot}/{int(ticks) + 1}").liveness() is Liveness.DEAD


def test_a_process_recorded_during_another_boot_is_dead():
    me = ProcessStamp.current()
    _, _, ticks = me.start.partition("/")
    assert boot_id()
    assert ProcessStamp(me.host, me.pid, f"not-{boot_id()}/{ticks}").liveness() is Liveness.DEAD


def test_a_process_on_another_host_is_unknown():
    assert ProcessStamp("some-other-host", os.getpid(), "").liveness() is Liveness.UNKNOWN


def test_a_pid_seen_at_an_event_is_alive_only_if_it_started_before_it():
    began = start_time(os.getpid())
    assert pid_alive_since(os.getpid(), began + 1, slack_seconds=2) is Liveness.ALIVE
    assert pid_alive_since(os.getpid(), began - 60, slack_seconds=2) is Liveness.DEAD  # started after the event
    assert pid_alive_since(_exited_child().pid, time.time(), slack_seconds=2) is Liveness.DEAD
