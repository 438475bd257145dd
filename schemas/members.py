"""Contract of ``members``: hội viên / đoàn viên of a member organisation of the Front."""

from __future__ import annotations

from datetime import date

from schemas.base import Contract, FieldKind, MatchRole, Privacy, spec

K, P, M = FieldKind, Privacy, MatchRole


class Member(Contract):
    dataset = "members"
    title_vi = "Hội viên, đoàn viên"
    title_en = "Members"
    description_vi = "Hội viên, đoàn viên của các tổ chức thành viên Mặt trận Tổ quốc Việt Nam."
    description_en = "Members of the member organisations of the Vietnam Fatherland Front."
    key = ("member_id",)

    member_id: str = spec(
        K.TEXT, required=True, match_role=M.SOURCE_KEY, max_length=64,
        label_vi="Mã hội viên", description="The member's id in the organisation's own registry.",
    )
    # The parts of a name are the name: together they give it back whole (issue 12), so each is a direct identifier.
    full_name: str = spec(
        K.NAME, required=True, privacy=P.DIRECT_IDENTIFIER, match_role=M.FULL_NAME, max_length=120,
        label_vi="Họ và tên", description="Full name, family name first.",
    )
    family_name: str | None = spec(
        K.NAME, derived=True, privacy=P.DIRECT_IDENTIFIER, match_role=M.FAMILY_NAME,
        label_vi="Họ", description="Family name, derived from full_name.",
    )
    middle_name: str | None = spec(
        K.NAME, derived=True, privacy=P.DIRECT_IDENTIFIER, match_role=M.MIDDLE_NAME,
        label_vi="Tên đệm", description="Middle name(s), derived from full_name.",
    )
    given_name: str | None = spec(
        K.NAME, derived=True, privacy=P.DIRECT_IDENTIFIER, match_role=M.GIVEN_NAME,
        label_vi="Tên", description="Given name, derived from full_name.",
    )
    sex: str | None = spec(
        K.CODE, code_list="sexes", privacy=P.QUASI_IDENTIFIER, match_role=M.SEX,
        label_vi="Giới tính", description="Sex, as a code of the shared list.",
    )
    date_of_birth: date | None = spec(
        K.DATE, privacy=P.QUASI_IDENTIFIER, match_role=M.DATE_OF_BIRTH, minimum=1900,
        label_vi="Ngày sinh", description="Date of birth (empty when only the year or month is known).",
    )
    birth_year: int | None = spec(
        K.INTEGER, derived=True, privacy=P.QUASI_IDENTIFIER, minimum=1900,
        label_vi="Năm sinh", description="Year of birth, from date_of_birth; also when only the year was given.",
    )
    id_number: str | None = spec(
        K.ID_NUMBER, privacy=P.DIRECT_IDENTIFIER, match_role=M.ID_NUMBER, pattern=r"^(\d{9}|\d{12})$",
        label_vi="Số CCCD/CMND", description="12-digit citizen identity card (CCCD) or legacy 9-digit CMND.",
    )
    phone: str | None = spec(
        K.PHONE, privacy=P.DIRECT_IDENTIFIER, match_role=M.PHONE, pattern=r"^0\d{9,10}$",
        label_vi="Số điện thoại", description="Phone number in national form, starting with 0.",
    )
    ethnicity_code: str | None = spec(
        K.CODE, code_list="ethnic_groups", privacy=P.SENSITIVE,
        label_vi="Dân tộc", description="Ethnic group, code of Decision 1019/QĐ-TCTK.",
    )
    religion_code: str | None = spec(
        K.CODE, code_list="religions", privacy=P.SENSITIVE,
        label_vi="Tôn giáo", description="Religion, code of the shared list (00 = none).",
    )
    province_code: str | None = spec(
        K.CODE, code_list="provinces", derived=True, privacy=P.PUBLIC,
        label_vi="Tỉnh/thành phố", description="Province of the 2025 units, derived from ward_code.",
    )
    ward_code: str | None = spec(
        K.CODE, code_list="wards", privacy=P.QUASI_IDENTIFIER, match_role=M.WARD,
        label_vi="Xã/phường", description="Commune-level unit of the 2025 units (5-digit code).",
    )
    address: str | None = spec(
        K.TEXT, privacy=P.DIRECT_IDENTIFIER, match_role=M.ADDRESS, max_length=300,
        label_vi="Địa chỉ", description="Street address as written by the source.",
    )
    organisation: str = spec(
        K.CODE, code_list="organisations", required=True, match_role=M.ORGANISATION,
        label_vi="Tổ chức", description="Member organisation holding the membership.",
    )
    branch: str | None = spec(
        K.TEXT, max_length=200, label_vi="Chi hội/chi đoàn", description="Branch within the organisation.",
    )
    joined_on: date | None = spec(
        K.DATE, minimum=1930, label_vi="Ngày vào hội", description="Date the membership started.",
    )
    status: str | None = spec(
        K.CODE, code_list="member_statuses", label_vi="Trạng thái", description="Membership status.",
    )
    issues: str | None = spec(
        K.TEXT, derived=True, label_vi="Ghi chú làm sạch",
        description="Codes of what cleaning changed or flagged in the record (';'-separated), e.g. name_reversed.",
    )
