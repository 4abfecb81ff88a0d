"""SessionPartitionSettings: configs/partitions.yml sessions typed once, with errors naming file and field."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl_assets.partitions import SessionPartitionSettings


def test_the_shipped_sessions_parse():
    doc = yaml.safe_load((REPO_ROOT / "configs" / "partitions.yml").read_text())["sessions"]
    assert SessionPartitionSettings.from_config(doc) == SessionPartitionSettings(start=doc["start"], end_offset=doc["end_offset"])


def test_end_offset_defaults_to_one():
    assert SessionPartitionSettings.from_config({"start": "2010-01-04"}).end_offset == 1


def test_a_missing_start_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/partitions.yml sessions.start is missing$"):
        SessionPartitionSettings.from_config({"end_offset": 1})


def test_a_malformed_start_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/partitions.yml sessions.start: expected a YYYY-MM-DD date, got 'Jan 2010'$"):
        SessionPartitionSettings.from_config({"start": "Jan 2010"})
