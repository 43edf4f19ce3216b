"""The guide's complete runbooks validate as written, and its error example is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.language.catalog import load_catalog
from flows.language.validator import validate_text
from runbook_cli.main import app

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "runbook-language.md"
BLOCKS = [
    b
    for b in re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    if "(a sketch, not a complete runbook)" not in b
]


def test_the_guide_has_complete_runbooks() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("text", BLOCKS, ids=lambda b: b.split("runbook: ")[1].split()[0])
def test_every_complete_runbook_in_the_guide_validates(text: str) -> None:
    validate_text(text, "guide.yaml", load_catalog())


def test_the_guides_partition_error_is_what_plan_prints() -> None:
    result = CliRunner().invoke(
        app, ["plan", "aggregate-growth", "--param", "partition=2026-10-14"]
    )
    quoted = re.search(r"\n(error: param 'partition'.*)\n", GUIDE.read_text(encoding="utf-8"))
    assert quoted is not None and quoted[1] in result.output
