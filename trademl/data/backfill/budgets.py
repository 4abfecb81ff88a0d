"""Vendor budgets: per-vendor token buckets and daily caps sliced by task kind.

Budget state lives in control.vendor_token_bucket / control.vendor_budget_usage so it holds across
processes; `lease_tasks` loads it (locked) inside its transaction, charges the tasks it leases
with `BudgetGate.admit` and saves it back. Limits come from configs/edge.yml ``budgets``, the
per-kind slices of the daily cap from configs/backfill.yml ``budget.slices``. The budget day is
the UTC calendar day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from trademl.config import config_snapshot
from trademl.data import control
from trademl.data.backfill.tasks import _section
from trademl.data.control import TASK_KINDS, USAGE_COLUMNS


@dataclass
class VendorBudget:
    """Per-vendor budget state inside one lease transaction (loaded from, then saved to, the control db)."""

    vendor: str
    per_minute: float
    burst: float
    daily_cap: float
    level: float
    usage: dict[str, float]
    updated_at: dt.datetime

    @property
    def used_today(self) -> float:
        return float(sum(self.usage.values()))


def _budget_vendor(vendor: str) -> str:
    """Vendor whose budget a task spends (aliases such as alfred -> fred, via configs/endpoints.yml)."""
    from trademl.data.http import budget_vendor

    try:
        return budget_vendor(vendor)
    except ValueError:
        return vendor


def _edge_budgets() -> dict[str, Mapping[str, Any]]:
    doc = config_snapshot("edge").get("budgets") or {}
    out = {}
    for vendor, b in doc.items():
        try:
            out[vendor] = {
                "tokens_per_minute": float(b["tokens_per_minute"]),
                "burst": float(b.get("burst", b["tokens_per_minute"])),
                "daily_cap": float(b["daily_cap"]),
            }
        except (KeyError, TypeError) as exc:
            raise ValueError(f"configs/edge.yml budgets.{vendor} needs tokens_per_minute and daily_cap: {exc}") from exc
        if min(out[vendor].values()) <= 0:
            raise ValueError(f"configs/edge.yml budgets.{vendor}: limits must be > 0")
    return out


def _load_budget(conn: Connection, vendor: str, limits: Mapping[str, float], now: dt.datetime) -> VendorBudget:
    """Lock (Postgres) and read a vendor's bucket and today's usage, creating them if missing; refill the bucket."""
    day = now.date()
    bucket, usage = control.vendor_token_bucket, control.vendor_budget_usage
    ins = control.dialect_insert(conn, bucket).values(vendor=vendor, tokens=limits["burst"], updated_at=now)
    conn.execute(ins.on_conflict_do_nothing())
    ins = control.dialect_insert(conn, usage).values(vendor=vendor, day=day, updated_at=now)
    conn.execute(ins.on_conflict_do_nothing())
    b = conn.execute(select(bucket).where(bucket.c.vendor == vendor).with_for_update()).one()._mapping
    u = conn.execute(select(usage).where(usage.c.vendor == vendor, usage.c.day == day).with_for_update()).one()._mapping
    elapsed = max(0.0, (now - b["updated_at"]).total_seconds())
    level = min(limits["burst"], float(b["tokens"]) + elapsed * limits["tokens_per_minute"] / 60.0)
    return VendorBudget(
        vendor=vendor,
        per_minute=limits["tokens_per_minute"],
        burst=limits["burst"],
        daily_cap=limits["daily_cap"],
        level=level,
        usage={kind: float(u[col]) for kind, col in USAGE_COLUMNS.items()},
        updated_at=max(b["updated_at"], now),
    )


def _save_budget(conn: Connection, state: VendorBudget, now: dt.datetime) -> None:
    bucket, usage = control.vendor_token_bucket, control.vendor_budget_usage
    conn.execute(update(bucket).where(bucket.c.vendor == state.vendor).values(tokens=state.level, updated_at=state.updated_at))
    conn.execute(
        update(usage)
        .where(usage.c.vendor == state.vendor, usage.c.day == now.date())
        .values(updated_at=now, **{USAGE_COLUMNS[k]: v for k, v in state.usage.items()})
    )


def budget_usage(engine: Engine, vendor: str, day: dt.date | None = None) -> dict[str, float]:
    """Tokens a vendor spent on a UTC day, by task kind (zeros when nothing was spent)."""
    day = day or control.utc_now().date()
    usage = control.vendor_budget_usage
    with engine.connect() as conn:
        row = conn.execute(select(usage).where(usage.c.vendor == vendor, usage.c.day == day)).first()
    if row is None:
        return dict.fromkeys(TASK_KINDS, 0.0)
    return {kind: float(row._mapping[col]) for kind, col in USAGE_COLUMNS.items()}


def _budget_slices(cfg: Mapping[str, Any]) -> dict[str, float]:
    """configs/backfill.yml ``budget.slices``: the fraction of a vendor's daily cap each task kind may fill."""
    slices = {k: float(v) for k, v in _section(cfg, "budget")["slices"].items()}
    missing = set(TASK_KINDS) - set(slices)
    if missing:
        raise ValueError(f"configs/backfill.yml budget.slices lacks {sorted(missing)}")
    return slices


