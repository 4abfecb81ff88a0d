"""Vendor outages of the synthetic market: which (session, symbol) pairs a request is refused, and for how long.

Each configured OutageSpec picks sessions (range, list or seeded probability) and symbols (list or
seeded fraction). A request touching an (outage, session) pair fails for it while the pair has been
touched fewer than `failures` times; every touching request counts one attempt. Attempt counts are
kept in `<state_dir>/outage_attempts.json` (file-locked, atomically replaced) so that a retry from
another process — the backfill queue's worker — sees the earlier failures and succeeds. Without a
state directory the counts live in memory (one connector instance).
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trademl.data.connectors.synthetic.config import OutageSpec
from trademl.data.connectors.synthetic.streams import Stream, hash_uniform

STATE_FILE = "outage_attempts.json"


@dataclass(frozen=True)
class OutageHit:
    """One refused (outage, session): the symbols withheld (None = every symbol) and why."""

    outage: str
    session: pd.Timestamp
    symbols: frozenset[str] | None
    mode: str
    attempt: int
    failures: int

    @property
    def reason(self) -> str:
        return (
            f"synthetic vendor outage {self.outage!r} on {self.session.date()} "
            f"(attempt {self.attempt} of {self.failures} refused)"
        )


class OutageBook:
    """Decides and records outage hits for requests; `enabled=False` makes every request succeed."""

    def __init__(self, outages: tuple[OutageSpec, ...], *, seed: int, state_dir: Path | None, enabled: bool = True) -> None:
        self.outages = outages if enabled else ()
        self.seed = seed
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._memory: dict[str, dict[str, int]] = {}

    def _sessions_of(self, spec: OutageSpec, sessions: pd.DatetimeIndex, ordinals: np.ndarray) -> np.ndarray:
        if spec.sessions is not None:
            return sessions.isin(pd.DatetimeIndex([pd.Timestamp(s) for s in spec.sessions]))
        if spec.probability is not None:
            return hash_uniform(self.seed, int(Stream.OUTAGE), _name_key(spec.name), ordinals) < spec.probability
        return (sessions >= pd.Timestamp(spec.start)) & (sessions <= pd.Timestamp(spec.end))

    def _symbols_of(
        self, spec: OutageSpec, ordinal: int, universe: np.ndarray, universe_index: np.ndarray, requested: frozenset[str] | None
    ) -> frozenset[str] | None:
        """Symbols withheld on one session; None means all (also for datasets without symbols)."""
        if spec.symbols is None and spec.symbol_fraction >= 1.0:
            return None
        names = universe if spec.symbols is None else np.asarray(spec.symbols, dtype=object)
        if spec.symbols is None:
            u = hash_uniform(self.seed, int(Stream.OUTAGE), _name_key(spec.name), ordinal, universe_index)
            names = universe[u < spec.symbol_fraction]
        hit = frozenset(str(s) for s in names)
        return hit if requested is None else hit & requested

    def check(
        self,
        dataset: str,
        sessions: pd.DatetimeIndex,
        ordinals: np.ndarray,
        *,
        requested: frozenset[str] | None,
        universe: np.ndarray,
        universe_index: np.ndarray,
    ) -> list[OutageHit]:
        """The outage hits of one request (and count the attempt for every pair it touches)."""
        touched: list[tuple[OutageSpec, pd.Timestamp, frozenset[str] | None]] = []
        for spec in self.outages:  # a handful of configured outages
            if dataset not in spec.datasets:
                continue
            chosen = self._sessions_of(spec, sessions, ordinals)
            for session, ordinal in zip(sessions[chosen], ordinals[chosen]):
                symbols = self._symbols_of(spec, int(ordinal), universe, universe_index, requested)
                if symbols is not None and not symbols:
                    continue
                touched.append((spec, session, symbols))
        if not touched:
            return []
        hits: list[OutageHit] = []
        with self._attempts() as attempts:
            for spec, session, symbols in touched:
                per = attempts.setdefault(spec.name, {})
                key = session.strftime("%Y-%m-%d")
                done = per.get(key, 0)
                if done < spec.failures:
                    per[key] = done + 1
                    hits.append(OutageHit(spec.name, session, symbols, spec.mode, done + 1, spec.failures))
        return hits

    @contextmanager
    def _attempts(self) -> Iterator[dict[str, dict[str, int]]]:
        """The attempt counts, locked and written back atomically when a state directory is set."""
        if self.state_dir is None:
            yield self._memory
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / STATE_FILE
        with open(self.state_dir / (STATE_FILE + ".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(path.read_text()) if path.exists() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"synthetic outage state {path} is corrupt; delete it to reset outages") from exc
            yield state
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(state, sort_keys=True, indent=1))
            os.replace(tmp, path)


def _name_key(name: str) -> int:
    """A stable integer for an outage name (seeds its probability and symbol draws)."""
    return zlib.crc32(name.encode())
