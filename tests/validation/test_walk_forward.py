"""PurgedEmbargoedWalkForwardSplit: expanding train before each test block, gap = embargo x test size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.validation.walk_forward import PurgedEmbargoedWalkForwardSplit


def as_lists(splits):
    return [(train.tolist(), test.tolist()) for train, test in splits]


def test_twelve_rows_three_splits_without_embargo_train_on_everything_before_the_test_block():
    """12 rows -> 4 blocks of 3; tests are blocks 1..3, training is all earlier rows."""
    splits = as_lists(PurgedEmbargoedWalkForwardSplit(n_splits=3).split(np.zeros(12)))
    assert splits == [
        ([0, 1, 2], [3, 4, 5]),
        ([0, 1, 2, 3, 4, 5], [6, 7, 8]),
        ([0, 1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11]),
    ]


def test_embargo_fraction_drops_ceil_of_fraction_times_test_size_before_each_test_block():
    """embargo=0.34 of a 3-row test block -> ceil(1.02) = 2 rows dropped before each test block."""
    splits = as_lists(PurgedEmbargoedWalkForwardSplit(n_splits=3, embargo=0.34).split(np.zeros(12)))
    assert splits == [
        ([0], [3, 4, 5]),
        ([0, 1, 2, 3], [6, 7, 8]),
        ([0, 1, 2, 3, 4, 5, 6], [9, 10, 11]),
    ]


def test_gap_is_not_inflated_by_floating_point_noise():
    """0.1 * 30 is 3.0000000000000004 in floating point; the gap must still be 3, not 4."""
    assert PurgedEmbargoedWalkForwardSplit(embargo=0.1).gap_size(30) == 3


def test_uneven_rows_give_the_extra_rows_to_the_earliest_blocks():
    """14 rows in 4 blocks -> sizes 4, 4, 3, 3 (numpy.array_split convention)."""
    tests = [test.tolist() for _, test in PurgedEmbargoedWalkForwardSplit(n_splits=3).split(np.zeros(14))]
    assert tests == [[4, 5, 6, 7], [8, 9, 10], [11, 12, 13]]


def test_with_times_blocks_and_gap_are_counted_in_sessions_across_symbols():
    """Two symbols x 8 sessions, symbol-major rows; 4 blocks of 2 sessions; embargo 0.5 of a
    2-session block = 1 session gap. Split 1 tests sessions 4-5 and trains on sessions 0-2."""
    sessions = pd.bdate_range("2024-03-01", periods=8)
    times = pd.Series(list(sessions) * 2)  # rows 0-7 symbol A, rows 8-15 symbol B
    splits = as_lists(
        PurgedEmbargoedWalkForwardSplit(n_splits=3, embargo=0.5).split(np.zeros(16), times=times)
    )
    assert splits[1] == ([0, 1, 2, 8, 9, 10], [4, 5, 12, 13])


@settings(max_examples=150, deadline=None)
@given(
    n_rows=st.integers(2, 200),
    n_splits=st.integers(1, 10),
    embargo=st.floats(0.0, 1.5, allow_nan=False),
)
def test_training_always_precedes_the_gap_and_tests_tile_the_tail(n_rows, n_splits, embargo):
    cv = PurgedEmbargoedWalkForwardSplit(n_splits=n_splits, embargo=embargo)
    try:
        splits = list(cv.split(np.zeros(n_rows)))
    except ValueError:
        return  # too few rows or the gap consumed the training window
    assert len(splits) == n_splits
    previous_stop = None
    for train, test in splits:
        assert np.array_equal(test, np.arange(test[0], test[-1] + 1))
        assert np.array_equal(train, np.arange(train.size))
        assert train[-1] + 1 + cv.gap_size(test.size) == test[0]
        if previous_stop is not None:
            assert test[0] == previous_stop
        previous_stop = test[-1] + 1
    assert previous_stop == n_rows
    first_test = splits[0][1][0]
    assert first_test == n_rows - sum(test.size for _, test in splits)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_splits": 0}, "n_splits must be at least 1"),
        ({"n_splits": 2.0}, "n_splits must be an integer"),
        ({"embargo": -0.1}, "embargo must be a finite, non-negative"),
        ({"embargo": float("nan")}, "embargo must be a finite, non-negative"),
    ],
)
def test_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PurgedEmbargoedWalkForwardSplit(**kwargs)


def test_rejects_fewer_rows_than_blocks():
    with pytest.raises(ValueError, match="need at least 6 rows"):
        list(PurgedEmbargoedWalkForwardSplit(n_splits=5).split(np.zeros(5)))


def test_rejects_an_embargo_that_leaves_no_training_data():
    with pytest.raises(ValueError, match="removes all 3 training units"):
        list(PurgedEmbargoedWalkForwardSplit(n_splits=3, embargo=1.0).split(np.zeros(12)))