class BudgetGate:
    """Admits candidate tasks, in lease order, against the vendor budgets inside one lease transaction.

    A task passes if its vendor's token bucket holds its tokens (a task larger than the bucket goes
    when the bucket is full), the day's total usage plus its tokens stays within its kind's slice of
    the daily cap and, when the run budget (`budgets`) names its vendor, within what is left of it.
    A blocked vendor (or vendor+kind for cap slices) stays blocked for the rest of the transaction,
    so FIFO holds within it while other vendors still pass. Vendors without configs/edge.yml limits
    are charged against the run budget only. `save` writes the charged bucket and usage back.
    """

    def __init__(
        self,
        slices: Mapping[str, float],
        limits: Mapping[str, Mapping[str, float]],
        default_vendor: str,
        budgets: Mapping[str, float] | None,
    ) -> None:
        self.slices, self.limits, self.default_vendor = slices, limits, default_vendor
        self.remaining = None if budgets is None else {_budget_vendor(k): float(v) for k, v in budgets.items()}
        self.states: dict[str, VendorBudget | None] = {}
        self.blocked_vendor: set[str] = set()
        self.blocked_kind: set[tuple[str, str]] = set()

    def admit(self, conn: Connection, kind: str, vendor: str | None, tokens: float, now: dt.datetime) -> bool:
        """Charge a candidate's tokens and return True, or return False (and block what stopped it)."""
        v = _budget_vendor(vendor or self.default_vendor)
        if v in self.blocked_vendor or (v, kind) in self.blocked_kind:
            return False
        tokens = float(tokens)
        if self.remaining is not None and v in self.remaining and tokens > self.remaining[v]:
            self.blocked_vendor.add(v)
            return False
        state = self._state(conn, v, now)
        if state is not None and not self._charge(state, kind, tokens):
            return False
        if self.remaining is not None and v in self.remaining:
            self.remaining[v] -= tokens
        return True

    def save(self, conn: Connection, now: dt.datetime) -> None:
        """Persist every vendor budget this gate loaded (and charged)."""
        for state in self.states.values():
            if state is not None:
                _save_budget(conn, state, now)

    def _state(self, conn: Connection, vendor: str, now: dt.datetime) -> VendorBudget | None:
        if vendor not in self.states:
            self.states[vendor] = _load_budget(conn, vendor, self.limits[vendor], now) if vendor in self.limits else None
        return self.states[vendor]

    def _charge(self, state: VendorBudget, kind: str, tokens: float) -> bool:
        if state.used_today + tokens > self.slices[kind] * state.daily_cap + 1e-9:
            self.blocked_kind.add((state.vendor, kind))
            return False
        if tokens > state.level + 1e-9 and state.level < state.burst - 1e-9:
            self.blocked_vendor.add(state.vendor)
            return False
        state.level -= tokens
        state.usage[kind] += tokens
        return True
