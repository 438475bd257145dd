"""Rules of ``members`` beyond the contract.

The contract already keeps dates of birth between 1900 and today and joining dates between 1930 and today.
What it cannot say is that a membership starts after the member was born. A minimum age at joining is
deliberately not checked: the member organisations' age rules differ and change, and one threshold for all of
them would quarantine valid rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from catalog.model import CodeList
from quality.messages import RuleText, literal
from schemas.members import Member


def expectations(code_lists: Mapping[str, CodeList]) -> list[Expectation]:
    """``joined_on`` is after ``date_of_birth`` (rows missing either date are not checked)."""
    joined = literal(Member.field("joined_on").label_vi)
    born = literal(Member.field("date_of_birth").label_vi)
    joined_after_birth = RuleText(
        rule="joined_after_birth",
        columns=("joined_on", "date_of_birth"),
        message_vi=(
            f"{joined} ({{joined_on}}) phải sau {born} ({{date_of_birth}}). "
            "Hãy kiểm tra lại hai ngày này, có thể đã nhập nhầm ngày, tháng hoặc năm."
        ),
        message_en="joined_on ({joined_on}) is not after date_of_birth ({date_of_birth})",
        description_vi=f"{joined} sau {born}",
        description_en="joined_on is after date_of_birth",
    )
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="joined_on",
            column_B="date_of_birth",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
            meta=joined_after_birth.to_meta(),
        )
    ]
