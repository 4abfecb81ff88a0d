"""A lake writer run as a separate process by the crash and concurrency tests (not a test module).

usage: python lake_writer_child.py SCENARIO ROOT [ARGS]
  mid-write ROOT            write a revision of BIG_DATE; stop after half of the tmp file is on disk
  before-rename ROOT        write a revision of BIG_DATE; stop after verify + manifest, before the rename
  loop ROOT                 write LOOP_DATES one partition at a time, printing COMMITTED <date> after each
  revisions ROOT SEED N GO  print READY, wait for file GO, write N revisions of BIG_DATE (seeds SEED..)
"Stop" means: print PAUSED <path>, then sleep until the parent kills the process with SIGKILL.
The pauses are installed here by wrapping the lake's storage primitives; the lake has no test hooks.
"""

from __future__ import annotations

import os
import sys
import time

import pandas as pd
from lake_payloads import bars

from trademl.data import lake as lake_module
from trademl.data.lake import Lake

BARS = "raw/equities_bars"
BIG_DATE = "2024-01-02"
BIG_SYMBOLS = [f"S{i:05d}" for i in range(5000)]
LOOP_DATES = [d.date().isoformat() for d in pd.bdate_range("2024-01-02", periods=400)]


def _pause(path: str) -> None:
    print(f"PAUSED {path}", flush=True)
    time.sleep(120)
    sys.exit("parent never killed the child")


def main(argv: list[str]) -> None:
    scenario, root = argv[0], argv[1]
    lake = Lake(root)
    store_cls = lake_module._LocalStore
    if scenario == "mid-write":

        def half_write(self, path, data):
            view = memoryview(data)
            with open(path, "wb") as fh:
                fh.write(view[: len(view) // 2])
                fh.flush()
                os.fsync(fh.fileno())
            _pause(path)

        store_cls.write_new = half_write
        lake.write_partition(BARS, BIG_DATE, bars([BIG_DATE], BIG_SYMBOLS, seed=1))
    elif scenario == "before-rename":
        real_commit = store_cls.commit

        def paused_commit(self, src, dst):
            if dst.endswith(".parquet"):
                _pause(src)
            real_commit(self, src, dst)

        store_cls.commit = paused_commit
        lake.write_partition(BARS, BIG_DATE, bars([BIG_DATE], BIG_SYMBOLS, seed=1))
    elif scenario == "loop":
        for i, day in enumerate(LOOP_DATES):  # one write per partition, as a backfill worker does
            lake.write_partition(BARS, day, bars([day], BIG_SYMBOLS, seed=i))
            print(f"COMMITTED {day}", flush=True)
    elif scenario == "revisions":
        seed, n, go = int(argv[2]), int(argv[3]), argv[4]
        payloads = [bars([BIG_DATE], BIG_SYMBOLS[:200], seed=seed + k) for k in range(n)]
        print("READY", flush=True)
        while not os.path.exists(go):
            time.sleep(0.005)
        for k, payload in enumerate(payloads):
            result = lake.write_partition(BARS, BIG_DATE, payload)
            print(f"VERSION {result.version} {seed + k} {result.content_hash}", flush=True)
    else:
        sys.exit(f"unknown scenario {scenario!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
