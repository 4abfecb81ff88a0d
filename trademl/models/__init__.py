"""Models: training, validation and the registry of the sleeves' models (SSOT 4, 6).

Public API so far: the data gate a training run must pass (`trademl.models.readiness`):
`TrainingGate`, `Dependency`, `training_gate`, `check_readiness`, `Readiness`.
"""

from trademl.models.readiness import Dependency, Readiness, Shortfall, TrainingGate, check_readiness, training_gate

__all__ = ["Dependency", "Readiness", "Shortfall", "TrainingGate", "check_readiness", "training_gate"]
