"""Model cards: the JSON holds metrics, data window, data hash, git SHA, features and lineage; the
Markdown renders exactly that JSON."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd

from trademl.models.cards import data_hash, git_sha, model_card, write_model_card

LINEAGE = {
    "features/equities_xs": {"2024-06-27": "aa11", "2024-06-28": "bb22"},
    "labels/equities_xs": {"2024-06-27": "cc33"},
}


def card(**overrides):
    base = dict(
        model_id="equities_xs",
        event="train",
        asof=dt.date(2024, 6, 28),
        window={"first": dt.date(2021, 6, 28), "last": dt.date(2024, 6, 28), "rows": 1000},
        features=["feat_mom_5", "feat_rv_20"],
        params={"num_leaves": 7},
        metrics={"oos_sharpe_net": 1.5, "pbo": 0.01},
        lineage=LINEAGE,
        git_commit="0123abcd",
    )
    base.update(overrides)
    return model_card(**base)


def test_the_card_holds_every_field_of_the_spec():
    c = card()
    assert c["model_id"] == "equities_xs" and c["event"] == "train" and c["asof"] == "2024-06-28"
    assert c["data_window"] == {"first": "2021-06-28", "last": "2024-06-28", "rows": 1000}
    assert c["metrics"] == {"oos_sharpe_net": 1.5, "pbo": 0.01}
    assert c["features"] == ["feat_mom_5", "feat_rv_20"]
    assert c["lineage"] == LINEAGE
    assert c["git_sha"] == "0123abcd"
    assert c["params"] == {"num_leaves": 7}


def test_the_data_hash_is_the_hash_of_the_lineage_and_changes_with_any_partition_version():
    revised = {**LINEAGE, "labels/equities_xs": {"2024-06-27": "dd44"}}
    assert card()["data_hash"] == data_hash(lineage=LINEAGE)
    assert card(lineage=revised)["data_hash"] != card()["data_hash"]


def test_without_lineage_the_data_hash_follows_the_frame_content():
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert data_hash(frame=frame) == data_hash(frame=frame.copy())
    assert data_hash(frame=frame) != data_hash(frame=frame.assign(x=[1.0, 2.5]))


def test_git_sha_is_the_checkouts_full_commit():
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", git_sha())


def test_written_json_round_trips_and_the_markdown_shows_its_values(tmp_path):
    json_path, md_path = write_model_card(card(), tmp_path)
    stored = json.loads(json_path.read_text())
    assert stored == json.loads(json.dumps(card() | {"created_at": stored["created_at"]}))
    md = md_path.read_text()
    for text in ("equities_xs", stored["data_hash"], "0123abcd", "| oos_sharpe_net | 1.5 |", "`feat_rv_20`", "| 2024-06-28 | `bb22` |"):
        assert text in md


def test_the_markdown_renders_nothing_the_json_does_not_hold(tmp_path):
    json_path, md_path = write_model_card(card(notes=""), tmp_path)
    stored = json.loads(json_path.read_text())
    values = {str(v) for v in stored.values() if not isinstance(v, (dict, list))}
    values |= {str(v) for part in ("data_window", "params", "metrics") for v in stored[part].values()}
    values |= set(stored["features"]) | {h for parts in stored["lineage"].values() for h in parts.values()}
    for cell in re.findall(r"`([^`]+)`", md_path.read_text()):
        assert cell in values, cell
