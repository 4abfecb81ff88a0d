"""Is a process still alive? Process identities that survive PID reuse and reboots.

A run records the process that executes it as a `ProcessStamp` (host, pid, and the process's
start identity: the boot id plus its start time in clock ticks since boot, from /proc). A reaper on
the same host can then prove the process is gone: no such pid, a zombie, or a pid now owned by a
process that started later (PID reuse) or during another boot. Without /proc (macOS) only the pid
is checked, so a reused pid reads as alive: safe (nothing live is reaped), just slower to recover.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

_PROC = Path("/proc")


class Liveness(Enum):
    """What a reaper may conclude about a process."""

    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # another host: this machine cannot tell


def host_name() -> str:
    """This machine's name as processes see it (the pid namespace a pid belongs to)."""
    return socket.gethostname()


def boot_id() -> str:
    """Identifier of the current boot ("" where the OS does not expose one)."""
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards), None if absent."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    # the command name (field 2) is in parentheses and may itself contain spaces or parentheses
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22), None if unknown."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def start_time(pid: int) -> float | None:
    """Start time of `pid` as a Unix timestamp (seconds; about 10 ms resolution), None if unknown."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        btime = next(int(line.split()[1]) for line in (_PROC / "stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, StopIteration, ValueError):
        return None
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def pid_exists(pid: int) -> bool:
    """True if a process (not a zombie) with this pid exists on this machine."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is not None:
        return fields[0] != "Z"  # a zombie has exited; it only waits for its parent to reap it
    if _PROC.is_dir():  # /proc exists but not this pid: gone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass(frozen=True)
class ProcessStamp:
    """A process identity: host, pid and start identity ("<boot id>/<start ticks>", "" if unknown)."""

    host: str
    pid: int
    start: str = ""

    @classmethod
    def current(cls) -> ProcessStamp:
        """The stamp of the calling process."""
        return cls.of(os.getpid())

    @classmethod
    def of(cls, pid: int) -> ProcessStamp:
        """The stamp of a live local process."""
        ticks = start_ticks(pid)
        return cls(host_name(), pid, f"{boot_id()}/{ticks}" if ticks is not None else "")

    def liveness(self) -> Liveness:
        """ALIVE or DEAD on this host (proved from /proc when the start identity is known), else UNKNOWN."""
        if self.host != host_name():
            return Liveness.UNKNOWN
        if not pid_exists(self.pid):
            return Liveness.DEAD
        if not self.start:
            return Liveness.ALIVE
        boot, _, ticks = self.start.partition("/")
        if boot and boot_id() and boot != boot_id():
            return Liveness.DEAD  # recorded during another boot
        now = start_ticks(self.pid)
        if now is not None and ticks.isdigit() and now != int(ticks):
            return Liveness.DEAD  # the pid now belongs to a later process
        return Liveness.ALIVE

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


def pid_alive_since(pid: int, started_by: float, slack_seconds: float) -> Liveness:
    """Liveness of a local `pid` known to be running at Unix time `started_by` (e.g. a logged event).

    DEAD if no such process exists, or the process now at that pid started more than
    `slack_seconds` after `started_by` (so it cannot be the one that was running then).
    """
    if not pid_exists(pid):
        return Liveness.DEAD
    began = start_time(pid)
    if began is not None and began > started_by + slack_seconds:
        return Liveness.DEAD
    return Liveness.ALIVE

