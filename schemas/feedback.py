"""Contract of ``feedback``: phản ánh, kiến nghị received through the 24/7 channels."""

from __future__ import annotations

from datetime import datetime

from schemas.base import Contract, FieldKind, MatchRole, Privacy, spec

K, P, M = FieldKind, Privacy, MatchRole


class Feedback(Contract):
    dataset = "feedback"
    title_vi = "Phản ánh, kiến nghị"
    title_en = "Citizen feedback"
    description_vi = "Phản ánh, kiến nghị của nhân dân tiếp nhận qua các kênh 24/7 và kết quả giải quyết."
    description_en = "Citizens' feedback and petitions received through the 24/7 channels, and how they ended."
    key = ("feedback_id",)

    feedback_id: str = spec(
        K.TEXT, required=True, match_role=M.SOURCE_KEY, max_length=64,
        label_vi="Mã phản ánh", description="The feedback's id in the receiving system.",
    )
    received_at: datetime = spec(
        K.DATETIME, required=True, label_vi="Thời điểm tiếp nhận", description="When it was received.",
    )
    channel: str = spec(
        K.CODE, code_list="feedback_channels", required=True,
        label_vi="Kênh tiếp nhận", description="Channel it came through.",
    )
    category: str = spec(
        K.CODE, code_list="feedback_categories", required=True,
        label_vi="Lĩnh vực", description="Subject category.",
    )
    province_code: str | None = spec(
        K.CODE, code_list="provinces", derived=True,
        label_vi="Tỉnh/thành phố", description="Province of the 2025 units, derived from ward_code.",
    )
    ward_code: str | None = spec(
        K.CODE, code_list="wards", privacy=P.QUASI_IDENTIFIER, match_role=M.WARD,
        label_vi="Xã/phường", description="Commune-level unit the feedback concerns.",
    )
    status: str = spec(
        K.CODE, code_list="feedback_statuses", required=True,
        label_vi="Tình trạng xử lý", description="Handling status.",
    )
    resolved_at: datetime | None = spec(
        K.DATETIME, label_vi="Thời điểm giải quyết xong", description="When it was resolved, if it was.",
    )
    satisfaction: int | None = spec(
        K.INTEGER, minimum=1, maximum=5,
        label_vi="Mức độ hài lòng", description="Citizen's satisfaction, 1 (very unhappy) to 5 (very satisfied).",
    )
    issues: str | None = spec(
        K.TEXT, derived=True, label_vi="Ghi chú làm sạch",
        description="Codes of what cleaning changed or flagged in the record (';'-separated), e.g. name_reversed.",
    )
