"""ONNX export of a trained LightGBM model and its parity with the native booster.

The ONNX graph (onnxmltools' LightGBM converter, float input of shape [n, n_features] in
`feature_list` order) is what a runtime without LightGBM serves; `onnx_parity` measures how far its
predictions are from the booster's (ONNX tree ensembles compute in float32; the graph has one
ensemble node per tree, whose float32 sum is closer to the booster's double sum than one ensemble's
internal float32 accumulation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trademl.models.equities_xs import TrainedModel

INPUT_NAME = "features"


def to_onnx(model: TrainedModel) -> bytes:
    """The serialized ONNX model of `model.booster` (input `features`: float32 [None, n_features])."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    onx = onnxmltools.convert_lightgbm(
        model.booster,
        initial_types=[(INPUT_NAME, FloatTensorType([None, len(model.feature_list)]))],
        target_opset=15,
        split=1,  # one TreeEnsemble node per tree, summed: 5-10x closer to the booster than one float32 ensemble
    )
    return onx.SerializeToString()


def onnx_predict(onnx_bytes: bytes, X: Any) -> np.ndarray:
    """Predictions of the ONNX model for the rows of `X` (array or DataFrame in feature order), float64."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    values = np.asarray(X, dtype=np.float32)
    out = session.run(None, {session.get_inputs()[0].name: values})[0]
    return np.asarray(out, dtype=np.float64).reshape(-1)


def onnx_parity(model: TrainedModel, onnx_bytes: bytes, X: Any) -> float:
    """Max relative difference ``|onnx - native| / max(|native|, 1e-12)`` over the rows of `X`.

    `X` is a DataFrame holding the model's features (or an array in `feature_list` order). The
    native side predicts from the same float32-rounded inputs the ONNX graph sees, so the number
    measures the runtime's arithmetic, not the input cast.
    """
    frame_like = hasattr(X, "columns")
    values = (X[model.feature_list].to_numpy(dtype=np.float64) if frame_like else np.asarray(X, dtype=np.float64))
    rounded = values.astype(np.float32).astype(np.float64)
    native = np.asarray(model.booster.predict(rounded), dtype=np.float64)
    ort_pred = onnx_predict(onnx_bytes, rounded)
    return float(np.max(np.abs(ort_pred - native) / np.maximum(np.abs(native), 1e-12)))
