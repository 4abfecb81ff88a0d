"""Leases: handing PENDING tasks out atomically, renewing them while their holder lives, expiring them.

`lease_tasks` hands PENDING tasks out in (priority, created_at, id) order inside one transaction
(``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE SKIP LOCKED`` on Postgres), within the vendor budgets
(`budgets.BudgetGate`). Leases are short (``queue.lease_ttl_seconds``) and renewed while their
holder lives (`renew_lease`, run by a `LeaseHeartbeat` thread), so a killed worker's task returns
to PENDING (`expire_leases`, no attempt counted) about one TTL after the kill. `leased_tasks`,
`lease_record` and `describe_lease` say who holds what until when.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.engine import Connection, Engine, Row

from trademl.config import settings
from trademl.data import control
from trademl.data.backfill.budgets import BudgetGate, _budget_slices, _edge_budgets
from trademl.data.backfill.tasks import _Q, Task, _config, _section, _tasks_by_id, get_task
from trademl.data.control import as_utc

log = logging.getLogger("trademl.data.backfill")


def lease_tasks(
    engine: Engine,
    owner: str,
    *,
    n: int = 1,
    ttl_seconds: int | None = None,
    now: dt.datetime | None = None,
    budgets: Mapping[str, float] | None = None,
) -> list[Task]:
    """Atomically lease up to `n` PENDING tasks whose next_not_before has passed, in (priority, created_at, id) order.

    A task is leased only if its vendor's token bucket holds its tokens (a task larger than the
    bucket goes when the bucket is full), the day's total usage plus its tokens stays within its
    kind's slice of the daily cap (configs/backfill.yml budget.slices) and, when `budgets` names
    its vendor, within that remaining run budget. A blocked vendor (or vendor+kind for cap slices)
    is skipped for the rest of the call so FIFO holds within it; other vendors still lease.
    Leased tasks are LEASED by `owner` until now + ttl and their tokens are charged.
    """
    if not owner or not isinstance(owner, str):
        raise ValueError("lease owner must be a non-empty string")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    cfg = _config()
    queue = _section(cfg, "queue")
    ttl = _lease_ttl(queue, ttl_seconds)
    slices = _budget_slices(cfg)
    scan = int(queue.get("lease_scan_limit", 500))
    now = as_utc(now)
    gate = BudgetGate(slices, _edge_budgets(), settings().vendor, budgets)
    with control.write_transaction(engine) as conn:
        chosen = _choose(conn, gate, now, n=n, scan=scan)
        if chosen:
            _mark_leased(conn, chosen, owner, expires_at=now + dt.timedelta(seconds=ttl), now=now)
            gate.save(conn, now)
        leased = _tasks_by_id(conn, chosen)
    if leased:
        log.info("leased tasks", extra={"owner": owner, "tasks": ",".join(str(t.id) for t in leased)})
    return leased


def _lease_ttl(queue: Mapping[str, Any], ttl_seconds: int | None) -> int:
    """The lease TTL in seconds: `ttl_seconds`, else ``queue.lease_ttl_seconds``; must be > 0."""
    ttl = int(queue["lease_ttl_seconds"] if ttl_seconds is None else ttl_seconds)
    if ttl <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl}")
    return ttl


def _choose(conn: Connection, gate: BudgetGate, now: dt.datetime, *, n: int, scan: int) -> list[int]:
    """Ids of up to `n` leasable tasks the budget gate admits, in lease order (at most `scan` examined)."""
    chosen: list[int] = []
    for task_id, kind, vendor, tokens in _candidates(conn, now, first_page=n, limit=scan):
        if not gate.admit(conn, kind, vendor, tokens, now):
            continue
        chosen.append(int(task_id))
        if len(chosen) >= n:
            break
    return chosen


def _mark_leased(conn: Connection, ids: list[int], owner: str, *, expires_at: dt.datetime, now: dt.datetime) -> None:
    """The chosen tasks (still PENDING) become LEASED by `owner` until `expires_at`."""
    conn.execute(
        update(_Q)
        .where(_Q.c.id.in_(ids), _Q.c.status == "PENDING")
        .values(status="LEASED", lease_owner=owner, lease_expires_at=expires_at, updated_at=now)
    )


def _candidates(conn: Connection, now: dt.datetime, *, first_page: int, limit: int) -> Iterator[Row]:
    """Leasable rows (id, kind, vendor, tokens) in lease order, fetched page by page.

    On Postgres every page is ``FOR UPDATE SKIP LOCKED``: rows another worker is leasing are
    skipped, and only the rows examined are locked (the first page is just as large as the number
    of tasks wanted), so concurrent workers find the rest of the queue.
    """
    seen: list[int] = []
    page = max(1, first_page)
    while len(seen) < limit:
        stmt = (
            select(_Q.c.id, _Q.c.kind, _Q.c.vendor, _Q.c.tokens)
            .where(_Q.c.status == "PENDING", or_(_Q.c.next_not_before.is_(None), _Q.c.next_not_before <= now))
            .order_by(_Q.c.priority, _Q.c.created_at, _Q.c.id)
            .limit(min(page, limit - len(seen)))
        )
        if seen:
            stmt = stmt.where(_Q.c.id.notin_(seen))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = conn.execute(stmt).all()
        if not rows:
            return
        yield from rows
        seen.extend(int(r[0]) for r in rows)
        page = max(page, 50)


def expire_leases(engine: Engine, now: dt.datetime | None = None) -> int:
    """LEASED tasks whose lease_expires_at has passed go back to PENDING (no attempt counted); returns how many."""
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.status == "LEASED", _Q.c.lease_expires_at < now)
            .values(
                status="PENDING",
                last_error=literal("lease expired; held by ") + func.coalesce(_Q.c.lease_owner, literal("?")),
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        n = int(res.rowcount or 0)
    if n:
        log.warning("expired leases returned to PENDING", extra={"tasks": n})
    return n


@dataclass(frozen=True)
class LeaseSettings:
    """How long a lease lasts and how often its holder renews it (configs/backfill.yml ``queue``), in seconds."""

    ttl_seconds: int
    heartbeat_seconds: float


def lease_settings(cfg: Mapping[str, Any] | None = None) -> LeaseSettings:
    """``queue.lease_ttl_seconds`` and ``queue.heartbeat_seconds``, validated: the heartbeat must be
    shorter than the TTL, else a live holder's lease would expire between two renewals."""
    queue = _section(cfg or _config(), "queue")
    ttl = int(queue["lease_ttl_seconds"])
    beat = float(queue.get("heartbeat_seconds", ttl / 4))
    if ttl <= 0 or beat <= 0:
        raise ValueError(f"configs/backfill.yml queue.lease_ttl_seconds ({ttl}) and heartbeat_seconds ({beat:g}) must be > 0")
    if beat >= ttl:
        raise ValueError(
            f"configs/backfill.yml queue.heartbeat_seconds ({beat:g}) must be below lease_ttl_seconds ({ttl}): "
            "a lease renewed less often than it lasts expires under a live holder"
        )
    return LeaseSettings(ttl, beat)


