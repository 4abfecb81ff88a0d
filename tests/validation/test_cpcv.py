"""CombinatorialPurgedKFold: folds on the session axis, exact purge/embargo, paths, skfolio agreement."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.validation.cpcv import CombinatorialPurgedKFold

# ---------------------------------------------------------------------------------------------
# Hand-built two-symbol panel: 16 sessions x {A, B}, rows date-major (row = 2 * day + symbol).
# Symbol A's label ends 1 session after its start, symbol B's 2 sessions after.
# CPCV(n_splits=4) puts sessions 0-3, 4-7, 8-11, 12-15 into folds 0..3.
# ---------------------------------------------------------------------------------------------
SESSIONS = pd.bdate_range("2024-01-02", periods=20, tz="UTC")
SYMBOLS = ("A", "B")
HORIZON = {"A": 1, "B": 2}


def two_symbol_panel() -> pd.DataFrame:
    rows = [
        {"symbol": s, "day": d, "time": SESSIONS[d], "t1": SESSIONS[d + HORIZON[s]]}
        for d in range(16)
        for s in SYMBOLS
    ]
    return pd.DataFrame(rows)


def rows_of(*cells: tuple[str, int]) -> list[int]:
    """Row numbers of (symbol, day) cells in the date-major panel."""
    return sorted(2 * day + SYMBOLS.index(symbol) for symbol, day in cells)


def all_of(days) -> list[tuple[str, int]]:
    return [(s, d) for d in days for s in SYMBOLS]


def splits_by_test_folds(cv: CombinatorialPurgedKFold, panel: pd.DataFrame) -> dict[tuple[int, ...], tuple]:
    out = {}
    for combo, (train, test) in zip(
        cv.test_fold_combinations, cv.split(panel, times=panel["time"], t1=panel["t1"]), strict=True
    ):
        out[tuple(int(f) for f in combo)] = (train.tolist(), test.tolist())
    return out


def test_test_folds_1_and_3_purge_overlapping_labels_of_both_symbols_and_embargo_one_session():
    """Test sessions 4-7 and 12-15. Hand computation:
    before fold 1: A@3 (t1=4), B@2 (t1=4), B@3 (t1=5) overlap session 4 -> purged; A@2 (t1=3) kept.
    fold 1 span ends at B@7's t1 = 9 -> sessions 8, 9 purged; embargo=1 -> session 10 dropped.
    before fold 3: A@11 (t1=12), B@11 (t1=13) overlap session 12 -> purged.
    Left for training: sessions 0, 1 (both symbols) and A@2.
    """
    panel = two_symbol_panel()
    train, test = splits_by_test_folds(CombinatorialPurgedKFold(4, 2, embargo=1), panel)[(1, 3)]
    assert train == rows_of(*all_of([0, 1]), ("A", 2))
    assert test == rows_of(*all_of([4, 5, 6, 7, 12, 13, 14, 15]))


def test_test_folds_0_and_2_leave_only_the_last_session_for_training():
    """Test sessions 0-3 and 8-11. Fold 0's span ends at B@3's t1 = 5 -> 4, 5 purged, 6 embargoed;
    A@7 (t1=8) and B@7 (t1=9) overlap session 8 -> purged; fold 2's span ends at B@11's t1 = 13 ->
    12, 13 purged, 14 embargoed. Only session 15 (both symbols) remains."""
    panel = two_symbol_panel()
    train, _ = splits_by_test_folds(CombinatorialPurgedKFold(4, 2, embargo=1), panel)[(0, 2)]
    assert train == rows_of(*all_of([15]))


def test_embargo_drops_exactly_the_sessions_after_each_test_span():
    """Test folds (1, 3): with embargo 0, A@10 (t1=11, overlapping nothing) trains; embargo 1 drops
    session 10 (B@10 is purged either way since its label reaches session 12)."""
    panel = two_symbol_panel()
    train_no_embargo, _ = splits_by_test_folds(CombinatorialPurgedKFold(4, 2, embargo=0), panel)[(1, 3)]
    train_embargo, _ = splits_by_test_folds(CombinatorialPurgedKFold(4, 2, embargo=1), panel)[(1, 3)]
    assert sorted(set(train_no_embargo) - set(train_embargo)) == rows_of(("A", 10))
    assert set(train_embargo) <= set(train_no_embargo)


def test_embargo_of_ten_sessions_after_the_first_test_block():
    """Test folds (0, 1) on 50 sessions x 1 symbol (5 folds of 10), labels ending on their own
    session: fold 1 ends at session 19, so embargo=10 drops sessions 20-29; training is 30-49."""
    times = pd.Series(pd.bdate_range("2023-01-02", periods=50))
    cv = CombinatorialPurgedKFold(5, 2, embargo=10)
    train, test = next(cv.split(np.zeros((50, 1)), times=times, t1=times))
    assert test.tolist() == list(range(20))
    assert train.tolist() == list(range(30, 50))


def test_a_split_emptied_by_the_embargo_fails_before_the_first_split_is_yielded():
    """4 folds of 10 sessions with embargo 10: test folds (0, 2) embargo folds 1 and 3 entirely."""
    times = pd.Series(pd.bdate_range("2023-01-02", periods=40))
    splits = CombinatorialPurgedKFold(4, 2, embargo=10).split(np.zeros((40, 1)), times=times, t1=times)
    with pytest.raises(ValueError, match=r"split 1 \(test folds \(0, 2\)\) has no training samples"):
        next(splits)


def test_all_symbols_of_a_session_share_a_fold_in_an_unbalanced_panel():
    """Folds are cut over the 10 unique sessions (5 per fold), even though B trades only 4 of them."""
    days = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] + [1, 2, 7, 8]
    times = pd.Series([SESSIONS[d] for d in days])
    folds = CombinatorialPurgedKFold(2, 1, embargo=0).fold_ids(times)
    assert folds.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1] + [0, 0, 1, 1]


def test_split_count_is_n_choose_k_and_path_count_is_n_choose_k_times_k_over_n():
    cv = CombinatorialPurgedKFold(8, 2, embargo=10)
    assert cv.get_n_splits() == math.comb(8, 2) == 28
    assert cv.n_paths == 28 * 2 // 8 == 7
    assert CombinatorialPurgedKFold(6, 3, embargo=0).n_paths == 10
    times = pd.Series(np.arange(200.0))
    assert len(list(cv.split(np.zeros(200), times=times, t1=times))) == 28


def test_row_order_does_not_change_which_samples_are_in_train_and_test():
    """Shuffling the rows (e.g. symbol-major storage) permutes the indices and nothing else."""
    panel = two_symbol_panel()
    perm = np.random.default_rng(7).permutation(len(panel))
    shuffled = panel.iloc[perm].reset_index(drop=True)
    cv = CombinatorialPurgedKFold(4, 2, embargo=1)
    for (tr, te), (tr_s, te_s) in zip(
        cv.split(panel, times=panel["time"], t1=panel["t1"]),
        cv.split(shuffled, times=shuffled["time"], t1=shuffled["t1"]),
        strict=True,
    ):
        assert sorted(perm[tr_s]) == tr.tolist()
        assert sorted(perm[te_s]) == te.tolist()


def test_backtest_paths_place_every_sample_once_per_path_in_split_order():
    """Predicting each sample's own row number must rebuild 0..n-1 in every path column; path p
    of fold j comes from the p-th split (in combination order) that tests fold j."""
    panel = two_symbol_panel()
    cv = CombinatorialPurgedKFold(4, 2, embargo=1)
    splits = list(cv.split(panel, times=panel["time"], t1=panel["t1"]))
    paths = cv.backtest_paths([test.astype(float) for _, test in splits], times=panel["time"])
    assert paths.shape == (32, 3)
    np.testing.assert_array_equal(paths, np.repeat(np.arange(32.0)[:, None], 3, axis=1))
    # Which split feeds each (fold, path): fold 0 is tested by splits (0,1),(0,2),(0,3) = 0, 1, 2.
    split_no = cv.backtest_paths(
        [np.full(t.size, float(s)) for s, (_, t) in enumerate(splits)], times=panel["time"]
    )
    fold_of_row = cv.fold_ids(panel["time"])
    assert split_no[fold_of_row == 0].max(axis=0).tolist() == [0.0, 1.0, 2.0]
    assert split_no[fold_of_row == 3].max(axis=0).tolist() == [2.0, 4.0, 5.0]


# ---------------------------------------------------------------------------------------------
# Agreement with skfolio's CombinatorialPurgedCV where the semantics coincide.
# skfolio (model_selection/_combinatorial.py) cuts n_samples rows into folds of n // n_folds rows
# (last fold takes the rest), drops `purged_size` rows before each contiguous test block and
# `purged_size + embargo_size` rows after it. With one sample per timestamp, n divisible by the
# fold count and labels ending `h` rows later, our purge removes h rows before and h after each
# test block and the embargo e more after it: skfolio's purged_size=h, embargo_size=e.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_folds", "n_test", "horizon", "embargo"), [(8, 2, 2, 3), (6, 3, 1, 0), (5, 2, 0, 2)]
)
def test_matches_skfolio_combinatorial_purged_cv_on_a_single_symbol(n_folds, n_test, horizon, embargo):
    from skfolio.model_selection import CombinatorialPurgedCV

    n = 12 * n_folds
    times = pd.Series(np.arange(n, dtype=float))
    t1 = times + horizon
    ours = CombinatorialPurgedKFold(n_folds, n_test, embargo=embargo)
    theirs = CombinatorialPurgedCV(
        n_folds=n_folds, n_test_folds=n_test, purged_size=horizon, embargo_size=embargo
    )
    X = np.zeros((n, 1))
    pairs = list(zip(ours.split(X, times=times, t1=t1), theirs.split(X), strict=True))
    assert len(pairs) == theirs.n_splits
    for (train, test), (sk_train, sk_tests) in pairs:
        np.testing.assert_array_equal(train, sk_train)
        np.testing.assert_array_equal(test, np.sort(np.concatenate(sk_tests)))
    assert ours.n_paths == theirs.n_test_paths
    np.testing.assert_array_equal(ours.path_ids(), theirs.get_path_ids())


# ---------------------------------------------------------------------------------------------
# Property tests against a definition-by-definition reference (plain loops over samples).
# ---------------------------------------------------------------------------------------------
def reference_cpcv(times, t1, n_splits, n_test, embargo):
    """Literal reading of the contract: folds over sorted unique times (array_split sizes); a
    training sample is purged if [time, t1] intersects [fold start, max t1 in fold]; embargoed if
    its time is among the `embargo` unique times after that span's end. None = empty training."""
    unique = sorted(set(times))
    fold_of_time = {}
    for fold, chunk in enumerate(np.array_split(np.arange(len(unique)), n_splits)):
        for u in chunk:
            fold_of_time[unique[u]] = fold
    out = []
    for combo in itertools.combinations(range(n_splits), n_test):
        test = [i for i in range(len(times)) if fold_of_time[times[i]] in combo]
        spans = []
        for fold in combo:
            members = [i for i in range(len(times)) if fold_of_time[times[i]] == fold]
            start = min(times[i] for i in members)
            end = max(t1[i] for i in members)
            embargoed = [u for u in unique if u > end][:embargo]
            spans.append((start, end, set(embargoed)))
        train = [
            i
            for i in range(len(times))
            if i not in test
            and not any(times[i] <= end and t1[i] >= start for start, end, _ in spans)
            and not any(times[i] in emb for _, _, emb in spans)
        ]
        out.append((train, test))
    return out


