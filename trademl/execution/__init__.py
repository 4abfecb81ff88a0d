"""Execution (SSOT 4.7): transaction cost model and Almgren–Chriss scheduling."""

from trademl.execution.almgren_chriss import cost_variance, expected_cost, kappa, optimal_trajectory
from trademl.execution.cost import CostModel, estimate_costs

__all__ = ["CostModel", "cost_variance", "estimate_costs", "expected_cost", "kappa", "optimal_trajectory"]
