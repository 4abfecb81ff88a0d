"""Scoring with the champion: only the version aliased `champion` ever writes models/<model>_scores.

The champion's artifacts are fetched from the registry once per version into a local cache (the
data root's mlflow/cache/<model>/v<version>), loaded, and applied to each session's features. A
session before the champion's as-of is refused by `score_session` (its training labels may reach
past that session), so a score is always out of sample.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trademl import calendar
from trademl.config import settings
from trademl.data.lake import Lake
from trademl.models import registry
from trademl.models.dataset import scoring_frame
from trademl.models.equities_xs import TrainedModel, load_model, score_session
from trademl.models.settings import training_config


class NoChampion(LookupError):
    """The model has no champion yet: nothing may be scored (one line, says how to get one)."""


@dataclass(frozen=True)
class ChampionScores:
    """The scores written for a session range and the champion version that produced them."""

    version: str
    asof: dt.date
    frame: pd.DataFrame  # date, symbol, score, model_version
    sessions_without_features: tuple[dt.date, ...]


def cache_dir() -> Path:
    """Where downloaded model versions are kept (under the data root)."""
    return settings().data_root / "mlflow" / "cache"


def champion_artifacts(model: str, *, cache: Path | None = None) -> tuple[str, Path]:
    """The champion's version and the local copy of its artifact directory (downloaded once per version)."""
    ref = registry.champion(model)
    if ref is None:
        raise NoChampion(f"{model} has no champion yet: train it (`trademl train {model}`) and promote a challenger")
    folder = (cache or cache_dir()) / model / f"v{ref.version}"
    local = folder / registry.MODEL_ARTIFACT_PATH
    if not (local / "model.txt").exists():
        local = registry.download_version(model, ref.version, folder)
    return ref.version, local


def champion_model(model: str, *, cache: Path | None = None) -> tuple[str, TrainedModel]:
    """The champion's version and its loaded model."""
    version, local = champion_artifacts(model, cache=cache)
    return version, load_model(local)


def champion_scores(model: str, first: dt.date | str, last: dt.date | str, *, lake: Lake, cache: Path | None = None) -> ChampionScores:
    """The champion's scores of every session of [first, last] that has features (`date, symbol,
    score, model_version`); sessions without a features partition are listed, not guessed."""
    version, trained = champion_model(model, cache=cache)
    cfg = training_config(model)
    frames, missing = [], []
    for day in (d.date() for d in calendar.sessions(first, last)):  # one features partition per session
        features = scoring_frame(lake, day, cfg)
        if features.empty:
            missing.append(day)
            continue
        frames.append(score_session(trained, features))
    columns = ["date", "symbol", "score", "model_version"]
    frame = pd.concat(frames, ignore_index=True).assign(model_version=version)[columns] if frames else pd.DataFrame(columns=columns)
    return ChampionScores(version, trained.asof, frame, tuple(missing))
