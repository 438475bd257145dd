"""docs/cleaning.md lists every issue code the clean stage can write."""

from __future__ import annotations

from pathlib import Path

from lienthong.stages.clean import ISSUES

DOC = Path(__file__).parents[2] / "docs" / "cleaning.md"


def test_every_issue_code_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [code for code in ISSUES if f"`{code}`" not in text] == []
