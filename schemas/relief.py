"""Contract of ``relief``: cứu trợ — donations received and support distributed in relief campaigns."""

from __future__ import annotations

from datetime import date

from schemas.base import Contract, FieldKind, MatchRole, Privacy, spec

K, P, M = FieldKind, Privacy, MatchRole


class Relief(Contract):
    dataset = "relief"
    title_vi = "Cứu trợ"
    title_en = "Relief"
    description_vi = "Tiền ủng hộ tiếp nhận và hỗ trợ phân bổ trong các đợt vận động cứu trợ."
    description_en = "Donations received and support distributed in relief campaigns."
    key = ("record_id",)

    record_id: str = spec(
        K.TEXT, required=True, match_role=M.SOURCE_KEY, max_length=64,
        label_vi="Mã giao dịch", description="The transaction's id in the source.",
    )
    campaign: str = spec(
        K.CODE, code_list="relief_campaigns", required=True,
        label_vi="Đợt vận động", description="Relief campaign.",
    )
    role: str = spec(
        K.CODE, code_list="relief_roles", required=True,
        label_vi="Loại", description="Donation received (donor) or support given (beneficiary).",
    )
    party_name: str | None = spec(
        K.NAME, privacy=P.DIRECT_IDENTIFIER, match_role=M.FULL_NAME, max_length=200,
        label_vi="Tên người/đơn vị", description="Name of the donor or beneficiary.",
    )
    id_number: str | None = spec(
        K.ID_NUMBER, privacy=P.DIRECT_IDENTIFIER, match_role=M.ID_NUMBER, pattern=r"^(\d{9}|\d{12})$",
        label_vi="Số CCCD/CMND", description="Beneficiary's identity number, when recorded.",
    )
    organisation: str = spec(
        K.CODE, code_list="organisations", required=True, match_role=M.ORGANISATION,
        label_vi="Tổ chức", description="Organisation that received or distributed the money.",
    )
    province_code: str | None = spec(
        K.CODE, code_list="provinces", derived=True,
        label_vi="Tỉnh/thành phố", description="Province of the 2025 units, derived from ward_code.",
    )
    ward_code: str | None = spec(
        K.CODE, code_list="wards", privacy=P.QUASI_IDENTIFIER, match_role=M.WARD,
        label_vi="Xã/phường", description="Commune-level unit of the donor or beneficiary.",
    )
    amount_vnd: int = spec(
        K.MONEY, required=True, minimum=1, label_vi="Số tiền (đồng)", description="Amount in whole VND.",
    )
    transaction_date: date = spec(
        K.DATE, required=True, minimum=2000, label_vi="Ngày", description="Date of the donation or support.",
    )
    issues: str | None = spec(
        K.TEXT, derived=True, label_vi="Ghi chú làm sạch",
        description="Codes of what cleaning changed or flagged in the record (';'-separated), e.g. name_reversed.",
    )
