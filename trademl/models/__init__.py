"""Models: training, validation and the registry of the sleeves' models (SSOT 4, 6).

The data gate a training run must pass (`trademl.models.readiness`): `TrainingGate`, `Dependency`,
`training_gate`, `check_readiness`, `Readiness`, and when a model is due
(`trademl.models.train_schedule`): `next_training`, `TrainingCall` (exported here). The training stack, imported from
its modules (they load LightGBM/ONNX, which the gate does not need):

- `trademl.models.settings`: `TrainingConfig`, `training_config` (configs/training/<model>.yml);
- `trademl.models.dataset`: `training_frame`, `scoring_frame`, `input_lineage` (point in time from the lake);
- `trademl.models.equities_xs`: `train`, `TrainedModel`, `time_decay_weights`, `score_session`,
  `save_model`, `load_model`;
- `trademl.models.onnx_export`: `to_onnx`, `onnx_predict`, `onnx_parity`;
- `trademl.models.cards`: `model_card`, `write_model_card`;
- `trademl.models.evaluation`: `run_cpcv`, `CpcvReport`, `write_artifacts`, `train_and_evaluate`
  (the strategy that turns OOS scores into net returns is injected: this layer may not import
  portfolio or backtest);
- `trademl.models.policy`, `registry` (MLflow), `promotion`: go/no-go bars, champion/challenger aliases,
  `promote_if_beat_champion`; `trademl.models.scoring`: the champion's scores.
"""

from trademl.models.readiness import Dependency, Readiness, Shortfall, TrainingGate, check_readiness, training_gate
from trademl.models.train_schedule import TrainingCall, next_training

__all__ = [
    "Dependency", "Readiness", "Shortfall", "TrainingCall", "TrainingGate", "check_readiness", "next_training",
    "training_gate",
]
