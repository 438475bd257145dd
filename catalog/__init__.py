"""Shared electronic code lists (danh mục điện tử dùng chung), as versioned data.

The lists live in ``catalog/data`` (CSV files + the manifest ``lists.yml``; the 2025 administrative units
frozen from ``vietnam-provinces`` by ``scripts/freeze_admin_units.py``), beside the frozen legacy → 2025 ward
crosswalk (``catalog.crosswalk``). See docs/catalog.md for the lists, their sources and how they were checked.

Public API:
    load_code_lists() -> dict[str, CodeList]
    get_code_list(name) -> CodeList
    ward_lookup(province_code, text) -> str | None
    province_of_ward(ward_code) -> str | None
    legacy_to_2025_province(old_code) -> str
    read_code_list_csv(path, *, name, version, title_vi, title_en, valid_from, basis, parents) -> CodeList
    typed_code_list(code_list) -> CodeList  # a WardList for "wards", e.g. after reading the warehouse
    agency_id_of(organisation_code) -> str | None  # QĐ 20/2020 electronic agency identifier
"""

from catalog.admin_units import WardList, typed_code_list
from catalog.agency_ids import AgencyId, agency_id_of, validate_agency_id
from catalog.csv_io import CodeListFileError, read_code_list_csv
from catalog.lists import get_code_list, load_code_lists
from catalog.lookups import legacy_to_2025_province, province_of_ward, ward_lookup
from catalog.model import CodeList, CodeValue, match_key
from lienthong.vietnamese.folding import spelling_key

__all__ = [
    "AgencyId",
    "CodeList",
    "CodeListFileError",
    "CodeValue",
    "WardList",
    "agency_id_of",
    "get_code_list",
    "legacy_to_2025_province",
    "load_code_lists",
    "match_key",
    "province_of_ward",
    "read_code_list_csv",
    "spelling_key",
    "typed_code_list",
    "validate_agency_id",
    "ward_lookup",
]
