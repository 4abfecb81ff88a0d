"""`sanitize_out_path`: every output path a command accepts stays inside the data root (spec 000)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trademl.config import sanitize_out_path


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_root = tmp_path / "data_layer"
    data_root.mkdir()
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(data_root))
    return data_root.resolve()


def test_no_candidate_gives_the_default_path_and_creates_its_parent(root):
    out = sanitize_out_path(None, root / "reports" / "daily.json")
    assert out == root / "reports" / "daily.json"
    assert out.parent.is_dir() and not out.exists()


def test_relative_candidate_resolves_against_the_data_root(root):
    assert sanitize_out_path("exports/x.parquet", root / "default.json") == root / "exports" / "x.parquet"


def test_dot_dot_escaping_the_root_is_refused_naming_the_root(root):
    with pytest.raises(ValueError, match=f"outside the data root {root}"):
        sanitize_out_path("../x", root / "default.json")
    assert not (root.parent / "x").exists()


def test_dot_dot_that_stays_inside_the_root_is_accepted(root):
    assert sanitize_out_path("a/../b/out.json", root / "d.json") == root / "b" / "out.json"


def test_absolute_path_outside_the_root_is_refused(root, tmp_path):
    with pytest.raises(ValueError, match="outside the data root"):
        sanitize_out_path(str(tmp_path / "elsewhere" / "out.json"), root / "d.json")
    assert not (tmp_path / "elsewhere").exists()


def test_symlink_inside_the_root_pointing_out_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside the data root"):
        sanitize_out_path("link/out.json", root / "d.json")


def test_outside_path_is_accepted_when_explicitly_allowed(root, tmp_path):
    target = tmp_path / "elsewhere" / "out.json"
    assert sanitize_out_path(str(target), root / "d.json", allow_outside=True) == target.resolve()
    assert target.parent.is_dir()


def test_default_path_outside_the_root_is_refused_too(root, tmp_path):
    with pytest.raises(ValueError, match="outside the data root"):
        sanitize_out_path(None, tmp_path / "out.json")
