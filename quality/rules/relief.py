"""Rules of ``relief`` beyond the contract: an amount is a plausible sum of money.

The contract already requires at least 1 đồng. A single transaction of 100 billion đồng or more is far beyond
any donation or support payment a campaign records one at a time, so it is most likely a typing error (extra
zeros, a bank reference pasted into the amount); it is quarantined for a person to confirm rather than
published into the campaign totals.
"""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from catalog.model import CodeList
from quality.messages import RuleText, literal
from schemas.relief import Relief

LIMIT_VND = 100_000_000_000


def expectations(code_lists: Mapping[str, CodeList]) -> list[Expectation]:
    """``amount_vnd`` below :data:`LIMIT_VND` (100 billion đồng)."""
    amount = literal(Relief.field("amount_vnd").label_vi)
    below_limit = RuleText(
        rule="amount_below_limit",
        columns=("amount_vnd",),
        message_vi=(
            f"{amount} {{value}} từ 100 tỷ đồng trở lên, có thể đã nhập thừa chữ số 0. "
            "Hãy kiểm tra lại số tiền với chứng từ."
        ),
        message_en="amount_vnd {value} is not below 100 billion VND",
        description_vi=f"{amount} dưới 100 tỷ đồng",
        description_en="amount_vnd is below 100 billion VND",
    )
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="amount_vnd", max_value=LIMIT_VND, strict_max=True, meta=below_limit.to_meta()
        )
    ]
