"""Models: training, validation and the registry of the sleeves' models (SSOT 4, 6).

Public API so far: the data gate a training run must pass (`trademl.models.readiness`):
`TrainingGate`, `Dependency`, `training_gate`, `check_readiness`, `Readiness`; when a model is due
(`trademl.models.train_schedule`): `next_training`, `TrainingCall`.
"""

from trademl.models.readiness import Dependency, Readiness, Shortfall, TrainingGate, check_readiness, training_gate
from trademl.models.train_schedule import TrainingCall, next_training

__all__ = [
    "Dependency", "Readiness", "Shortfall", "TrainingCall", "TrainingGate", "check_readiness", "next_training",
    "training_gate",
]
