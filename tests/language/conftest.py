"""Fixtures of the language tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], str]:
    """Copy a fixture file into the test's folder and work there (SQLMesh's
    `copy_to_temp_path`), so messages name the file as a user typed it; returns that name."""

    def copy(source: Path) -> str:
        shutil.copy(source, tmp_path / source.name)
        monkeypatch.chdir(tmp_path)
        return source.name

    return copy
