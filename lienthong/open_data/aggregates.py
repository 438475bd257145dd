"""The open tables: which aggregates of which published dataset leave the hub (``counting`` computes them).

Every table is a cube (``disclosure.Cube``): counts, and sums where the dataset has money, by a few dimensions,
with every marginal total. Tables of one *family* (one dataset, one filter) share marginals and are protected as
one system. Nulls become the category ``unknown`` so that every table of a family adds up to the same totals.
What may be a dimension is decided by the contract's privacy classes and enforced by ``guard``: sensitive
attributes (ethnicity, religion) only with the province or nationally, never with a ward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.model import CodeList
from lienthong.open_data.disclosure import Cube, Key

UNKNOWN, TOTAL = "unknown", "total"
AGE_BANDS = ((0, 17, "under-18"), (18, 30, "18-30"), (31, 45, "31-45"), (46, 60, "46-60"), (61, 75, "61-75"),
             (76, 200, "76-plus"))
KINH = "01"


@dataclass(frozen=True)
class Dim:
    """A dimension of open tables: the contract field(s) it comes from and the code list that labels it."""

    name: str
    fields: tuple[str, ...]  # contract fields read to compute it (checked by ``guard``)
    label_vi: str
    label_en: str
    code_list: str | None = None  # labels come from this list; else from ``labels``
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)


DIMS: dict[str, Dim] = {d.name: d for d in (
    Dim("province", ("province_code",), "Tỉnh/thành phố", "Province", "provinces"),
    Dim("ward", ("ward_code",), "Xã/phường", "Ward", "wards"),
    Dim("organisation", ("organisation",), "Tổ chức", "Organisation", "organisations"),
    Dim("sex", ("sex",), "Giới tính", "Sex", "sexes"),
    Dim("age_band", ("date_of_birth",), "Nhóm tuổi", "Age band",
        labels={b: (f"Nhóm tuổi {b}", f"Aged {b}") for *_, b in AGE_BANDS}),
    Dim("ethnic_group", ("ethnicity_code",), "Nhóm dân tộc", "Ethnic group",
        labels={"kinh": ("Dân tộc Kinh", "Kinh"), "minority": ("Dân tộc thiểu số", "Ethnic minorities")}),
    Dim("ethnicity", ("ethnicity_code",), "Dân tộc", "Ethnicity", "ethnic_groups"),
    Dim("religion", ("religion_code",), "Tôn giáo", "Religion", "religions"),
    Dim("category", ("category",), "Lĩnh vực", "Category", "feedback_categories"),
    Dim("month", ("received_at",), "Tháng", "Month"),
    Dim("satisfaction", ("satisfaction",), "Mức độ hài lòng", "Satisfaction",
        labels={str(i): (f"Mức {i}/5", f"{i} of 5") for i in range(1, 6)}),
    Dim("campaign", ("campaign",), "Đợt vận động", "Campaign", "relief_campaigns"),
)}


@dataclass(frozen=True)
class OpenTable:
    """One open table: what it counts, by what, and how to describe it to a portal."""

    name: str
    dataset: str
    dims: tuple[str, ...]
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    parents: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, str] = field(default_factory=dict)  # contract field -> required value (relief role)
    count: str = "count"  # name of the count column
    sums: Mapping[str, str] = field(default_factory=dict)  # output column -> contract field summed
    feedback_measures: bool = False  # resolved, resolution_rate, median_days_to_resolve

    @property
    def family(self) -> str:
        return self.dataset + "".join(f"|{k}={v}" for k, v in sorted(self.where.items()))

    @property
    def cube(self) -> Cube:
        return Cube(self.dims, dict(self.parents))

    @property
    def fields_read(self) -> set[str]:
        extra = {"status", "received_at", "resolved_at"} if self.feedback_measures else set()
        return {f for d in self.dims for f in DIMS[d].fields} | set(self.where) | set(self.sums.values()) | extra


def _t(name, dataset, dims, vi, en, dvi, den, **kw) -> OpenTable:  # noqa: ANN001 - a compact table literal
    return OpenTable(name, dataset, dims, vi, en, dvi, den, **kw)


_M = "Số hội viên, đoàn viên"
_FB = "Số phản ánh, kiến nghị, tỷ lệ đã giải quyết và số ngày giải quyết trung vị"
_FB_EN = "Feedback received, share resolved and median days to resolve"
_DON = {"role": "donor"}
_SUP = {"role": "beneficiary"}
_MONEY = {"amount_vnd": "amount_vnd"}

OPEN_TABLES: tuple[OpenTable, ...] = (
    _t("members_by_province_organisation", "members", ("province", "organisation"),
       "Hội viên theo tỉnh và tổ chức", "Members by province and organisation",
       f"{_M} theo tỉnh/thành phố và tổ chức thành viên.", "Members by province and member organisation.",
       count="members"),
    _t("members_by_ward", "members", ("province", "ward"), "Hội viên theo xã/phường", "Members by ward",
       f"{_M} theo xã/phường (đơn vị hành chính 2025).", "Members by commune-level unit (2025 units).",
       parents={"ward": "province"}, count="members"),
    _t("members_by_province_sex", "members", ("province", "sex"), "Hội viên theo tỉnh và giới tính",
       "Members by province and sex", f"{_M} theo tỉnh/thành phố và giới tính.", "Members by province and sex.",
       count="members"),
    _t("members_by_province_age_band", "members", ("province", "age_band"), "Hội viên theo tỉnh và nhóm tuổi",
       "Members by province and age band", f"{_M} theo tỉnh/thành phố và nhóm tuổi.",
       "Members by province and age band (age at the date of the release).", count="members"),
    _t("members_by_province_ethnic_group", "members", ("province", "ethnic_group"),
       "Hội viên theo tỉnh và nhóm dân tộc", "Members by province and ethnic group",
       f"{_M} theo tỉnh/thành phố, dân tộc Kinh và dân tộc thiểu số (dữ liệu nhạy cảm: chỉ số tổng hợp).",
       "Members by province, Kinh and ethnic minorities (sensitive data: aggregates only).", count="members"),
    _t("members_by_ethnicity", "members", ("ethnic_group", "ethnicity"), "Hội viên theo dân tộc",
       "Members by ethnicity", f"{_M} theo từng dân tộc, toàn quốc.", "Members by ethnic group, nationwide.",
       parents={"ethnicity": "ethnic_group"}, count="members"),
    _t("members_by_religion", "members", ("religion",), "Hội viên theo tôn giáo", "Members by religion",
       f"{_M} theo tôn giáo, toàn quốc.", "Members by religion, nationwide.", count="members"),
    _t("feedback_by_province_category", "feedback", ("province", "category"),
       "Phản ánh theo tỉnh và lĩnh vực", "Feedback by province and category", f"{_FB}, theo tỉnh và lĩnh vực.",
       f"{_FB_EN}, by province and category.", count="feedback", feedback_measures=True),
    _t("feedback_by_month_category", "feedback", ("month", "category"), "Phản ánh theo tháng và lĩnh vực",
       "Feedback by month and category", f"{_FB}, theo tháng tiếp nhận và lĩnh vực.",
       f"{_FB_EN}, by month received and category.", count="feedback", feedback_measures=True),
    _t("feedback_satisfaction", "feedback", ("category", "satisfaction"), "Mức độ hài lòng",
       "Satisfaction", "Phân bố mức độ hài lòng của người phản ánh theo lĩnh vực.",
       "Distribution of citizens' satisfaction (1-5) by category.", count="feedback"),
    _t("relief_donations_by_campaign_province", "relief", ("campaign", "province"),
       "Tiền ủng hộ theo đợt vận động và tỉnh", "Donations by campaign and province",
       "Số lượt và số tiền ủng hộ tiếp nhận theo đợt vận động và tỉnh/thành phố.",
       "Donations received (count and VND) by campaign and province.", where=_DON, count="donations",
       sums=_MONEY),
    _t("relief_donations_by_campaign_organisation", "relief", ("campaign", "organisation"),
       "Tiền ủng hộ theo đợt vận động và tổ chức", "Donations by campaign and organisation",
       "Số lượt và số tiền ủng hộ theo đợt vận động và tổ chức tiếp nhận.",
       "Donations received (count and VND) by campaign and receiving organisation.", where=_DON,
       count="donations", sums=_MONEY),
    _t("relief_support_by_campaign_province", "relief", ("campaign", "province"),
       "Hỗ trợ theo đợt vận động và tỉnh", "Support by campaign and province",
       "Số người được hỗ trợ và số tiền hỗ trợ theo đợt vận động và tỉnh/thành phố (không có tên).",
       "Beneficiaries (no names) and support paid (VND) by campaign and province.", where=_SUP,
       count="beneficiaries", sums=_MONEY),
    _t("relief_support_by_campaign_organisation", "relief", ("campaign", "organisation"),
       "Hỗ trợ theo đợt vận động và tổ chức", "Support by campaign and organisation",
       "Số người được hỗ trợ và số tiền hỗ trợ theo đợt vận động và tổ chức phân bổ (không có tên).",
       "Beneficiaries (no names) and support paid (VND) by campaign and distributing organisation.",
       where=_SUP, count="beneficiaries", sums=_MONEY),
)


@dataclass
class Computed:
    """An open table's values for every cell (all levels): the count, sums and feedback measures."""

    table: OpenTable
    counts: dict[Key, int]
    measures: dict[Key, dict[str, float | int | None]]


def labeller(code_lists: Mapping[str, CodeList]):  # noqa: ANN201 - returns a small closure
    """``label(dim, code) -> (label_vi, label_en)`` from the code lists and the dimensions' own labels."""
    tables = {name: {v.code: (v.label_vi, v.label_en or v.label_vi) for v in cl.values}
              for name, cl in code_lists.items()}

    def label(dim: str, code: str) -> tuple[str, str]:
        if code == TOTAL:
            return "Tổng cộng", "Total"
        if code == UNKNOWN:
            return "Chưa xác định", "Unknown"
        spec = DIMS[dim]
        found = tables.get(spec.code_list or "", {}).get(code) or spec.labels.get(code)
        return found or (code, code)

    return label