def renew_lease(engine: Engine, task_id: int, owner: str, ttl_seconds: float, *, now: dt.datetime | None = None) -> bool:
    """Extend `owner`'s lease on a task to now + `ttl_seconds` (the heartbeat of a live holder).

    One owner-checked UPDATE, atomic on every backend: it changes the row only while the task is
    LEASED by `owner`. Returns False when the lease was lost (expired and re-leased by another
    worker, returned to PENDING, or the task closed), so the caller knows it no longer holds it.
    """
    if not owner:
        raise ValueError("lease owner must be a non-empty string")
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds}")
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.id == int(task_id), _Q.c.status == "LEASED", _Q.c.lease_owner == owner)
            .values(lease_expires_at=now + dt.timedelta(seconds=float(ttl_seconds)), updated_at=now)
        )
        return int(res.rowcount or 0) == 1


def release_lease(engine: Engine, task_id: int, owner: str, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Give a task `owner` still holds back to PENDING at once (no attempt counted), e.g. when its
    worker is interrupted; returns False when `owner` did not hold it."""
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.id == int(task_id), _Q.c.status == "LEASED", _Q.c.lease_owner == owner)
            .values(status="PENDING", lease_owner=None, lease_expires_at=None, last_error=f"[{owner}] {reason}"[:4000], updated_at=now)
        )
        return int(res.rowcount or 0) == 1


def leased_tasks(engine: Engine) -> list[Task]:
    """Every LEASED task, soonest-expiring first (what `trademl status` and an idle `backfill run` report)."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_Q.c).where(_Q.c.status == "LEASED").order_by(_Q.c.lease_expires_at, _Q.c.id))
        return [Task.from_row(r._mapping) for r in rows]


def lease_record(task: Task) -> dict[str, Any]:
    """A LEASED task as a JSON-ready mapping: id, kind, dataset, symbol, start_date, end_date
    (closed-open, ISO dates), owner and expires_at (UTC ISO instant)."""
    return {
        "id": task.id,
        "kind": task.kind,
        "dataset": task.dataset,
        "symbol": task.symbol,
        "start_date": task.start_date.isoformat(),
        "end_date": task.end_date.isoformat(),
        "owner": task.lease_owner,
        "expires_at": None if task.lease_expires_at is None else task.lease_expires_at.astimezone(dt.timezone.utc).isoformat(),
    }


def describe_lease(lease: Mapping[str, Any], now: dt.datetime | None = None) -> str:
    """A `lease_record` in one line: ``#12 GAP equities_eod [2025-03-06, 2025-03-10) * held by
    cli:node:4242 until 2025-03-20T12:03:00Z (in 95 s)``."""
    head = f"#{lease['id']} {lease['kind']} {lease['dataset']} [{lease['start_date']}, {lease['end_date']}) {lease['symbol'] or '*'}"
    owner = lease["owner"] or "?"
    if lease["expires_at"] is None:
        return f"{head} held by {owner} (no expiry)"
    expires = dt.datetime.fromisoformat(lease["expires_at"])
    left = (expires - as_utc(now)).total_seconds()
    when = f"in {left:.0f} s" if left >= 0 else f"expired {-left:.0f} s ago; back to PENDING at the next lease"
    return f"{head} held by {owner} until {expires.strftime('%Y-%m-%dT%H:%M:%SZ')} ({when})"


class LeaseHeartbeat:
    """A daemon thread renewing `owner`'s leases every `every_seconds` while its tasks run.

    A worker holds a lease only as long as it proves it is alive, so the TTL can be short: when the
    process dies (SIGKILL, OOM, power loss) the renewals stop and its tasks return to PENDING one
    TTL later. A renewal that finds the lease gone (re-leased by another worker after an expiry)
    drops the task and logs it; a task the worker closed itself is dropped silently. Database
    errors are logged and retried at the next beat. Use as a context manager around the run.
    """

    def __init__(self, engine: Engine, owner: str, task_ids: Iterable[int], *, ttl_seconds: float, every_seconds: float) -> None:
        if every_seconds <= 0 or every_seconds >= ttl_seconds:
            raise ValueError(f"heartbeat every {every_seconds:g} s must be > 0 and below the lease TTL ({ttl_seconds:g} s)")
        self.engine, self.owner = engine, owner
        self.ttl_seconds, self.every_seconds = float(ttl_seconds), float(every_seconds)
        self._ids: set[int] = {int(i) for i in task_ids}
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-heartbeat-{owner}", daemon=True)
        self.renewals = 0

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def lost(self) -> set[int]:
        """Tasks whose lease another worker took over while this one ran them."""
        with self._lock:
            return set(self._lost)

    def forget(self, task_id: int) -> None:
        """Stop renewing a task (its worker closed it)."""
        with self._lock:
            self._ids.discard(int(task_id))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_seconds + 5)

    def beat(self) -> None:
        """Renew every tracked lease once."""
        with self._lock:
            ids = sorted(self._ids)
        for task_id in ids:
            if renew_lease(self.engine, task_id, self.owner, self.ttl_seconds):
                self.renewals += 1
                continue
            self.forget(task_id)
            task = get_task(self.engine, task_id)
            taken = task is not None and task.status == "LEASED" and task.lease_owner != self.owner
            expired = task is not None and task.status == "PENDING" and (task.last_error or "") == f"lease expired; held by {self.owner}"
            if taken or expired:
                with self._lock:
                    self._lost.add(task_id)
                log.warning(
                    "lease lost while the task ran",
                    extra={"task": task_id, "owner": self.owner, "status": task.status, "lease_owner": task.lease_owner},
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a busy or briefly unreachable db must not kill the heartbeat
                log.exception("lease heartbeat failed; retrying at the next beat", extra={"owner": self.owner})
