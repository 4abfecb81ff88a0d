"""Indicator base classes and parameter validation.

``Indicator`` is the public contract (spec 000): ``calculate(df) -> DataFrame`` returning the
indicator's columns aligned on ``df``'s index. ``BarIndicator`` implements ``calculate`` for
indicators written against :class:`~trademl.features.indicators.panel.BarBlock`, i.e. 2-D
``(symbols x bars)`` arrays, so the same code serves one symbol and a multi-symbol panel without
ever mixing symbols.
"""

from __future__ import annotations

import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trademl.features.indicators.panel import DEFAULT_BLOCK_CELLS, BarBlock, BarPanel


class Indicator(ABC):
    """A technical indicator: named, versioned, parameterised, computed from a bar frame.

    Subclasses set ``name`` (registry key) and ``version`` (bumped whenever outputs change) and take
    their parameters as keyword arguments of ``__init__``.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    # How every output scales when all prices are multiplied by c and volumes by k: by
    # c**price_degree * k**volume_degree (SMA: 1, 0; RSI: 0, 0; OBV: 0, 1; Amihud: -1, -1). It lets
    # values computed on prices adjusted as of a later date be re-anchored to the adjustment known at
    # each bar (point in time) without recomputing; None = not declared (such a set cannot be
    # re-anchored). tests/features/indicators/test_scale_degrees.py checks every declaration.
    price_degree: ClassVar[int | None] = None
    volume_degree: ClassVar[int] = 0

    @abstractmethod
    def calculate(self, df: pd.DataFrame) -> pd.DataFrame:
        """Compute the indicator on ``df`` (one symbol or a panel) -> frame of its columns on ``df.index``."""

    @property
    @abstractmethod
    def output_columns(self) -> tuple[str, ...]:
        """Names of the columns ``calculate`` returns, in order."""

    @classmethod
    def parameter_names(cls) -> list[str]:
        """Names of the keyword parameters ``__init__`` accepts (each stored as an attribute)."""
        if cls.__init__ is object.__init__:
            return []
        named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        signature = inspect.signature(cls.__init__)
        return [key for key, p in signature.parameters.items() if key != "self" and p.kind in named]

    @property
    def params(self) -> dict[str, Any]:
        """The keyword parameters this instance was built with (for lineage and repr)."""
        return {key: getattr(self, key) for key in self.parameter_names()}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Indicator:
        """Build an instance from a parameter mapping, rejecting unknown names with ValueError."""
        accepted = cls.parameter_names()
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise ValueError(
                f"indicator {cls.name!r} got unknown parameter(s) {unknown}; accepted: {accepted}"
            )
        return cls(**dict(params))

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({args})"


class BarIndicator(Indicator):
    """An indicator computed block by block on 2-D ``(symbols x bars)`` arrays.

    Subclasses declare ``inputs`` (bar columns they read) and implement ``compute(block)`` returning
    ``{output column: 2-D array}``, using only ``block`` data, so rows (symbols) never interact.
    """

    inputs: ClassVar[tuple[str, ...]] = ()

    def required_columns(self, panel: BarPanel) -> tuple[str, ...]:
        """Bar columns this instance reads from ``panel`` (override when it depends on what is present)."""
        return self.inputs

    def check_panel(self, panel: BarPanel) -> None:
        """Reject a panel this indicator cannot use (missing/invalid columns) with a ValueError."""
        panel.require(self.required_columns(panel), who=f"indicator {self.name!r}")

    @abstractmethod
    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        """Outputs on one block, each a float array of ``block.shape``, NaN during warm-up."""

    def calculate(self, df: pd.DataFrame) -> pd.DataFrame:
        """Compute on a single-symbol frame or a ``symbol`` panel; output aligned on ``df.index``."""
        return self.calculate_panel(BarPanel(df))

    def calculate_panel(self, panel: BarPanel, max_cells: int = DEFAULT_BLOCK_CELLS) -> pd.DataFrame:
        """Compute on an already validated :class:`BarPanel`."""
        self.check_panel(panel)
        columns = self.output_columns
        result = np.empty((len(columns), panel.n_rows))
        for block in panel.blocks(max_cells):
            values = self.compute_checked(block)
            for position, column in enumerate(columns):
                block.scatter(values[column], result[position])
        return pd.DataFrame(result.T, index=panel.index, columns=list(columns), copy=False)

    def compute_checked(self, block: BarBlock) -> dict[str, np.ndarray]:
        """``compute(block)``, rejecting a result that lacks a declared output column (ValueError)."""
        values = self.compute(block)
        missing = [column for column in self.output_columns if column not in values]
        if missing:
            raise ValueError(f"indicator {self.name!r} did not produce its declared column(s) {missing}")
        return values


def check_period(name: str, value: Any, minimum: int = 1) -> int:
    """Validate an integer window/period parameter (>= ``minimum``); ValueError names the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_number(name: str, value: Any, *, positive: bool = False) -> float:
    """Validate a finite real parameter (strictly positive when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)
