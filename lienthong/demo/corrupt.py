"""Corrupt clean member records the way real member-organisation files are corrupted, keeping the truth.

Benchmarks the cleaning rules (issue: Vietnamese data cleaning): each simulated file is typed in one legacy
encoding (or Unicode), and each row gets, independently, the everyday damage seen in provincial Excel files:
names in capitals, NFD, reversed or without diacritics; phones in +84 or pre-2018 11-digit form; ID numbers
with separators or their leading zeros lost; dates in other formats, Excel serials or month-first; addresses in
the pre-July-2025 three-level form, sometimes of a ward that was later split (to be flagged, never guessed).
Everything is seeded and vectorised over distinct values, so 20,000 rows take well under a second.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.model import match_key
from lienthong.cleaning.addresses import legacy_ward_table
from lienthong.cleaning.phones import CONVERSION_2018
from lienthong.demo.generator import generate_members
from lienthong.vietnamese.legacy_encodings import encode_tcvn3, encode_viqr, encode_vni

ENCODINGS = ("unicode", "tcvn3", "vni", "viqr")
_ENCODERS = {"tcvn3": encode_tcvn3, "vni": encode_vni, "viqr": encode_viqr}
_NEW_TO_OLD_PREFIX = {new: old for old, new in CONVERSION_2018.items()}
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class CorruptedFile:
    """One simulated file: its records as a clerk would send them, and the truth row by row."""

    name: str
    encoding: str  # how its text was typed: unicode | tcvn3 | vni | viqr
    records: pa.Table  # full_name, sex, date_of_birth, id_number, phone, address — all strings
    truth: pa.Table  # clean values (full_name, family_name, given_name, sex, date_of_birth, id_number, phone,
    #                  ward_code, ward_split) and what was done to each row (name_damage, date_form, ...)


def corrupt_members(n: int, *, seed: int = 7) -> list[CorruptedFile]:
    """``n`` clean members spread over one file per encoding, each row corrupted as real files are."""
    rng = np.random.default_rng([seed, 99])
    people = generate_members(n, seed=seed, error_rate=0.0, duplicate_rate=0.0, organisation="HND").people
    files = []
    for i, encoding in enumerate(ENCODINGS):
        part = people.slice(i * n // len(ENCODINGS), (i + 1) * n // len(ENCODINGS) - i * n // len(ENCODINGS))
        files.append(_corrupt_file(part, encoding, rng))
    return files


def _corrupt_file(people: pa.Table, encoding: str, rng: np.random.Generator) -> CorruptedFile:
    n = people.num_rows
    names, name_damage = _names(people.column("full_name").to_pylist(), rng, legacy=encoding != "unicode")
    addresses, ward_truth, split, address_form = _addresses(people.column("ward_code").to_pylist(), rng)
    if encoding != "unicode":
        encode = _ENCODERS[encoding]
        names = [encode(v) if v else v for v in names]
        addresses = [encode(v) if v else v for v in addresses]
    # One file comes from a system that writes month first, as whole files do (a row-by-row mix would be
    # genuinely ambiguous, and is quarantined as such).
    dates, date_form = _dates(people.column("date_of_birth").to_pylist(), rng, month_first=encoding == "viqr")
    phones, phone_form = _phones(people.column("phone").to_pylist(), rng)
    ids, id_form = _ids(people.column("id_number").to_pylist(), rng)
    female = people.column("sex").to_numpy(zero_copy_only=False) == "F"  # the generator's people: F / M
    sexes = np.where(female,
                     rng.choice(["Nữ", "nữ", "2", "F", "NỮ"], n), rng.choice(["Nam", "nam", "1", "M", "NAM"], n))
    if encoding != "unicode":
        sexes = np.array([_ENCODERS[encoding](s) for s in sexes])
    records = pa.table({
        "full_name": pa.array(names, pa.string()), "sex": pa.array(sexes.tolist(), pa.string()),
        "date_of_birth": pa.array(dates, pa.string()), "id_number": pa.array(ids, pa.string()),
        "phone": pa.array(phones, pa.string()), "address": pa.array(addresses, pa.string()),
    })
    truth = pa.table({
        "full_name": people.column("full_name"), "family_name": people.column("family_name"),
        "given_name": people.column("given_name"), "name_key": pa.array(
            [match_key(v) for v in people.column("full_name").to_pylist()], pa.string()),
        "sex": pa.array(np.where(female, "2", "1").tolist(), pa.string()),  # catalog codes of `sexes`
        "date_of_birth": people.column("date_of_birth"),
        "id_number": people.column("id_number"), "phone": people.column("phone"),
        "ward_code": pa.array(ward_truth, pa.string()), "ward_split": pa.array(split, pa.bool_()),
        "name_damage": pa.array(name_damage, pa.string()), "date_form": pa.array(date_form, pa.string()),
        "phone_form": pa.array(phone_form, pa.string()), "id_form": pa.array(id_form, pa.string()),
        "address_form": pa.array(address_form, pa.string()),
    })
    return CorruptedFile(f"hoi_vien_{encoding}.csv", encoding, records, truth)


def _names(names: list[str], rng: np.random.Generator, *, legacy: bool) -> tuple[list[str], list[str]]:
    kinds = rng.choice(["none", "upper", "lower", "nfd", "reversed", "no_diacritics", "spaces"], len(names),
                       p=[0.35, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1])
    if legacy:  # NFD is a Unicode-keyboard accident: a file typed in a legacy font has none
        kinds[kinds == "nfd"] = "none"
    out = []
    for name, kind in zip(names, kinds, strict=True):
        words = name.split()
        out.append({
            "none": name, "upper": name.upper(), "lower": name.lower(),
            "nfd": unicodedata.normalize("NFD", name),
            "reversed": " ".join([words[-1], *words[:-1]]) if len(words) > 1 else name,
            "no_diacritics": match_key(name).title(),
            "spaces": "  " + "   ".join(words) + " ",
        }[kind])
    return out, kinds.tolist()


def _dates(
    dobs: list[date | None], rng: np.random.Generator, *, month_first: bool
) -> tuple[list[str | None], list[str]]:
    forms = rng.choice(["dmy", "d/m/yyyy", "iso", "excel", "dmy_dots"], len(dobs), p=[0.45, 0.15, 0.15, 0.1, 0.15])
    out, used = [], []
    for d, form in zip(dobs, forms, strict=True):
        if d is None:
            out.append(None)
            used.append("missing")
            continue
        if month_first and form in ("dmy", "d/m/yyyy", "dmy_dots"):
            form = "mdy"
        out.append({
            "dmy": f"{d:%d/%m/%Y}", "d/m/yyyy": f"{d.day}/{d.month}/{d.year}", "iso": d.isoformat(),
            "excel": str((d - _EXCEL_EPOCH).days), "dmy_dots": f"{d:%d.%m.%Y}", "mdy": f"{d:%m/%d/%Y}",
        }[form])
        used.append(str(form))
    return out, used


def _phones(phones: list[str | None], rng: np.random.Generator) -> tuple[list[str | None], list[str]]:
    forms = rng.choice(["plain", "intl_spaced", "84", "dots", "old_11_digit", "lost_zero"], len(phones),
                       p=[0.3, 0.15, 0.1, 0.1, 0.25, 0.1])
    out, used = [], []
    for p, form in zip(phones, forms, strict=True):
        if p is None:
            out.append(None)
            used.append("missing")
            continue
        if form == "old_11_digit" and p[:3] not in _NEW_TO_OLD_PREFIX:
            form = "plain"
        rest = p[1:]
        out.append({
            "plain": p, "intl_spaced": f"+84 {rest[:3]} {rest[3:6]} {rest[6:]}", "84": "84" + rest,
            "dots": f"{p[:4]}.{p[4:7]}.{p[7:]}", "old_11_digit": _NEW_TO_OLD_PREFIX.get(p[:3], "") + p[3:],
            "lost_zero": rest,
        }[form])
        used.append(str(form))
    return out, used


def _ids(ids: list[str | None], rng: np.random.Generator) -> tuple[list[str | None], list[str]]:
    forms = rng.choice(["plain", "spaced", "dotted", "lost_zeros"], len(ids), p=[0.55, 0.15, 0.15, 0.15])
    out, used = [], []
    for v, form in zip(ids, forms, strict=True):
        if v is None:
            out.append(None)
            used.append("missing")
            continue
        out.append({
            "plain": v, "spaced": " ".join(v[i:i + 3] for i in range(0, len(v), 3)),
            "dotted": ".".join(v[i:i + 3] for i in range(0, len(v), 3)), "lost_zeros": str(int(v)),
        }[form])
        used.append(str(form))
    return out, used


def _addresses(wards: list[str | None], rng: np.random.Generator):  # noqa: ANN202 - four parallel lists
    """Addresses of each person's 2025 ward, in the 2025 form or in the legacy form of one of its old wards.

    About 5% are written as an old ward that was later split: their truth is "flag it", not a ward.
    """
    table = legacy_ward_table().to_pylist()
    legacy_of: dict[str, list[dict]] = {}
    split_rows = [r for r in table if r["split"]]
    for r in table:
        if not r["split"]:
            legacy_of.setdefault(r["ward_codes"][0], []).append(r)
    from catalog import get_code_list

    wards_list, provinces = get_code_list("wards"), get_code_list("provinces")
    styles = rng.choice(["full", "abbreviated", "no_diacritics", "street_first"], len(wards))
    forms = rng.choice(["2025", "legacy", "legacy_split"], len(wards), p=[0.35, 0.6, 0.05])
    out, truth, split, used = [], [], [], []
    for ward, style, form in zip(wards, styles, forms, strict=True):
        if form == "legacy_split":
            r = split_rows[int(rng.integers(len(split_rows)))]
            parts = [r["legacy_ward"], r["legacy_district"], r["legacy_province"]]
            truth.append(None)
            split.append(True)
        elif form == "legacy" and ward in legacy_of:
            r = legacy_of[ward][int(rng.integers(len(legacy_of[ward])))]
            parts = [r["legacy_ward"], r["legacy_district"], r["legacy_province"]]
            truth.append(ward)
            split.append(False)
        else:
            form = "2025"
            value = next(v for v in wards_list.values if v.code == ward)
            parts = [value.label_vi, provinces.label(value.parent)]
            truth.append(ward)
            split.append(False)
        out.append(_styled(parts, str(style), rng))
        used.append(str(form))
    return out, truth, split, used


_ABBREVIATIONS = {"Phường ": "P. ", "Xã ": "X. ", "Thị trấn ": "TT. ", "Quận ": "Q. ", "Huyện ": "H. ",
                  "Thị xã ": "TX. ", "Thành phố ": "TP. ", "Tỉnh ": "T. "}


def _styled(parts: list[str], style: str, rng: np.random.Generator) -> str:
    if style == "abbreviated":
        abbreviated = []
        for p in parts:
            for long, short in _ABBREVIATIONS.items():
                if p.startswith(long):
                    p = short + p[len(long):]
                    break
            abbreviated.append(p)
        parts = abbreviated
    text = ", ".join(parts)
    if style == "no_diacritics":
        text = match_key(text).title()
    if style == "street_first":
        text = f"Số {int(rng.integers(1, 300))}, ngõ {int(rng.integers(1, 90))}, " + text
    return text


def exact(a: pa.Array, b: pa.Array) -> float:
    """Share of rows where two arrays agree (both null counts as agreement)."""
    same = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.sum(pc.or_(same, both_null)).as_py() / max(len(a), 1)


NORMALIZE_HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Số CCCD", "Số điện thoại", "Địa chỉ"]


@dataclass(frozen=True)
class Accuracy:
    """Share of corrupted rows whose cleaned field equals the truth, per field (see :func:`measure_accuracy`)."""

    fields: dict[str, float]
    split_flagged: float  # old wards that were split: flagged with candidates
    split_guessed: int  # ...and given a ward anyway (must be 0)
    encodings_detected: float  # files whose text columns were all detected in the encoding they were typed in


def measure_accuracy(n: int = 20_000, *, seed: int = 5) -> Accuracy:
    """Corrupt ``n`` members, run ``normalize`` on each file, and compare field by field with the truth.

    Names typed without diacritics cannot be given them back exactly, so they are left out of the name figure;
    names are compared in the hub's tone placement (hòa), which ``normalize`` writes.
    """
    from lienthong.cleaning.text import normalize_tone_placement
    from lienthong.normalize import normalize_table

    got: dict[str, list[pa.Array]] = {}
    want: dict[str, list[pa.Array]] = {}
    flagged, guessed, detected = [], 0, 0
    files = corrupt_members(n, seed=seed)
    for f in files:
        result = normalize_table(f.records.rename_columns(NORMALIZE_HEADERS))
        out, truth = result.table.combine_chunks(), f.truth.combine_chunks()
        detected += {result.encodings[c] for c in ("Họ và tên", "Giới tính", "Địa chỉ")} == {f.encoding}
        everything = pa.array(np.ones(truth.num_rows, dtype=bool))
        legacy = pc.equal(truth.column("address_form"), "legacy").combine_chunks()
        new_form = pc.equal(truth.column("address_form"), "2025").combine_chunks()
        not_folded = pc.not_equal(truth.column("name_damage"), "no_diacritics").combine_chunks()
        checks = {
            "full_name": ("full_name", not_folded, normalize_tone_placement),
            "sex": ("sex", everything, None),
            "date_of_birth": ("date_of_birth", everything, lambda a: a.cast(pa.string())),
            "id_number": ("id_number", everything, None),
            "phone": ("phone", everything, None),
            "ward_code (legacy form, not split)": ("ward_code", legacy, None),
            "ward_code (2025 form)": ("ward_code", new_form, None),
        }
        for name, (column, mask, shape) in checks.items():
            expected = truth.column(column).combine_chunks()
            got.setdefault(name, []).append(out.column(column).combine_chunks().filter(mask))
            want.setdefault(name, []).append((shape(expected) if shape else expected).filter(mask))
        split = truth.column("ward_split").combine_chunks()
        issues = pc.fill_null(out.column("issues").combine_chunks().filter(split), "")
        flagged.append(pc.match_substring(issues, "address_ward_split"))
        guessed += pc.sum(pc.is_valid(out.column("ward_code").combine_chunks().filter(split))).as_py() or 0
    all_flagged = pa.concat_arrays(flagged)
    return Accuracy(
        fields={k: exact(pa.concat_arrays(got[k]), pa.concat_arrays(want[k])) for k in got},
        split_flagged=pc.mean(all_flagged.cast(pa.int8())).as_py() or 0.0,
        split_guessed=guessed,
        encodings_detected=detected / len(files),
    )
