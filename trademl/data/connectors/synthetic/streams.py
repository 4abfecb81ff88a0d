"""Counter-based random streams: every random number of the synthetic market has a fixed address.

A number is addressed by (seed, stream, counter words) and drawn from a Philox generator keyed by
(seed, stream) whose counter starts at the given words. Nothing depends on the order or the
boundaries of requests, so the same address gives the same numbers in every process, and any
sub-range of a request equals the corresponding slice of a larger one.

Session-indexed draws come in calendar-year blocks: block (stream, year) is an (entities x 262)
matrix (262 is more than the weekdays in any year) and a session takes the column of its ordinal
within its year among all XNYS sessions. Extending the calendar therefore never changes the draws
of sessions already known.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache

import numpy as np

from trademl import calendar

YEAR_BLOCK = 262  # columns per (stream, year) block; more than the weekdays of any year
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class Stream(IntEnum):
    """Stream ids: one per independent source of randomness in the simulator."""

    STATIC = 1
    LIFECYCLE = 2
    MARKET = 3
    SECTOR = 4
    IDIO = 5
    OVERNIGHT = 6
    HIGH = 7
    LOW = 8
    VOLUME = 9
    SPREAD = 10
    TRADES = 11
    SPLIT = 12
    MINUTE = 13
    OPTIONS = 14
    MACRO = 15
    OUTAGE = 16
    SIGNAL_FEATURE = 17
    SIGNAL_RETURN = 18
    EARNINGS = 19
    SHARES = 20


def generator(seed: int, stream: int, *words: int) -> np.random.Generator:
    """A Philox generator keyed by (seed, stream) with counter words (0, *words); at most 3 words."""
    if len(words) > 3:
        raise ValueError(f"at most 3 counter words, got {len(words)}")
    counter = [0, *words, *([0] * (3 - len(words)))]
    return np.random.Generator(np.random.Philox(key=[int(seed), int(stream)], counter=counter))


@lru_cache(maxsize=64)  # at 500 symbols a block is 1 MiB
def year_block(seed: int, stream: int, year: int, n_entities: int, kind: str) -> np.ndarray:
    """The (n_entities x 262) block of `kind` draws ('normal' or 'uniform') of one stream and year.

    Row j belongs to entity j and does not depend on n_entities (draws fill row by row), so a
    larger universe keeps the numbers of the symbols it shares with a smaller one.
    """
    gen = generator(seed, stream, year)
    if kind == "normal":
        out = gen.standard_normal((n_entities, YEAR_BLOCK))
    elif kind == "uniform":
        out = gen.random((n_entities, YEAR_BLOCK))
    else:
        raise ValueError(f"kind must be 'normal' or 'uniform', got {kind!r}")
    out.setflags(write=False)
    return out


def session_draws(
    seed: int, stream: int, years: np.ndarray, pos_in_year: np.ndarray, n_entities: int, kind: str = "normal"
) -> np.ndarray:
    """Draws for sessions given by (calendar year, ordinal in year): a (sessions x n_entities) array."""
    years = np.asarray(years)
    pos = np.asarray(pos_in_year)
    if years.shape != pos.shape:
        raise ValueError("years and pos_in_year must have the same shape")
    out = np.empty((len(years), n_entities))
    for year in np.unique(years):  # one block per calendar year touched
        sel = years == year
        out[sel] = year_block(seed, stream, int(year), n_entities, kind)[:, pos[sel]].T
    return out


@lru_cache(maxsize=1)
def session_coordinates() -> tuple[np.ndarray, np.ndarray]:
    """(calendar year, ordinal within that year) of every XNYS session the calendar knows."""
    idx = calendar.all_sessions_index()
    years = idx.year.to_numpy()
    first_of_year = np.searchsorted(years, years, side="left")
    pos = np.arange(len(idx)) - first_of_year
    return years, pos


def hash_uniform(*keys: np.ndarray | int) -> np.ndarray:
    """Uniform(0, 1) numbers from a counter-based hash (SplitMix64 rounds) of integer keys, vectorised.

    Used where one number per (key tuple) is needed over large grids, e.g. which (session, symbol)
    pairs an outage hits, so no generator has to be constructed per pair.
    """
    arrays = np.broadcast_arrays(*[np.asarray(k, dtype=np.int64).astype(np.uint64) for k in keys])
    state = np.zeros(arrays[0].shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for arr in arrays:
            state = _splitmix(state ^ arr)
    return (state >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    return x ^ (x >> np.uint64(31))
