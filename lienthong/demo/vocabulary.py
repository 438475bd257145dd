"""What the demo generator draws from: names, places, code shares and wording, with their weights.

Kept apart from ``generator`` so that the numbers can be read and corrected without reading the numpy code.
Sources: /work/shared/VIETNAMESE_DATA.md (family-name shares, CCCD, phone prefixes, ethnic and religion
codes, province merges); the 2019 census for minority and religion shares (rounded, per region); the 2025 ward
list of the ``vietnam-provinces`` package. Shares are approximations good enough for realistic test data, not
statistics.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa

from catalog import get_code_list


def _nfc(values: list[str] | tuple[str, ...]) -> list[str]:
    return [unicodedata.normalize("NFC", v) for v in values]


def _zipf(n: int, s: float = 0.9) -> np.ndarray:
    return 1.0 / np.arange(1, n + 1) ** s


# --- geography ----------------------------------------------------------------------------------------------

REGIONS = ("delta_north", "north_mountain", "central", "highlands", "southeast", "mekong")

# 2025 province code: (population in thousands, rough 2024, region, share of ethnic minorities, pre-2025 codes
# merged into it).
PROVINCES: dict[int, tuple[int, str, float, tuple[int, ...]]] = {
    1: (8700, "delta_north", 0.01, (1,)),
    4: (550, "north_mountain", 0.95, (4,)),
    8: (1870, "north_mountain", 0.75, (8, 2)),
    11: (650, "north_mountain", 0.82, (11,)),
    12: (490, "north_mountain", 0.85, (12,)),
    14: (1300, "north_mountain", 0.83, (14,)),
    15: (1780, "north_mountain", 0.55, (10, 15)),
    19: (1800, "north_mountain", 0.35, (19, 6)),
    20: (800, "north_mountain", 0.83, (20,)),
    22: (1400, "delta_north", 0.13, (22,)),
    24: (3650, "delta_north", 0.07, (24, 27)),
    25: (4000, "delta_north", 0.30, (25, 17, 26)),
    31: (4700, "delta_north", 0.01, (31, 30)),
    33: (3600, "delta_north", 0.01, (33, 34)),
    37: (4400, "delta_north", 0.05, (37, 35, 36)),
    38: (3760, "central", 0.17, (38,)),
    40: (3440, "central", 0.14, (40,)),
    42: (1320, "central", 0.01, (42,)),
    44: (1900, "central", 0.05, (45, 44)),
    46: (1160, "central", 0.03, (46,)),
    48: (3070, "central", 0.05, (48, 49)),
    51: (2160, "highlands", 0.25, (51, 62)),
    52: (3580, "highlands", 0.25, (64, 52)),
    56: (2240, "central", 0.10, (56, 58)),
    66: (3350, "highlands", 0.25, (66, 54)),
    68: (3870, "highlands", 0.15, (68, 60, 67)),
    75: (4490, "southeast", 0.07, (75, 70)),
    79: (14000, "southeast", 0.05, (79, 74, 77)),
    80: (3250, "southeast", 0.03, (72, 80)),
    82: (4370, "mekong", 0.01, (87, 82)),
    86: (4260, "mekong", 0.12, (86, 83, 84)),
    91: (4950, "mekong", 0.12, (89, 91)),
    92: (4200, "mekong", 0.18, (92, 93, 94)),
    96: (2610, "mekong", 0.05, (96, 95)),
}


@dataclass(frozen=True)
class Geography:
    """The 2025 wards and provinces as numpy/pyarrow arrays the generator indexes into."""

    ward_codes: pa.Array  # 5-digit strings
    ward_names: pa.Array
    ward_province: np.ndarray  # index into province_codes
    ward_urban: np.ndarray  # phường
    ward_weights: np.ndarray  # chance that a person lives there
    province_codes: np.ndarray
    province_region: np.ndarray  # index into REGIONS
    province_minority: np.ndarray
    province_weights: np.ndarray
    old_codes_of: np.ndarray  # [province, k] pre-2025 codes merged into it
    old_count_of: np.ndarray
    old_codes: np.ndarray  # the 63 pre-2025 codes
    old_weights: np.ndarray
    wards_by_province: np.ndarray  # ward indexes grouped by province
    province_ward_start: np.ndarray
    province_ward_count: np.ndarray


@lru_cache(maxsize=1)
def geography() -> Geography:
    # The catalog's wards: vietnam-provinces with the official code corrections (docs/adr/0005).
    wards = sorted(get_code_list("wards").values, key=lambda w: int(w.code))
    codes = np.array(sorted(PROVINCES))
    index = {c: i for i, c in enumerate(codes)}
    ward_province = np.array([index[int(w.parent)] for w in wards])
    urban = np.array([w.label_vi.startswith("Phường ") for w in wards])
    population = np.array([PROVINCES[c][0] for c in codes], dtype=float)
    count = np.bincount(ward_province, minlength=codes.size)
    factor = np.where(urban, 1.6, 1.0)  # towns are denser than communes
    weights = population[ward_province] * factor / np.bincount(ward_province, weights=factor)[ward_province]
    old_of = np.zeros((codes.size, 3), dtype=np.int64)
    old_count = np.zeros(codes.size, dtype=np.int64)
    old_codes, old_weights = [], []
    for i, c in enumerate(codes):
        olds = PROVINCES[c][3]
        old_of[i, : len(olds)] = olds
        old_count[i] = len(olds)
        old_codes += olds
        old_weights += [population[i] / len(olds)] * len(olds)
    by_province = np.argsort(ward_province, kind="stable")
    return Geography(
        ward_codes=pa.array([w.code for w in wards]),
        ward_names=pa.array(_nfc([w.label_vi for w in wards])),
        ward_province=ward_province,
        ward_urban=urban,
        ward_weights=weights / weights.sum(),
        province_codes=codes,
        province_region=np.array([REGIONS.index(PROVINCES[c][1]) for c in codes]),
        province_minority=np.array([PROVINCES[c][2] for c in codes]),
        province_weights=population / population.sum(),
        old_codes_of=old_of,
        old_count_of=old_count,
        old_codes=np.array(old_codes),
        old_weights=np.array(old_weights) / sum(old_weights),
        wards_by_province=by_province,
        province_ward_start=np.concatenate([[0], np.cumsum(count)[:-1]]),
        province_ward_count=count,
    )


STREETS = pa.array(_nfc([
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Hùng Vương",
    "Nguyễn Huệ", "Lê Duẩn", "Phan Chu Trinh", "Điện Biên Phủ", "Trần Phú", "Nguyễn Du", "Hoàng Hoa Thám",
    "Võ Thị Sáu", "Cách Mạng Tháng Tám", "Bạch Đằng", "Ngô Quyền", "Lạc Long Quân", "Âu Cơ", "Nguyễn Văn Cừ",
    "Lê Hồng Phong", "Phạm Văn Đồng", "Võ Nguyên Giáp", "Tôn Đức Thắng", "Nguyễn Thị Minh Khai",
    "Lý Tự Trọng", "Phan Đình Phùng", "Trường Chinh", "Lê Thánh Tông", "Nguyễn Chí Thanh", "Thống Nhất",
    "Độc Lập", "Nguyễn Văn Linh", "Trần Quang Khải", "Hoàng Diệu", "Chu Văn An", "Kim Đồng",
    "Nguyễn Tất Thành", "Lê Lai",
]))
VILLAGES = pa.array(_nfc([  # names used all over the country; local names would not fit every region
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Đoài", "An Lạc", "Phú Mỹ", "Tân Lập", "Hòa Bình",
    "Thống Nhất", "Quyết Tiến", "Đồng Tâm", "Phú Xuân", "Hưng Long", "Bình An", "Long Thạnh", "Tân Phú",
    "Mỹ Hòa", "Phước Lộc", "Thanh Xuân", "Đại Đồng", "Yên Bình", "Tiền Phong", "Văn Hóa", "Cầu Đá",
    "Tân Thành", "Hòa Lạc", "Bến Đò", "Tân Hòa", "Phú Thọ", "Đồng Xuân", "An Thịnh", "Minh Khai",
]))
SETTLEMENTS = pa.array(_nfc(["Thôn", "Xóm", "Ấp", "Bản", "Buôn", "Làng", "Khóm", "Tổ dân phố"]))
# per region (REGIONS order): (offset into SETTLEMENTS, weights of the kinds from there)
SETTLEMENT_BY_REGION = [
    (0, [0.6, 0.4]),  # delta_north: Thôn, Xóm
    (0, [0.5, 0.0, 0.0, 0.5]),  # north_mountain: Thôn, Bản
    (0, [0.8, 0.2]),  # central
    (0, [0.5, 0.0, 0.0, 0.0, 0.3, 0.2]),  # highlands: Thôn, Buôn, Làng
    (2, [1.0]),  # southeast: Ấp
    (2, [0.85, 0.0, 0.0, 0.0, 0.15]),  # mekong: Ấp, Khóm
]


# --- people: ages, ethnic groups, religions -----------------------------------------------------------------

def age_weights(ages: np.ndarray) -> np.ndarray:
    """Relative number of people of each age (an approximate Vietnamese age pyramid, ages 16+)."""
    return np.interp(ages, [16, 55, 70, 80, 90, 100], [1.0, 1.0, 0.6, 0.3, 0.08, 0.01])


ETHNIC_NAMES = dict(enumerate(_nfc([
    "Kinh", "Tày", "Thái", "Mường", "Khơ-me", "Hoa", "Nùng", "Mông", "Dao", "Gia-rai", "Ê-đê", "Ba-na",
    "Sán Chay", "Chăm", "Cơ-ho", "Xơ-đăng", "Sán Dìu", "Hrê", "Ra-glai", "Mnông", "Thổ", "Xtiêng", "Khơ-mú",
    "Bru-Vân Kiều", "Cơ-tu", "Giáy", "Tà-ôi", "Mạ", "Giẻ-Triêng", "Co", "Chơ-ro", "Xinh-mun", "Hà Nhì",
    "Chu-ru", "Lào", "La Chí", "Kháng", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô",
    "Mảng", "Cơ Lao", "Bố Y", "Cống", "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
]), start=1))
"""Decision 1019/QĐ-TCTK codes (as ints) and names, as a spreadsheet writes them."""


def _codes(weights: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(list(weights)), np.array(list(weights.values()), dtype=float)


# Minority peoples (not Kinh) by region, weighted by the 2019 census.
ETHNIC_BY_REGION = {
    "delta_north": _codes({4: 50, 17: 20, 2: 10, 9: 10, 6: 5, 7: 5, 43: 0.5}),
    "north_mountain": _codes({
        2: 30, 3: 25, 8: 20, 7: 12, 9: 10, 13: 2, 26: 1, 23: 1, 33: 0.5, 35: 0.3, 36: 0.2, 38: 0.2, 45: 0.2,
        37: 0.2, 32: 0.3, 42: 0.1, 39: 0.1, 41: 0.1, 40: 0.1, 48: 0.05, 49: 0.05, 50: 0.02, 51: 0.02,
        46: 0.05, 47: 0.05,
    }),
    "central": _codes({
        3: 30, 4: 30, 21: 10, 23: 5, 24: 10, 25: 8, 27: 5, 44: 1, 19: 5, 14: 3, 8: 3, 54: 0.05,
    }),
    "highlands": _codes({
        10: 30, 11: 22, 12: 15, 16: 10, 15: 10, 18: 8, 20: 6, 19: 4, 29: 3, 34: 1.5, 28: 2, 30: 2, 2: 5,
        7: 5, 3: 2, 8: 2, 9: 1, 14: 2, 52: 0.05, 53: 0.05,
    }),
    "southeast": _codes({6: 50, 5: 15, 22: 10, 31: 8, 28: 3, 14: 3, 2: 3, 7: 3}),
    "mekong": _codes({5: 80, 6: 12, 14: 4}),
}
# Religion codes (Decision 1019 + the hub's 00 = none) by region.
RELIGION_BY_REGION = {
    "delta_north": _codes({0: 90, 1: 3, 2: 6.5, 8: 0.5}),
    "north_mountain": _codes({0: 92, 1: 2, 2: 2, 8: 4}),
    "central": _codes({0: 90, 1: 5, 2: 4.5, 8: 0.5}),
    "highlands": _codes({0: 78, 1: 5, 2: 9, 8: 8}),
    "southeast": _codes({0: 80, 1: 8, 2: 8.5, 5: 2.5, 8: 1.5, 3: 0.3, 4: 0.2, 9: 0.3, 14: 0.05}),
    "mekong": _codes({0: 80, 1: 6, 2: 3, 3: 6, 5: 3.5, 8: 0.5, 4: 0.3, 9: 0.3, 10: 0.1, 11: 0.1, 12: 0.05}),
}
RELIGION_BY_ETHNICITY = {5: _codes({1: 85, 0: 15}), 14: _codes({4: 50, 13: 30, 0: 20})}


# --- names --------------------------------------------------------------------------------------------------

_FAMILY_TOP = {
    "Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.0, "Hoàng": 2.9, "Huỳnh": 2.1, "Phan": 4.5, "Vũ": 2.2,
    "Võ": 1.7, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3, "Ngô": 1.3,
}
_FAMILY_TAIL = [
    "Dương", "Đinh", "Đào", "Đoàn", "Trịnh", "Trương", "Cao", "Hà", "Mai", "Lương", "Lâm", "Lý", "Phùng",
    "Lưu", "Tô", "Tạ", "Châu", "Triệu", "Chu", "Vương", "Thái", "Kiều", "Quách", "Lại", "Tăng", "La", "Hứa",
    "Thân", "Nghiêm", "Doãn", "Mạc", "Giang", "Kim", "Khúc", "Âu",
]
_FAMILY_MINORITY = {
    2: ["Nông", "Hoàng", "Lương", "Lục", "Triệu", "Hà", "Vi", "Ma", "Đàm"],
    7: ["Nông", "Hoàng", "Lương", "Lục", "Triệu", "Vi", "Mã", "Đàm"],
    3: ["Lò", "Cầm", "Lường", "Quàng", "Hà", "Vi", "Lộc", "Tòng"],
    4: ["Bùi", "Đinh", "Quách", "Hà", "Xa"],
    5: ["Thạch", "Sơn", "Danh", "Kim", "Lâm", "Châu", "Lý"],
    6: ["Lý", "Trương", "Lâm", "Quách", "Hứa", "Tăng", "Mạch", "La"],
    8: ["Giàng", "Vàng", "Lý", "Sùng", "Thào", "Hầu", "Mùa", "Sình"],
    9: ["Triệu", "Bàn", "Đặng", "Lý", "Chảo", "Phùng"],
    10: ["Ksor", "Rơ Châm", "Siu", "Nay", "Rmah", "Kpă", "Puih"],
    11: ["Niê", "Byă", "Êban", "Mlô", "Ayŭn", "Hđơk", "Knul"],
}
MINORITY_FAMILY_SHARE = 0.8
"""Share of people of a group with a list above who carry one of its family names (the rest a Kinh name)."""


@dataclass(frozen=True)
class FamilyNames:
    values: pa.Array
    weights: np.ndarray  # of a Kinh-style draw, calibrated so the population share is the target
    minority: dict[int, np.ndarray]  # ethnic code -> indexes into values


@lru_cache(maxsize=1)
def family_names() -> FamilyNames:
    top = list(_FAMILY_TOP)
    values = top + _FAMILY_TAIL
    for names in _FAMILY_MINORITY.values():
        values += [v for v in names if v not in values]
    # The shares are for the whole population; a part of minority people draws from its own list instead,
    # so the Kinh-style draw must be a little more Nguyễn-heavy for the total to come out right.
    geo = geography()
    replaced = 0.0
    for p, weight in enumerate(geo.province_weights):
        codes, w = ETHNIC_BY_REGION[REGIONS[geo.province_region[p]]]
        listed = np.isin(codes, list(_FAMILY_MINORITY))
        replaced += weight * geo.province_minority[p] * (w[listed].sum() / w.sum()) * MINORITY_FAMILY_SHARE
    top_w = np.array([_FAMILY_TOP[v] for v in top]) / 100 / (1 - replaced)
    tail_w = _zipf(len(_FAMILY_TAIL), 0.7)
    tail_w = tail_w / tail_w.sum() * (1 - top_w.sum())
    weights = np.zeros(len(values))
    weights[: len(top)], weights[len(top): len(top) + len(tail_w)] = top_w, tail_w
    return FamilyNames(
        values=pa.array(_nfc(values)),
        weights=weights,
        minority={code: np.array([values.index(v) for v in names]) for code, names in
                  _FAMILY_MINORITY.items()},
    )


@dataclass(frozen=True)
class MiddleNames:
    values: pa.Array
    female_thi: np.ndarray
    female_other: np.ndarray
    male_van: np.ndarray
    male_other: np.ndarray
    offsets: tuple[int, int, int, int]
    thi_by_year: tuple[list[int], list[float]]  # chance of "Thị" for a woman born that year
    van_by_year: tuple[list[int], list[float]]  # chance of "Văn" for a man born that year


def _middle_names() -> MiddleNames:
    thi = {"Thị": 85, "Thị Thu": 3, "Thị Ngọc": 3, "Thị Kim": 2, "Thị Thanh": 2, "Thị Hồng": 2, "Thị Minh": 1,
           "Thị Bích": 1, "Thị Mỹ": 1}
    female = [
        "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Phương", "Bảo", "Hồng", "Mai", "Thùy", "Hoài", "Diệu",
        "Khánh", "Quỳnh", "Hải", "Như", "Ánh", "Tuyết", "Bích", "Mỹ", "Thảo", "Hoàng",
    ]
    male = [
        "Minh", "Hữu", "Đức", "Quang", "Thanh", "Công", "Ngọc", "Xuân", "Quốc", "Trung", "Gia", "Đình",
        "Tiến", "Bảo", "Hoàng", "Anh", "Duy", "Tuấn", "Mạnh", "Thành", "Hồng", "Nhật", "Trọng", "Việt",
        "Huy", "Khánh", "Thế", "Bá", "Đăng",
    ]
    groups = [list(thi), female, ["Văn"], male]
    offsets = np.concatenate([[0], np.cumsum([len(g) for g in groups])[:-1]])
    return MiddleNames(
        values=pa.array(_nfc([v for g in groups for v in g])),
        female_thi=np.array(list(thi.values()), dtype=float),
        female_other=_zipf(len(female)),
        male_van=np.ones(1),
        male_other=_zipf(len(male)),
        offsets=tuple(int(o) for o in offsets),
        thi_by_year=([1940, 1970, 1990, 2000, 2010], [0.88, 0.8, 0.6, 0.4, 0.3]),
        van_by_year=([1940, 1970, 1990, 2000, 2010], [0.8, 0.65, 0.45, 0.3, 0.22]),
    )


MIDDLE = _middle_names()


@dataclass(frozen=True)
class GivenNames:
    values: pa.Array
    female: np.ndarray
    male: np.ndarray
    male_offset: int


def _given_names() -> GivenNames:
    # Most common first; both tone placements of "Hòa"/"Hoà", "Thủy"/"Thuỷ", "Thúy"/"Thuý" occur in real data.
    female = [
        "Lan", "Hương", "Hoa", "Mai", "Hằng", "Linh", "Trang", "Thảo", "Nga", "Hà", "Thủy", "Anh", "Hạnh",
        "Phương", "Huyền", "Nhung", "Loan", "Liên", "Yến", "Thu", "Dung", "Vân", "Oanh", "Hiền", "Ngọc",
        "Quỳnh", "Nhi", "Vy", "Trâm", "Giang", "Xuân", "Tâm", "Nhàn", "Lý", "Hồng", "Tuyết", "Diệp", "Châu",
        "My", "Ngân", "Hòa", "Thúy", "Bích", "Khánh", "Duyên", "Uyên", "Chi", "Lệ", "Thuỷ", "Hoà", "Thuý",
        "Hậu", "Thắm", "Lụa", "Mơ", "Na", "Sen", "Cúc", "Đào", "Hân",
    ]
    male = [
        "Anh", "Hùng", "Dũng", "Tuấn", "Minh", "Hải", "Nam", "Long", "Sơn", "Thắng", "Cường", "Hưng",
        "Quang", "Trung", "Hiếu", "Đức", "Bình", "Phúc", "Thành", "Tùng", "Khánh", "Huy", "Tài", "Lâm",
        "Phong", "Vinh", "Tiến", "Toàn", "Việt", "Hoàng", "Kiên", "Lợi", "Mạnh", "Nghĩa", "Quân", "Tâm",
        "Thịnh", "Trí", "Vũ", "Dương", "Hiệp", "Khoa", "Bảo", "Đạt", "Hậu", "Lộc", "Tú", "Hòa", "Thuận",
        "Sang", "Hoan", "Chiến", "Công", "Duy", "Phát", "Tân", "Thái", "Hoà", "Đông", "Khải",
    ]
    return GivenNames(values=pa.array(_nfc(female + male)), female=_zipf(len(female)), male=_zipf(len(male)),
                      male_offset=len(female))


GIVEN = _given_names()


# --- phones -------------------------------------------------------------------------------------------------

def _mobile_prefixes() -> tuple[pa.Array, np.ndarray]:
    carriers = {  # carrier share (rough market share) -> its current 3-digit prefixes
        50: ["032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098"],  # Viettel
        25: ["081", "082", "083", "084", "085", "088", "091", "094"],  # VinaPhone
        19: ["070", "076", "077", "078", "079", "089", "090", "093"],  # MobiFone
        4: ["056", "058", "092"],  # Vietnamobile
        1.2: ["087"],  # iTel
        0.8: ["059", "099"],  # Gmobile
    }
    prefixes = [p for ps in carriers.values() for p in ps]
    weights = [share / len(ps) for share, ps in carriers.items() for _ in ps]
    return pa.array(prefixes), np.array(weights)


MOBILE_PREFIXES = _mobile_prefixes()
_OLD = {
    **{f"03{d}": f"016{d}" for d in range(2, 10)},  # Viettel
    "070": "0120", "079": "0121", "077": "0122", "076": "0126", "078": "0128",  # MobiFone
    "083": "0123", "084": "0124", "085": "0125", "081": "0127", "082": "0129",  # VinaPhone
    "056": "0186", "058": "0188", "059": "0199",  # Vietnamobile, Gmobile
}
OLD_MOBILE_PREFIX = (pa.array(list(_OLD)), pa.array(list(_OLD.values())))
"""Current prefix -> the 11-digit prefix it replaced in 2018."""
PHONE_FORM_WEIGHTS = [55, 10, 8, 12, 12, 3]  # see generator.render_phones


# --- organisations ------------------------------------------------------------------------------------------

MEMBER_STATUSES = ("active", "transferred", "left", "deceased")


@dataclass(frozen=True)
class OrganisationProfile:
    code: str
    female_share: float
    min_age: int
    max_age: int
    join_age: int
    branches: tuple[tuple[str, str], ...]  # (prefix, "k" for a number | "v" for a village name)
    status_weights: tuple[float, float, float, float]  # MEMBER_STATUSES


_PROFILES = [
    OrganisationProfile("HLHPN", 1.0, 18, 80, 18, (("Chi hội ", "k"), ("Chi hội phụ nữ thôn ", "v"),
                                                   ("Chi hội phụ nữ tổ dân phố ", "k")), (91, 3, 5, 1)),
    OrganisationProfile("HND", 0.45, 18, 80, 18, (("Chi hội ", "k"), ("Chi hội nông dân thôn ", "v"),
                                                  ("Chi hội nông dân ấp ", "v")), (90, 3, 5, 2)),
    OrganisationProfile("DTN", 0.5, 16, 30, 16, (("Chi đoàn ", "k"), ("Chi đoàn thôn ", "v"),
                                                 ("Chi đoàn khu phố ", "k")), (88, 5, 7, 0.05)),
    OrganisationProfile("HNCT", 0.55, 60, 95, 60, (("Chi hội NCT tổ ", "k"),
                                                   ("Chi hội người cao tuổi thôn ", "v")), (88, 2, 2, 8)),
    OrganisationProfile("HCCB", 0.08, 40, 90, 30, (("Chi hội CCB ", "k"),
                                                   ("Chi hội cựu chiến binh thôn ", "v")), (91, 2, 2, 5)),
    OrganisationProfile("TLDLD", 0.5, 18, 62, 18, (("Công đoàn bộ phận ", "k"), ("Tổ công đoàn ", "k")),
                        (88, 6, 6, 0.1)),
    OrganisationProfile("MTTQ", 0.5, 18, 80, 18, (("Ban công tác Mặt trận khu dân cư số ", "k"),
                                                  ("Ban công tác Mặt trận thôn ", "v")), (92, 3, 4, 1)),
    OrganisationProfile("HCTD", 0.55, 18, 70, 18, (("Chi hội Chữ thập đỏ ", "k"),
                                                   ("Chi hội Chữ thập đỏ thôn ", "v")), (90, 3, 6, 1)),
]
PROFILES = {p.code: p for p in _PROFILES}


def organisation_profile(code: str) -> OrganisationProfile:
    try:
        return PROFILES[code]
    except KeyError:
        msg = f"no demo profile for organisation {code!r}; known: {', '.join(PROFILES)}"
        raise ValueError(msg) from None


# --- broken values ------------------------------------------------------------------------------------------

BAD_DATE_TEXTS = pa.array(_nfc(["abc", "không rõ", "00/00/0000", "x"]))
BAD_DATETIME_TEXTS = pa.array(_nfc(["31/09/2025 10:00", "hôm qua", "25:61 12/12/2025"]))
BAD_AMOUNT_TEXTS = pa.array(_nfc(["năm triệu", "hai triệu đồng", "x"]))


# --- feedback -----------------------------------------------------------------------------------------------

FEEDBACK_CHANNELS = (("hotline", "web", "zalo", "email", "in_person", "letter"), [30, 20, 25, 5, 15, 5])
FEEDBACK_CATEGORIES = (
    ("land", "environment", "social_welfare", "health", "education", "infrastructure", "public_order",
     "administration", "other"),
    [22, 12, 14, 8, 6, 16, 8, 10, 4],
)
FEEDBACK_STATUSES = (("received", "processing", "resolved", "rejected", "transferred"), [8, 18, 60, 6, 8])
SATISFACTION_WEIGHTS = [6, 8, 18, 36, 32]
FEEDBACK_HOUR_WEIGHTS = [  # by hour of the day, 0..23
    0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 3, 6, 7, 7, 6, 3, 4, 6, 7, 6, 5, 3, 3, 2.5, 2, 1, 0.5,
]
_SUMMARIES = [  # two per category, FEEDBACK_CATEGORIES order; nothing about a person
    "Tranh chấp ranh giới đất giữa các hộ liền kề", "Chậm cấp giấy chứng nhận quyền sử dụng đất",
    "Rác thải tồn đọng tại khu dân cư", "Cơ sở sản xuất gây ô nhiễm tiếng ồn và khói bụi",
    "Chậm chi trả trợ cấp xã hội hằng tháng", "Đề nghị xem xét lại danh sách hộ cận nghèo",
    "Thái độ phục vụ tại trạm y tế", "Thiếu thuốc bảo hiểm y tế tại trạm",
    "Thu các khoản ngoài quy định tại trường học", "Thiếu phòng học cho học sinh tiểu học",
    "Đường giao thông nông thôn xuống cấp", "Đèn chiếu sáng công cộng bị hỏng",
    "Tụ tập gây mất trật tự ban đêm", "Lấn chiếm vỉa hè, lòng đường để kinh doanh",
    "Thủ tục hành chính giải quyết chậm", "Bộ phận một cửa không tiếp dân đúng giờ",
    "Đề nghị tổ chức đối thoại với nhân dân", "Góp ý về hoạt động của khu dân cư",
]
FEEDBACK_SUMMARIES = (np.arange(len(_SUMMARIES) // 2) * 2, pa.array(_nfc(_SUMMARIES)))


# --- relief -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Campaign:
    code: str
    weight: float
    start: date
    end: date
    provinces: tuple[int, ...]  # 2025 provinces of the beneficiaries; () = nationwide
    donor_note: str
    support_note: str


CAMPAIGNS = (
    Campaign("YAGI-2024", 40, date(2024, 9, 8), date(2024, 12, 31), (15, 4, 8, 19, 25, 22, 31, 20, 1, 24),
             "Ủng hộ đồng bào bị thiệt hại do bão số 3 (Yagi)", "Hỗ trợ hộ bị thiệt hại do bão số 3"),
    Campaign("LU-MIEN-TRUNG-2025", 35, date(2025, 10, 27), date(2026, 1, 31),
             (46, 48, 51, 52, 66, 56, 44, 68),
             "Ủng hộ đồng bào miền Trung bị lũ lụt", "Hỗ trợ khắc phục hậu quả lũ lụt"),
    Campaign("TET-VI-NGUOI-NGHEO-2026", 25, date(2025, 12, 15), date(2026, 2, 16), (),
             "Ủng hộ Quỹ Vì người nghèo dịp Tết", "Quà Tết cho hộ nghèo"),
)
DONOR_KINDS = pa.array(_nfc([
    "Công ty TNHH", "Công ty Cổ phần", "Ngân hàng TMCP", "Tập thể cán bộ, giáo viên Trường THCS", "Giáo xứ",
    "Chùa", "Hội doanh nhân trẻ", "Hợp tác xã",
]))
COMPANY_NAMES = pa.array(_nfc([
    "Hoàng Long", "Minh Phát", "Thành Đạt", "An Phú", "Việt Tiến", "Sao Mai", "Phú Gia", "Hưng Thịnh",
    "Đại Dương", "Kim Long", "Bình Minh", "Trường Sơn", "Tân Hiệp", "Quang Trung", "Nam Việt", "Hồng Hà",
]))
DONATION_AMOUNTS = (np.array([1e5, 2e5, 3e5, 5e5, 1e6, 2e6, 5e6, 1e7]), [10, 12, 6, 25, 25, 10, 8, 4])
SUPPORT_AMOUNTS = (np.array([5e5, 1e6, 2e6, 3e6, 5e6, 1e7, 2e7, 5e7]), [10, 25, 20, 12, 15, 10, 5, 3])
RELIEF_ORGANISATIONS = (
    ("MTTQ", "HLHPN", "HND", "DTN", "HCCB", "TLDLD", "HNCT", "HCTD"), [40, 15, 10, 10, 5, 10, 3, 7],
)