@st.composite
def panels(draw):
    n_days = draw(st.integers(4, 30))
    n_symbols = draw(st.integers(1, 4))
    present = draw(st.lists(st.booleans(), min_size=n_days * n_symbols, max_size=n_days * n_symbols))
    cells = [(d, s) for d in range(n_days) for s in range(n_symbols) if present[d * n_symbols + s]]
    if len({d for d, _ in cells}) < 2:
        cells = [(0, 0), (n_days - 1, 0)]
    horizons = draw(st.lists(st.integers(0, 4), min_size=len(cells), max_size=len(cells)))
    order = draw(st.permutations(range(len(cells))))
    times = [float(cells[i][0]) for i in order]
    t1 = [float(cells[i][0] + horizons[i]) for i in order]
    n_unique = len(set(times))
    n_splits = draw(st.integers(2, min(6, n_unique)))
    n_test = draw(st.integers(1, n_splits - 1))
    embargo = draw(st.integers(0, 3))
    return times, t1, n_splits, n_test, embargo


@settings(max_examples=150, deadline=None)
@given(panels())
def test_splits_equal_the_definition_by_definition_reference(case):
    times, t1, n_splits, n_test, embargo = case
    expected = reference_cpcv(times, t1, n_splits, n_test, embargo)
    cv = CombinatorialPurgedKFold(n_splits, n_test, embargo=embargo)
    X = np.zeros((len(times), 1))
    if any(not train for train, _ in expected):
        with pytest.raises(ValueError, match="no training samples"):
            list(cv.split(X, times=pd.Series(times), t1=pd.Series(t1)))
        return
    got = list(cv.split(X, times=pd.Series(times), t1=pd.Series(t1)))
    assert [(tr.tolist(), te.tolist()) for tr, te in got] == expected


