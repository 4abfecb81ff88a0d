"""ONNX export of the LightGBM model: the runtime graph predicts what the booster predicts."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from models_market import random_frame, small_config

from trademl.models.equities_xs import train
from trademl.models.onnx_export import onnx_parity, onnx_predict, to_onnx


@pytest.fixture(scope="module")
def fitted():
    frame = random_frame(n_sessions=60, n_symbols=30, seed=11)
    cfg = small_config(lightgbm={**small_config().lightgbm, "num_boost_round": 200, "num_leaves": 31})
    return train(frame, cfg, asof=frame["date"].max()), frame


def test_the_export_is_a_valid_onnx_model_with_one_input_of_the_feature_width(fitted):
    model, _ = fitted
    graph = onnx.load_from_string(to_onnx(model))
    onnx.checker.check_model(graph)
    (inp,) = graph.graph.input
    assert inp.name == "features"
    assert inp.type.tensor_type.shape.dim[1].dim_value == len(model.feature_list)


def test_onnx_predictions_match_the_booster_within_1e_5_relative(fitted):
    model, frame = fitted
    parity = onnx_parity(model, to_onnx(model), frame)
    assert parity < 1e-5


def test_onnx_predict_reads_rows_in_feature_list_order(fitted):
    model, frame = fitted
    onnx_bytes = to_onnx(model)
    X = frame[model.feature_list].to_numpy()
    straight = onnx_predict(onnx_bytes, X)
    np.testing.assert_allclose(straight, model.predict(frame), rtol=1e-4, atol=1e-9)
    shuffled = onnx_predict(onnx_bytes, X[:, ::-1])
    assert not np.allclose(shuffled, straight)
