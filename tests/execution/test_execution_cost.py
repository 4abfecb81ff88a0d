"""Specification of the fee + spread + square-root impact cost model (trademl.execution.cost)."""

from __future__ import annotations

import numpy as np
import pytest

from trademl.execution.cost import CostModel, estimate_costs


def test_hand_computed_order_cost_breakdown():
    # 10,000 shares of a 50 $ stock, ADV 1,000,000, 2 % daily vol, 2 cent effective spread,
    # 0.5 cent/share + 1 bp fee, Y = 0.5:
    # fee 0.005 + 0.0001*50 = 0.010; half spread 0.010; impact 0.5*0.02*sqrt(0.01)*50 = 0.050
    out = estimate_costs(10_000, 50.0, 1_000_000, 0.02, 0.02, fee_per_share=0.005, fee_bps=1.0, impact_coef=0.5)
    row = out.iloc[0]
    assert row["fee"] == pytest.approx(0.010)
    assert row["spread"] == pytest.approx(0.010)
    assert row["impact"] == pytest.approx(0.050)
    assert row["total"] == pytest.approx(0.070)
    assert row["fee_bps"] == pytest.approx(2.0)
    assert row["spread_bps"] == pytest.approx(2.0)
    assert row["impact_bps"] == pytest.approx(10.0)
    assert row["total_bps"] == pytest.approx(14.0)
    assert row["cost"] == pytest.approx(700.0)


def test_second_hand_computed_case_without_fees():
    # 250,000 shares, 20 $ stock, ADV 4,000,000, 1.5 % vol, Y = 1: impact = 0.015 * 0.25 * 20 = 0.075
    out = estimate_costs(250_000, 20.0, 4_000_000, 0.015, 0.0)
    assert out.loc[0, "impact"] == pytest.approx(0.075)
    assert out.loc[0, "total_bps"] == pytest.approx(37.5)
    assert out.loc[0, "cost"] == pytest.approx(18_750.0)


def test_sell_orders_cost_the_same_as_buys():
    out = estimate_costs([5_000, -5_000], 30.0, 2e6, 0.02, 0.01, fee_per_share=0.001)
    assert out.loc[0].equals(out.loc[1])


def test_impact_per_share_grows_with_square_root_of_size():
    out = estimate_costs([1_000, 4_000, 16_000], 10.0, 1e6, 0.03, 0.0)
    np.testing.assert_allclose(out["impact"].to_numpy()[1:] / out["impact"].to_numpy()[:-1], [2.0, 2.0])


def test_zero_quantity_costs_nothing():
    out = estimate_costs(0, 10.0, 1e6, 0.03, 0.02, fee_per_share=0.01)
    assert out.loc[0, "impact"] == 0.0
    assert out.loc[0, "cost"] == 0.0


def test_vectorised_over_orders_with_scalar_parameters_broadcast():
    qty = np.array([100.0, 1_000.0, 10_000.0])
    price = np.array([10.0, 20.0, 40.0])
    out = estimate_costs(qty, price, 1e5, 0.02, 0.01)
    expected_impact = 0.02 * np.sqrt(qty / 1e5) * price
    np.testing.assert_allclose(out["impact"], expected_impact)
    np.testing.assert_allclose(out["spread"], 0.005)
    assert len(out) == 3


def test_cost_model_object_delegates_with_its_parameters():
    model = CostModel(fee_per_share=0.005, fee_bps=1.0, impact_coef=0.5)
    direct = estimate_costs(10_000, 50.0, 1e6, 0.02, 0.02, fee_per_share=0.005, fee_bps=1.0, impact_coef=0.5)
    assert model.estimate(10_000, 50.0, 1e6, 0.02, 0.02).equals(direct)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"price": [10.0, 20.0]}, "price has 2 values for 3 orders"),
        ({"price": -1.0}, "price must be positive"),
        ({"adv": 0.0}, "adv must be positive"),
        ({"sigma_daily": -0.01}, "sigma_daily"),
        ({"effective_spread": -0.01}, "effective_spread"),
        ({"qty": [1.0, np.nan, 3.0]}, "NaN"),
    ],
)
def test_estimate_costs_rejects_bad_inputs(kwargs, match):
    args = {"qty": [1.0, 2.0, 3.0], "price": 10.0, "adv": 1e6, "sigma_daily": 0.02, "effective_spread": 0.01}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        estimate_costs(**args)


def test_cost_model_rejects_negative_parameters():
    with pytest.raises(ValueError, match="impact_coef"):
        CostModel(impact_coef=-1.0)
    with pytest.raises(ValueError, match="fee_bps"):
        estimate_costs(1.0, 10.0, 1e6, 0.02, 0.01, fee_bps=-2.0)
