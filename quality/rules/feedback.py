"""Rules of ``feedback`` beyond the contract: resolved after received, and a resolved case says when."""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.row_conditions import Column

from catalog.model import CodeList
from quality.messages import RuleText, literal
from schemas.feedback import Feedback

# The status meaning "resolved" is looked up in the shared list (by code, English label or alias) rather than
# hard-coded, so the rule follows the catalog; this is the fallback while the list is not loaded.
RESOLVED = "resolved"


def resolved_code(code_lists: Mapping[str, CodeList]) -> str:
    """The code of the "resolved" status in ``feedback_statuses``."""
    statuses = code_lists.get("feedback_statuses")
    if statuses is None:
        return RESOLVED
    return statuses.lookup(RESOLVED) or statuses.lookup("Đã giải quyết") or RESOLVED


def expectations(code_lists: Mapping[str, CodeList]) -> list[Expectation]:
    """``resolved_at`` not before ``received_at``; ``resolved_at`` present when the status is "resolved"."""
    received = literal(Feedback.field("received_at").label_vi)
    resolved = literal(Feedback.field("resolved_at").label_vi)
    status = literal(Feedback.field("status").label_vi)
    code = resolved_code(code_lists)
    statuses = code_lists.get("feedback_statuses")
    status_label = literal((statuses.label(code) if statuses else None) or code)

    resolved_after_received = RuleText(
        rule="resolved_after_received",
        columns=("resolved_at", "received_at"),
        message_vi=(
            f"{resolved} ({{resolved_at}}) sớm hơn {received} ({{received_at}}). "
            "Hãy kiểm tra lại ngày giờ tiếp nhận và ngày giờ giải quyết."
        ),
        message_en="resolved_at ({resolved_at}) is before received_at ({received_at})",
        description_vi=f"{resolved} không sớm hơn {received}",
        description_en="resolved_at is not before received_at",
    )
    resolved_has_time = RuleText(
        rule="resolved_requires_time",
        columns=("resolved_at", "status"),
        message_vi=(
            f"{status} là «{status_label}» nhưng thiếu {resolved}. "
            f"Hãy bổ sung {resolved}, hoặc sửa lại {status} nếu việc chưa giải quyết xong."
        ),
        message_en=f"status is {literal(code)!r} but resolved_at is missing",
        description_vi=f"Phản ánh có {status} «{status_label}» phải có {resolved}",
        description_en=f"resolved_at is present when status is {literal(code)!r}",
    )
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="resolved_at",
            column_B="received_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=resolved_after_received.to_meta(),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="resolved_at",
            row_condition=Column("status") == code,
            meta=resolved_has_time.to_meta(),
        ),
    ]
