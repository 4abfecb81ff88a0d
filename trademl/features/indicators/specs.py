"""Indicator sets as data: ``IndicatorSpec`` / ``IndicatorSet`` pydantic models loaded from YAML.

A set lives in ``configs/indicator_sets/<name>.yml``::

    name: default
    version: 1
    description: every built-in indicator with its standard parameters
    indicators:
      - {name: rsi, version: 1, params: {period: 14}}
      - {name: macd, params: {fast: 12, slow: 26, signal: 9}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from trademl.config import config_dir
from trademl.features.indicators.base import Indicator
from trademl.features.indicators.registry import IndicatorRegistry, default_registry

INDICATOR_SETS_SUBDIR = "indicator_sets"


def indicator_sets_dir() -> Path:
    """Directory of the indicator-set YAML files: ``<config dir>/indicator_sets``.

    The config dir is :func:`trademl.config.config_dir` ($TRADEML_CONFIG_DIR or the repo's configs/).
    """
    return config_dir() / INDICATOR_SETS_SUBDIR


class IndicatorSpec(BaseModel):
    """One indicator of a set: registry ``name``, expected implementation ``version``, ``params``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)

    def build(self, registry: IndicatorRegistry | None = None) -> Indicator:
        """Instantiate the indicator; ValueError when its version differs or a parameter is invalid."""
        indicator_class = (registry or default_registry()).get(self.name)
        if indicator_class.version != self.version:
            raise ValueError(
                f"indicator {self.name!r}: the set asks for version {self.version} but version "
                f"{indicator_class.version} is implemented"
            )
        try:
            return indicator_class.from_params(self.params)
        except TypeError as exc:
            raise ValueError(f"indicator {self.name!r}: invalid params {self.params}: {exc}") from exc


class IndicatorSet(BaseModel):
    """A named, versioned list of indicator specs (a feature recipe)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: int = Field(ge=1)
    description: str = ""
    indicators: list[IndicatorSpec] = Field(min_length=1)

    def build(self, registry: IndicatorRegistry | None = None) -> list[Indicator]:
        """Instantiate every indicator; ValueError if two of them would write the same output column."""
        built = [spec.build(registry) for spec in self.indicators]
        owners: dict[str, str] = {}
        for indicator in built:
            for column in indicator.output_columns:
                if column in owners:
                    raise ValueError(
                        f"indicator set {self.name!r}: output column {column!r} is produced by both "
                        f"{owners[column]} and {indicator!r}"
                    )
                owners[column] = repr(indicator)
        return built

    def output_columns(self, registry: IndicatorRegistry | None = None) -> list[str]:
        """Every output column of the set, in set order."""
        return [column for indicator in self.build(registry) for column in indicator.output_columns]

    @classmethod
    def from_yaml(cls, path: str | Path) -> IndicatorSet:
        """Parse and validate a YAML file (pydantic ValidationError, a ValueError, on bad content)."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: indicator set is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: an indicator set must be a YAML mapping, got {type(data).__name__}")
        return cls.model_validate(data)


def load_indicator_set(
    name_or_path: str | Path,
    *,
    directory: str | Path | None = None,
    registry: IndicatorRegistry | None = None,
) -> IndicatorSet:
    """Load a set by file path or by name from ``directory`` (default :func:`indicator_sets_dir`).

    The set is checked against the registry (names, versions, params, unique output columns) so a
    broken recipe fails at load time rather than mid-computation.
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yml", ".yaml") or candidate.is_file():
        path = candidate
    else:
        path = Path(directory) if directory is not None else indicator_sets_dir()
        path = path / f"{name_or_path}.yml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yml")) if path.parent.is_dir() else []
        raise FileNotFoundError(f"indicator set file not found: {path} (sets in that directory: {known})")
    indicator_set = IndicatorSet.from_yaml(path)
    indicator_set.build(registry)
    return indicator_set
