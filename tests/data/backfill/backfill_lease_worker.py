"""A queue worker for the concurrency test: its own process, its own engine, leasing until nothing is left."""

from __future__ import annotations

import os
import time


def lease_until_empty(db_uri: str, owner: str, config_dir: str, barrier, results, work_seconds: float = 0.005) -> None:
    """Wait for the other worker, then lease one task at a time (holding it `work_seconds`, as a worker
    busy running it would) until none is leasable; report the ids."""
    os.environ["TRADEML_CONFIG_DIR"] = config_dir
    os.environ["TRADEML_VENDOR"] = "synthetic"
    from trademl.data import backfill, control

    engine = control.make_engine(db_uri)
    got: list[int] = []
    barrier.wait(timeout=60)
    while True:
        tasks = backfill.lease_tasks(engine, owner, n=1, ttl_seconds=600)
        if not tasks:
            if control.queue_counts(engine)["PENDING"] == 0:
                break
            continue  # Postgres: the rest is locked by the other worker's open lease transaction
        got.extend(t.id for t in tasks)
        time.sleep(work_seconds)
    engine.dispose()
    results.put((owner, got))
