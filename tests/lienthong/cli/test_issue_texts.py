"""Every issue code a clerk can meet has a Vietnamese text: the clean stage's, and the code-list ones `normalize`
adds (`ethnicity_unmapped` had none in its summary)."""

from __future__ import annotations

import re
from pathlib import Path

from lienthong.normalize import issue_text
from lienthong.stages.clean import ISSUES

DOC = Path(__file__).parents[3] / "docs" / "cleaning.md"


def test_every_documented_and_registered_issue_code_has_a_vietnamese_text() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    assert {"ethnicity_unmapped", "sex_unmapped", "religion_unmapped", "ward_code_unknown"} <= documented
    for code in documented | set(ISSUES):
        text = issue_text(code)
        assert text != code and not text.isascii(), code  # a sentence in Vietnamese, not the code again
