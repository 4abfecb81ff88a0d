"""Compute a whole indicator set on a bar panel in one pass over cache-sized blocks of symbols."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.features.indicators.base import BarIndicator, Indicator
from trademl.features.indicators.panel import DEFAULT_BLOCK_CELLS, BarPanel
from trademl.features.indicators.registry import IndicatorRegistry
from trademl.features.indicators.specs import IndicatorSet


def compute_indicator_set(
    panel: pd.DataFrame,
    indicator_set: IndicatorSet | list[Indicator],
    *,
    registry: IndicatorRegistry | None = None,
    max_block_cells: int = DEFAULT_BLOCK_CELLS,
) -> pd.DataFrame:
    """Every output column of ``indicator_set`` on ``panel`` (one symbol or a long ``symbol`` panel).

    Returns a frame on ``panel.index`` with the set's columns in set order (join it to the panel with
    ``panel.join(result)``). The panel is validated once; each block of whole symbols is computed for
    all indicators while it is in cache, so intermediates such as true range are shared. Values for
    one symbol never depend on another symbol's rows, and a value at bar t uses bars <= t only.
    """
    if isinstance(indicator_set, IndicatorSet):
        indicators = indicator_set.build(registry)
    else:
        indicators = list(indicator_set)
        _check_unique_columns(indicators)
    if not indicators:
        raise ValueError("indicator set is empty")
    bars = BarPanel(panel)
    block_indicators = [ind for ind in indicators if isinstance(ind, BarIndicator)]
    for indicator in block_indicators:
        indicator.check_panel(bars)

    columns = [column for indicator in indicators for column in indicator.output_columns]
    result = np.empty((len(columns), bars.n_rows))
    position = {column: i for i, column in enumerate(columns)}
    for block in bars.blocks(max_block_cells):
        for indicator in block_indicators:
            values = indicator.compute_checked(block)
            for column in indicator.output_columns:
                block.scatter(values[column], result[position[column]])
    for indicator in indicators:
        if not isinstance(indicator, BarIndicator):
            frame = indicator.calculate(panel)
            for column in indicator.output_columns:
                result[position[column]] = frame[column].to_numpy(dtype=np.float64)
    return pd.DataFrame(result.T, index=panel.index, columns=columns, copy=False)


def _check_unique_columns(indicators: list[Indicator]) -> None:
    seen: set[str] = set()
    for indicator in indicators:
        for column in indicator.output_columns:
            if column in seen:
                raise ValueError(f"output column {column!r} is produced by more than one indicator")
            seen.add(column)