@settings(max_examples=100, deadline=None)
@given(panels())
def test_train_and_test_are_disjoint_and_each_sample_is_tested_n_paths_times(case):
    times, t1, n_splits, n_test, embargo = case
    cv = CombinatorialPurgedKFold(n_splits, n_test, embargo=embargo)
    X = np.zeros((len(times), 1))
    try:
        splits = list(cv.split(X, times=pd.Series(times), t1=pd.Series(t1)))
    except ValueError:
        return  # purge/embargo emptied a training set; covered by the reference test
    tested = np.zeros(len(times), dtype=int)
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        tested[test] += 1
        test_times = {times[i] for i in test}
        assert not any(times[i] in test_times for i in train)  # no shared session either
    assert (tested == cv.n_paths).all()
    paths = cv.backtest_paths([test.astype(float) for _, test in splits], times=pd.Series(times))
    np.testing.assert_array_equal(
        paths, np.repeat(np.arange(len(times), dtype=float)[:, None], cv.n_paths, axis=1)
    )


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_splits": 1}, "n_splits must be at least 2"),
        ({"n_splits": 4, "n_test_splits": 4}, "n_test_splits must be in"),
        ({"n_test_splits": 0}, "n_test_splits must be in"),
        ({"embargo": -1}, "embargo must be a non-negative"),
        ({"embargo": 2.5}, "embargo must be an integer"),
    ],
)
def test_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CombinatorialPurgedKFold(**kwargs)


