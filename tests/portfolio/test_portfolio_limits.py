"""Specification of the capping steps of the portfolio constructor (waterfill, enforce_limits)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.portfolio import enforce_limits, waterfill


def test_waterfill_caps_the_largest_and_shares_the_rest_in_proportion():
    np.testing.assert_allclose(waterfill(np.array([4.0, 1.0, 1.0]), 1.0, 0.5), [0.5, 0.25, 0.25])


def test_waterfill_without_a_binding_cap_is_proportional():
    np.testing.assert_allclose(waterfill(np.array([3.0, 1.0]), 0.4, 0.5), [0.3, 0.1])


def test_waterfill_with_the_budget_at_capacity_puts_every_name_at_the_cap():
    np.testing.assert_allclose(waterfill(np.array([5.0, 1.0, 0.1]), 0.15, 0.05), [0.05, 0.05, 0.05])


@settings(max_examples=25, deadline=None)
@given(
    strength=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=50),
    cap=st.sampled_from([0.01, 0.05, 0.2]),
    share=st.floats(0.0, 1.0),
)
def test_waterfill_sums_to_the_budget_under_the_cap_in_strength_order(strength, cap, share):
    s = np.asarray(strength)
    budget = share * cap * s.size
    w = waterfill(s, budget, cap)
    assert w.sum() == pytest.approx(budget, abs=1e-12)
    assert w.max() <= cap + 1e-15
    order = np.argsort(s, kind="stable")
    assert (np.diff(w[order]) >= -1e-15).all()


def test_enforce_limits_leaves_a_feasible_book_unchanged(cfg):
    book = np.array([0.05, 0.02, -0.03, -0.04])
    np.testing.assert_array_equal(enforce_limits(book, np.eye(4) * 1e-4, cfg), book)


def test_enforce_limits_clips_then_shrinks_the_larger_leg_to_the_smaller(cfg):
    book = np.array([0.30, 0.01, -0.02])
    # clip: (0.05, 0.01, -0.02); the long leg 0.06 is scaled to the short leg 0.02
    np.testing.assert_allclose(enforce_limits(book, np.eye(3) * 1e-6, cfg), [0.05 / 3, 0.01 / 3, -0.02])


def test_enforce_limits_scales_a_book_above_the_vol_target_down_to_it(cfg):
    cfg = dataclasses.replace(cfg, per_name_cap=0.5, max_short_weight=0.5)
    book = np.array([0.5, -0.5])
    cov = np.eye(2) * 0.02**2
    w = enforce_limits(book, cov, cfg)
    assert np.sqrt(252 * w @ cov @ w) == pytest.approx(cfg.vol_target)
    assert w[0] == pytest.approx(-w[1])
