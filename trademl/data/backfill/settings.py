"""The node loop's settings from configs/backfill.yml, typed and validated once per file version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trademl.config import typed_config


@dataclass(frozen=True)
class PlannerSettings:
    """What the jobs, schedules and sensors of the node loop read: the audited tables
    (`audit.tables`), the FORWARD datasets (`forward.datasets`), tasks leased per queue-worker tick
    (`queue.max_runs_per_tick`) and the age in days after which FAILED tasks are purged."""

    audit_tables: tuple[str, ...]
    forward_datasets: tuple[str, ...]
    max_runs_per_tick: int
    purge_failed_after_days: int

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> PlannerSettings:
        def section(name: str) -> Mapping[str, Any]:
            if not isinstance(doc.get(name), Mapping):
                raise ValueError(f"configs/backfill.yml has no `{name}:` section")
            return doc[name]

        try:
            settings = cls(
                audit_tables=tuple(section("audit")["tables"]),
                forward_datasets=tuple(section("forward")["datasets"]),
                max_runs_per_tick=int(section("queue")["max_runs_per_tick"]),
                purge_failed_after_days=int(section("queue")["purge_failed_after_days"]),
            )
        except KeyError as exc:
            raise ValueError(f"configs/backfill.yml is missing {exc.args[0]!r}") from exc
        if settings.max_runs_per_tick < 1 or settings.purge_failed_after_days < 0:
            raise ValueError(
                "configs/backfill.yml needs queue.max_runs_per_tick >= 1 and queue.purge_failed_after_days >= 0, got "
                f"{settings.max_runs_per_tick} and {settings.purge_failed_after_days}"
            )
        return settings


def planner_settings() -> PlannerSettings:
    """The current PlannerSettings (re-read when configs/backfill.yml or its env override changes)."""
    return typed_config(PlannerSettings, "backfill")