def test_rejects_label_end_before_sample_start():
    times = pd.Series(np.arange(10.0))
    t1 = times.copy()
    t1.iloc[3] = 1.0
    with pytest.raises(ValueError, match="t1 ends before its sample starts"):
        list(CombinatorialPurgedKFold(2, 1, embargo=0).split(np.zeros(10), times=times, t1=t1))


def test_rejects_missing_timestamps():
    times = pd.Series(pd.bdate_range("2024-01-01", periods=10))
    times.iloc[2] = pd.NaT
    with pytest.raises(ValueError, match="times contains missing values"):
        list(CombinatorialPurgedKFold(2, 1, embargo=0).split(np.zeros(10), times=times, t1=times))


def test_rejects_times_and_t1_of_different_lengths_than_x():
    times = pd.Series(np.arange(10.0))
    with pytest.raises(ValueError, match="times has 10 entries but X has 9 samples"):
        list(CombinatorialPurgedKFold(2, 1, embargo=0).split(np.zeros(9), times=times, t1=times))


def test_rejects_mixing_tz_aware_times_with_naive_label_ends():
    times = pd.Series(pd.bdate_range("2024-01-01", periods=10, tz="UTC"))
    with pytest.raises(ValueError, match="same kind of timestamp"):
        list(
            CombinatorialPurgedKFold(2, 1, embargo=0).split(
                np.zeros(10), times=times, t1=times.dt.tz_localize(None)
            )
        )


def test_rejects_times_not_aligned_with_the_index_of_x():
    frame = pd.DataFrame({"f": np.arange(10.0)}, index=np.arange(10, 20))
    times = pd.Series(np.arange(10.0))
    with pytest.raises(ValueError, match="not aligned with X"):
        list(CombinatorialPurgedKFold(2, 1, embargo=0).split(frame, times=times, t1=times))


def test_rejects_fewer_unique_sessions_than_folds():
    times = pd.Series([0.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="need at least 3 unique timestamps"):
        list(CombinatorialPurgedKFold(3, 1, embargo=0).split(np.zeros(4), times=times, t1=times))


def test_rejects_prediction_arrays_that_do_not_match_the_test_sets():
    times = pd.Series(np.arange(12.0))
    cv = CombinatorialPurgedKFold(3, 1, embargo=0)
    with pytest.raises(ValueError, match="expected 3 prediction arrays"):
        cv.backtest_paths([np.zeros(4)] * 2, times=times)
    with pytest.raises(ValueError, match=r"test_predictions\[1\] must be 1-D with 4 entries"):
        cv.backtest_paths([np.zeros(4), np.zeros(5), np.zeros(4)], times=times)
