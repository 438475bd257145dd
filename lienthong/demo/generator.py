"""Seeded generator of realistic Vietnamese records for the demo and the benchmarks, with their ground truth.

Why: validation, cleaning and matching need data that looks like what member organisations really send —
family names with their real frequencies, CCCD numbers built as Decree 137/2015 says, phones in every form
people write them, 2025 ward codes, a few per cent of broken rows and re-registered people — and we must know
the answer (which row is broken how, which rows are the same person) to measure the stages against it.

Every value of a record is a string (or null), as a source sends it. Each ``generate_*`` returns the records
and a truth table; the same arguments give identical tables. The work is vectorised with numpy and pyarrow (no
Python loop per row), so a million members take a few seconds. The names, places and shares drawn from are in
:mod:`lienthong.demo.vocabulary`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.demo import vocabulary as V

AS_OF = date(2026, 10, 31)
"""Default "today" of the generated data; fixed so that a seed always gives the same records."""

MEMBER_COLUMNS = (
    "member_id", "full_name", "sex", "date_of_birth", "id_number", "phone", "ethnicity_code", "religion_code",
    "ward_code", "address", "organisation", "branch", "joined_on", "status", "updated_at",
)
MEMBER_ERRORS = (
    "cccd_11_digits", "cccd_sex_mismatch", "missing_full_name", "invalid_date_of_birth",
    "future_date_of_birth", "unknown_ethnicity", "unknown_ward", "short_phone",
)
FEEDBACK_COLUMNS = (
    "feedback_id", "received_at", "channel", "category", "ward_code", "status", "resolved_at", "satisfaction",
    "summary",
)
FEEDBACK_ERRORS = (
    "unknown_channel", "unknown_category", "invalid_received_at", "resolved_before_received",
    "satisfaction_out_of_range", "unknown_ward",
)
RELIEF_COLUMNS = (
    "record_id", "campaign", "role", "party_name", "id_number", "organisation", "ward_code", "amount_vnd",
    "transaction_date", "note",
)
RELIEF_ERRORS = (
    "amount_not_a_number", "amount_not_positive", "unknown_campaign", "invalid_transaction_date",
    "invalid_id_number", "unknown_ward",
)


@dataclass(frozen=True)
class Sample:
    """Generated records (all strings, as a source sends them) and the truth about each of them."""

    records: pa.Table
    truth: pa.Table


@dataclass(frozen=True)
class MembersSample(Sample):
    """Members; ``people`` holds the clean attributes of each distinct person (``truth.person_id``)."""

    people: pa.Table


# --- small vectorised helpers -------------------------------------------------------------------------------

_T1 = pa.array([str(i) for i in range(10)])
_T2 = pa.array([f"{i:02d}" for i in range(100)])
_T3 = pa.array([f"{i:03d}" for i in range(1000)])
_TN = pa.array([str(i) for i in range(10000)])  # plain numbers and years
_NULL = pa.scalar(None, pa.string())
_DAY_S = 86_400

Weights = np.ndarray | list[float] | tuple[float, ...]


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([stream, seed])


def _choice(rng: np.random.Generator, n: int, weights: Weights) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(p.size, size=n, p=p / p.sum())


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(idx, type=pa.int64()))


def _pick(rng: np.random.Generator, values: pa.Array | list[str], k: int) -> pa.Array:
    """``k`` values drawn uniformly from ``values``."""
    values = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    return _take(values, rng.integers(0, len(values), k))


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _where(mask: np.ndarray, yes: pa.Array | pa.Scalar | str, no: pa.Array | pa.Scalar | str) -> pa.Array:
    return pc.if_else(pa.array(mask, type=pa.bool_()), yes, no)


def _digits(rng: np.random.Generator, n: int, width: int) -> pa.Array:
    """``n`` random strings of ``width`` decimal digits."""
    tables = [_T3] * (width // 3) + ([_T1, _T2][width % 3 - 1:width % 3] if width % 3 else [])
    return _join(*(_take(t, rng.integers(0, len(t), n)) for t in tables))


def _padded(numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings, put together from 1-3 digit tables (faster than formatting)."""
    if width > 12:
        return pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, padding="0")
    sizes = [width % 3] * bool(width % 3) + [3] * (width // 3)
    tables = {1: _T1, 2: _T2, 3: _T3}
    shifts = np.cumsum([0, *sizes[::-1]])[::-1][1:]
    chunks = (_take(tables[s], numbers // 10 ** int(e) % 10**s) for s, e in zip(sizes, shifts, strict=True))
    return _join(*chunks)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (H. Hinnant's civil_from_days, vectorised)."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _civil_days(year: np.ndarray | int, month: np.ndarray | int, day: np.ndarray | int) -> np.ndarray:
    """Days since 1970-01-01 of a date (H. Hinnant's days_from_civil); 29/02 of a common year is 01/03."""
    m = np.asarray(month, dtype=np.int64)
    y = np.asarray(year, dtype=np.int64) - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + np.asarray(day, dtype=np.int64) - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _days(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _days_of(dates: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """date32 values as days since 1970-01-01."""
    if isinstance(dates, pa.ChunkedArray):
        dates = dates.combine_chunks()
    return pc.cast(dates, pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)


def _age(dob_days: np.ndarray, as_of: date) -> np.ndarray:
    y, m, d = _ymd(dob_days)
    return as_of.year - y - ((as_of.month < m) | ((as_of.month == m) & (as_of.day < d)))


def _dmy(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> pa.Array:
    return _join(_take(_T2, day), _take(_T2, month), _take(_TN, year), sep="/")


def _timestamps(seconds: np.ndarray, *, iso: np.ndarray | bool) -> pa.Array:
    """Epoch seconds (Vietnam local time) as ISO ``yyyy-mm-ddTHH:MM:SS+07:00`` or ``dd/mm/yyyy HH:MM``."""
    days = seconds // _DAY_S
    y, m, d = _ymd(days)
    rest = seconds - days * _DAY_S
    hh, mm, ss = _take(_T2, rest // 3600), _take(_T2, rest // 60 % 60), _take(_T2, rest % 60)
    as_iso = _join(_take(_TN, y), "-", _take(_T2, m), "-", _take(_T2, d), "T", hh, ":", mm, ":", ss, "+07:00")
    if iso is True:
        return as_iso
    local = _join(_dmy(y, m, d), " ", hh, ":", mm)
    return local if iso is False else _where(iso, as_iso, local)


def _scatter(values: pa.Array, rows: np.ndarray, replacement: pa.Array) -> pa.Array:
    """``values`` with ``values[rows[i]] = replacement[i]`` (rows need not be sorted)."""
    if rows.size == 0:
        return values
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    ordered = replacement.take(pa.array(np.argsort(rows, kind="stable")))
    return pc.replace_with_mask(values, pa.array(mask), ordered.cast(values.type))


def _grouped(group: np.ndarray, build: Callable[[int, np.ndarray], pa.Array]) -> pa.Array:
    """Build the values of each group of rows with ``build(group, rows)``, put back in row order.

    Cheaper than building every variant for every row and choosing afterwards.
    """
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(int(group.max(initial=0)) + 2))
    parts = [
        build(g, order[bounds[g]: bounds[g + 1]]).cast(pa.string())
        for g in range(bounds.size - 1) if bounds[g + 1] > bounds[g]
    ]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    values = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    return values.take(pa.array(inverse))


def _rate_count(n: int, rate: float, name: str) -> int:
    if not 0 <= rate < 1:
        msg = f"{name} must be in [0, 1), got {rate}"
        raise ValueError(msg)
    return round(n * rate)


def _assign_errors(
    rng: np.random.Generator, n_errors: int, kinds: tuple[str, ...], pools: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], pa.Array]:
    """Spread ``n_errors`` over ``kinds`` as evenly as possible, each on distinct rows of its eligible pool.

    Returns the (sorted) rows of each kind and the ``error`` column of the truth table.
    """
    n = next(iter(pools.values())).size
    taken = np.zeros(n, dtype=bool)
    counts = np.bincount(rng.permutation(np.arange(n_errors) % len(kinds)), minlength=len(kinds))
    rows: dict[str, np.ndarray] = {}
    labels = np.zeros(n, dtype=np.int64)  # 0 = no error, k + 1 = kinds[k]
    for k, (kind, count) in enumerate(zip(kinds, counts, strict=True)):
        pool = np.flatnonzero(pools[kind] & ~taken)
        chosen = np.sort(rng.choice(pool, size=min(count, pool.size), replace=False))
        taken[chosen] = True
        labels[chosen] = k + 1
        rows[kind] = chosen
    return rows, _take(pa.array([None, *kinds], type=pa.string()), labels)


# --- people -------------------------------------------------------------------------------------------------


def generate_people(
    n: int, *, seed: int = 7, female_share: float = 0.5, min_age: int = 16, max_age: int = 95,
    as_of: date = AS_OF,
) -> pa.Table:
    """Clean attributes of ``n`` distinct people, the population the member sources draw from.

    Columns: person_id (``P`` + 8 digits, unique within the table), sex (``F``/``M``), date_of_birth
    (date32), family_name, middle_name, given_name, full_name (NFC), id_number, phone (national form),
    ethnicity_code, religion_code, ward_code (2025, 5 digits), address. Ages follow a Vietnamese age pyramid
    within the range; wards are weighted by the population of their province; minority peoples live where
    they really do, with their own family names and religions.
    """
    rng = _rng(seed, 1)
    geo = V.geography()
    female = rng.random(n) < female_share
    ages = np.arange(min_age, max_age + 1)
    age = ages[_choice(rng, n, V.age_weights(ages))]
    latest = _civil_days(as_of.year - age, as_of.month, as_of.day)  # the day they turned `age`
    earliest = _civil_days(as_of.year - age - 1, as_of.month, as_of.day) + 1
    dob = earliest + (rng.random(n) * (latest - earliest + 1)).astype(np.int64)
    birth_year = _ymd(dob)[0]
    ward = _choice(rng, n, geo.ward_weights)
    province = geo.ward_province[ward]
    ethnicity, religion = _ethnicity_and_religion(rng, province)
    family, middle, given = _names(rng, female, birth_year, ethnicity)
    no_middle = rng.random(n) < 0.02
    return pa.table({
        "person_id": _join("P", _padded(np.arange(1, n + 1), 8)),
        "sex": _where(female, "F", "M"),
        "date_of_birth": pa.array(dob.astype("datetime64[D]"), type=pa.date32()),
        "family_name": family,
        "middle_name": _where(no_middle, _NULL, middle),
        "given_name": given,
        "full_name": _where(no_middle, _join(family, given, sep=" "), _join(family, middle, given, sep=" ")),
        "id_number": _identity_numbers(rng, province, female, birth_year, age),
        "phone": _where(rng.random(n) < 0.04, _NULL, _mobile_numbers(rng, n)),
        "ethnicity_code": _take(_T2, ethnicity),
        "religion_code": _where(rng.random(n) < 0.02, _NULL, _take(_T2, religion)),
        "ward_code": _take(geo.ward_codes, ward),
        "address": _addresses(rng, ward),
    })


def _ethnicity_and_religion(rng: np.random.Generator, province: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    geo = V.geography()
    n = province.size
    region = geo.province_region[province]
    minority = rng.random(n) < geo.province_minority[province]
    ethnicity = np.ones(n, dtype=np.int64)  # 01 Kinh
    religion = np.zeros(n, dtype=np.int64)  # 00 none
    for r, name in enumerate(V.REGIONS):
        rows = np.flatnonzero(minority & (region == r))
        codes, weights = V.ETHNIC_BY_REGION[name]
        ethnicity[rows] = codes[_choice(rng, rows.size, weights)]
        rows = np.flatnonzero(region == r)
        codes, weights = V.RELIGION_BY_REGION[name]
        religion[rows] = codes[_choice(rng, rows.size, weights)]
    for code, (religion_codes, weights) in V.RELIGION_BY_ETHNICITY.items():
        rows = np.flatnonzero(ethnicity == code)
        religion[rows] = religion_codes[_choice(rng, rows.size, weights)]
    return ethnicity, religion


def _names(
    rng: np.random.Generator, female: np.ndarray, birth_year: np.ndarray, ethnicity: np.ndarray
) -> tuple[pa.Array, pa.Array, pa.Array]:
    n = female.size
    family_names, middle, given = V.family_names(), V.MIDDLE, V.GIVEN
    family = _choice(rng, n, family_names.weights)
    for code, choices in family_names.minority.items():  # minority peoples mostly carry their own names
        rows = np.flatnonzero((ethnicity == code) & (rng.random(n) < V.MINORITY_FAMILY_SHARE))
        family[rows] = choices[rng.integers(0, choices.size, rows.size)]
    thi = rng.random(n) < np.interp(birth_year, *middle.thi_by_year)
    van = rng.random(n) < np.interp(birth_year, *middle.van_by_year)
    o = middle.offsets
    middle_idx = np.where(
        female,
        np.where(thi, _choice(rng, n, middle.female_thi) + o[0], _choice(rng, n, middle.female_other) + o[1]),
        np.where(van, _choice(rng, n, middle.male_van) + o[2], _choice(rng, n, middle.male_other) + o[3]),
    )
    male_given = _choice(rng, n, given.male) + given.male_offset
    given_idx = np.where(female, _choice(rng, n, given.female), male_given)
    return (_take(family_names.values, family), _take(middle.values, middle_idx),
            _take(given.values, given_idx))


def _identity_numbers(
    rng: np.random.Generator, province: np.ndarray, female: np.ndarray, birth_year: np.ndarray,
    age: np.ndarray,
) -> pa.Array:
    """Mostly 12-digit CCCD: birth province (one of the 63), sex/century, year, 6 random digits.

    Most people were born in a province merged into the one they live in; a share moved (more to the two big
    cities). Some older people still have a 9-digit CMND; a few have no number on file.
    """
    geo = V.geography()
    n = province.size
    local = geo.old_codes_of[province, (rng.random(n) * geo.old_count_of[province]).astype(np.int64)]
    migrant = rng.random(n) < np.where(np.isin(geo.province_codes[province], (1, 79)), 0.35, 0.12)
    born_in = np.where(migrant, geo.old_codes[_choice(rng, n, geo.old_weights)], local)
    sex_century = (birth_year >= 2000) * 2 + female
    cccd = _join("0", _take(_T2, born_in), _take(_T1, sex_century), _take(_T2, birth_year % 100),
                 _digits(rng, n, 6))
    cmnd = _join(_take(_T2, rng.integers(1, 39, n)), _digits(rng, n, 7))
    has_cmnd = (birth_year < 2000) & (rng.random(n) < np.where(age >= 60, 0.15, 0.07))
    return _where(rng.random(n) < 0.02, _NULL, _where(has_cmnd, cmnd, cccd))


def _mobile_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    prefixes, weights = V.MOBILE_PREFIXES
    numbers = _join(_take(prefixes, _choice(rng, n, weights)), _digits(rng, n, 7))
    # Only part of some blocks is allocated (phonenumbers' plan): 089 is 0896-0899, 099 is all but 0992.
    numbers = pc.replace_substring_regex(numbers, r"^089[0-5]", "0897")
    return pc.replace_substring_regex(numbers, r"^0992", "0993")


def render_phones(rng: np.random.Generator, national: pa.Array, form: Weights | None = None) -> pa.Array:
    """Write 10-digit national numbers the ways people do.

    The forms, in order: ``0912345678``, ``+84 912 345 678``, ``84912345678``, ``0912.345.678``,
    ``0912 345 678`` and the pre-2018 11-digit number (``01662345678``) where the prefix had one.

    Args:
        rng: random source for the forms when ``form`` is not given.
        national: numbers as ``0`` + 9 digits; other lengths and nulls are written as they are.
        form: the form of each row, 0..5 in the order above.
    """
    if isinstance(national, pa.ChunkedArray):
        national = national.combine_chunks()
    form = _choice(rng, len(national), V.PHONE_FORM_WEIGHTS) if form is None else np.asarray(form)
    ten = pc.fill_null(pc.equal(pc.utf8_length(national), 10), False).to_numpy(zero_copy_only=False)
    new_prefix, old_prefix = V.OLD_MOBILE_PREFIX

    def build(f: int, rows: np.ndarray) -> pa.Array:
        x = national.take(pa.array(rows))
        head, mid, tail = (pc.utf8_slice_codeunits(x, a, b) for a, b in ((0, 4), (4, 7), (7, 10)))
        if f == 1:
            return _join("+84 ", pc.utf8_slice_codeunits(x, 1, 4), " ", mid, " ", tail)
        if f == 2:
            return _join("84", pc.utf8_slice_codeunits(x, 1, 10))
        if f in (3, 4):
            return _join(head, mid, tail, sep="." if f == 3 else " ")
        if f == 5:
            prefix = old_prefix.take(pc.index_in(pc.utf8_slice_codeunits(x, 0, 3), value_set=new_prefix))
            return pc.coalesce(_join(prefix, pc.utf8_slice_codeunits(x, 3, 10)), x)
        return x

    return _grouped(np.where(ten, form, 0), build)


def _addresses(rng: np.random.Generator, ward: np.ndarray) -> pa.Array:
    """Street text below the ward: "Số 12, ngõ 34, phố Lê Lợi", "Thôn Đông", "Ấp Tân Phú", "12/34 Lê Lợi"."""
    geo = V.geography()
    n = ward.size
    region = geo.province_region[geo.ward_province[ward]]
    south = np.isin(region, (V.REGIONS.index("southeast"), V.REGIONS.index("mekong")))
    settlement = np.zeros(n, dtype=np.int64)
    for r, (offset, weights) in enumerate(V.SETTLEMENT_BY_REGION):
        rows = np.flatnonzero(region == r)
        settlement[rows] = _choice(rng, rows.size, weights) + offset
    urban = np.where(south, rng.choice([1, 2], n), rng.choice([0, 1], n))
    template = np.where(geo.ward_urban[ward], urban, rng.choice([3, 4, 5], n, p=[0.6, 0.2, 0.2]))
    with_ward = rng.random(n) < 0.4

    def build(t: int, rows: np.ndarray) -> pa.Array:
        k = rows.size
        number, alley, group = (_take(_TN, rng.integers(1, hi, k)) for hi in (260, 150, 40))
        street = _pick(rng, V.STREETS, k)
        place = _join(_take(V.SETTLEMENTS, settlement[rows]), " ", _pick(rng, V.VILLAGES, k))
        if t == 0:
            text = _join("Số ", number, ", ngõ ", alley, ", phố ", street)
        elif t == 1:
            text = _join("Số ", number, " ", street, ", tổ ", group)
        elif t == 2:
            text = _join(number, "/", alley, " ", street, ", khu phố ", group)
        else:
            text = [place, _join("Số ", number, ", ", place), _join("Tổ ", group, ", ", place)][t - 3]
        return _where(with_ward[rows], _join(text, ", ", _take(geo.ward_names, ward[rows])), text)

    return _grouped(template, build)


def _sample_people(
    rng: np.random.Generator, people: pa.Table, k: int, profile: V.OrganisationProfile, as_of: date
) -> np.ndarray:
    """Rows of ``people`` eligible for the organisation (age, sex), drawn without replacement."""
    age = _age(_days_of(people.column("date_of_birth")), as_of)
    female = pc.equal(people.column("sex"), "F").to_numpy(zero_copy_only=False)
    eligible = (age >= profile.min_age) & (age <= profile.max_age)
    eligible &= np.where(female, profile.female_share > 0, profile.female_share < 1)
    rows = np.flatnonzero(eligible)
    if rows.size < k:
        msg = f"only {rows.size} people are eligible for {profile.code}, {k} asked; use a larger population"
        raise ValueError(msg)
    f = female[rows]
    women, men = max(f.sum(), 1), max((~f).sum(), 1)
    share = np.where(f, profile.female_share / women, (1 - profile.female_share) / men)
    return rng.choice(rows, size=k, replace=False, p=share / share.sum())


# --- members ------------------------------------------------------------------------------------------------

_PERSON_COLUMNS = [
    "person_id", "sex", "date_of_birth", "full_name", "id_number", "phone", "ethnicity_code", "religion_code",
    "ward_code", "address",
]


def generate_members(
    n: int, *, seed: int = 7, organisation: str = "HLHPN", error_rate: float = 0.03,
    duplicate_rate: float = 0.02, id_prefix: str = "HV", people: pa.Table | None = None, as_of: date = AS_OF,
) -> MembersSample:
    """Members of one organisation as its registry would send them, with deliberate errors and duplicates.

    Args:
        n: number of records (exactly).
        seed: same seed, same records.
        organisation: code of the member organisation (HLHPN, HND, DTN, HNCT, HCCB, TLDLD, MTTQ, HCTD);
            decides sex, ages, branch names and status shares.
        error_rate: share of rows with one deliberate error (``MEMBER_ERRORS``), recorded in ``truth.error``.
        duplicate_rate: share of rows that re-register an earlier member's person under a new member_id,
            with small variations (phone form, name case, moved ward); ``truth.duplicate_of`` names the
            original. Duplicates carry no deliberate error.
        id_prefix: prefix of member ids (``HV0000001``).
        people: a population from :func:`generate_people` to draw members from (organisations drawing from
            one population share some people); by default a fresh one.
        as_of: the data's "today".

    Returns:
        records (``MEMBER_COLUMNS``, strings), truth (member_id, person_id, error, duplicate_of) and people.

    Raises:
        ValueError: unknown organisation, a rate outside [0, 1), or a population too small.
    """
    profile = V.organisation_profile(organisation)
    n_dup = _rate_count(n, duplicate_rate, "duplicate_rate")
    n_err = _rate_count(n, error_rate, "error_rate")
    if n_dup + n_err > n:
        msg = "error_rate + duplicate_rate must not exceed 1"
        raise ValueError(msg)
    rng = _rng(seed, 2)
    n_base = n - n_dup
    if people is None:
        people = generate_people(n_base, seed=seed, female_share=profile.female_share,
                                 min_age=profile.min_age, max_age=profile.max_age, as_of=as_of)
        base = np.arange(n_base)
    else:
        base = _sample_people(rng, people, n_base, profile, as_of)
    slot, dups, originals = _registration_order(rng, n_base, n_dup)
    person = people.select(_PERSON_COLUMNS).take(pa.array(base[slot]))
    column = {name: person.column(name).combine_chunks() for name in _PERSON_COLUMNS}

    id_length = pc.fill_null(pc.utf8_length(column["id_number"]), 0).to_numpy(zero_copy_only=False)
    has_phone = pc.is_valid(column["phone"]).to_numpy(zero_copy_only=False)
    first = np.ones(n, dtype=bool)
    first[dups] = False
    cccd = id_length == 12
    needs = {"cccd_11_digits": cccd, "cccd_sex_mismatch": cccd, "short_phone": has_phone}
    rows, error = _assign_errors(rng, n_err, MEMBER_ERRORS, {
        kind: first & needs.get(kind, True) for kind in MEMBER_ERRORS
    })
    dob = _days_of(column["date_of_birth"])
    ward_code, address = _moved(rng, column["ward_code"], column["address"], dups)
    joined, updated = _membership_dates(rng, dob, profile, as_of, dups, originals)
    status = _take(pa.array(V.MEMBER_STATUSES), _choice(rng, n, profile.status_weights))
    member_id = _join(id_prefix, _padded(np.arange(1, n + 1), max(7, len(str(n)))))
    unknown_ethnicity, unknown_ward = rows["unknown_ethnicity"], rows["unknown_ward"]
    records = pa.table({
        "member_id": member_id,
        "full_name": _member_names(rng, column["full_name"], dups, rows["missing_full_name"]),
        "sex": pc.if_else(pc.equal(column["sex"], "F"), "Nữ", "Nam"),
        "date_of_birth": _member_births(rng, dob, rows),
        "id_number": _member_ids(rng, column["id_number"], rows),
        "phone": _member_phones(rng, column["phone"], rows["short_phone"], dups, originals),
        "ethnicity_code": _scatter(column["ethnicity_code"], unknown_ethnicity,
                                   _pick(rng, ["99", "Kinhh"], unknown_ethnicity.size)),
        "religion_code": column["religion_code"],
        "ward_code": _scatter(ward_code, unknown_ward, pa.repeat("99999", unknown_ward.size)),
        "address": address,
        "organisation": pa.repeat(organisation, n).cast(pa.string()),
        "branch": _branches(rng, n, profile),
        "joined_on": _dmy(*_ymd(joined)),
        "status": _scatter(status, dups, pa.repeat("active", dups.size)),
        "updated_at": _timestamps(updated, iso=True),
    })
    duplicate_of = np.full(n, -1)
    duplicate_of[dups] = originals
    truth = pa.table({
        "member_id": member_id,
        "person_id": column["person_id"],
        "error": error,
        "duplicate_of": member_id.take(pa.array(duplicate_of, mask=duplicate_of < 0)),
    })
    return MembersSample(records=records, truth=truth, people=people.take(pa.array(base)))


def _registration_order(rng: np.random.Generator, n_base: int, n_dup: int) -> tuple[np.ndarray, ...]:
    """Where duplicates go: each after its original, as a later re-registration.

    Returns, per row, the base person it is (``slot``); the rows that are duplicates; the rows of their
    originals.
    """
    original = rng.integers(0, n_base, n_dup) if n_dup else np.zeros(0, dtype=np.int64)
    later = original + 0.5 + rng.random(n_dup) * (n_base - original)
    order = np.argsort(np.concatenate([np.arange(n_base, dtype=float), later]), kind="stable")
    is_dup = order >= n_base
    slot = np.concatenate([np.arange(n_base), original])[order]
    row_of_base = np.empty(n_base, dtype=np.int64)
    row_of_base[order[~is_dup]] = np.flatnonzero(~is_dup)
    dups = np.flatnonzero(is_dup)
    return slot, dups, row_of_base[slot[dups]]


def _member_names(
    rng: np.random.Generator, names: pa.Array, dups: np.ndarray, missing: np.ndarray
) -> pa.Array:
    """Duplicates often typed in lower or upper case; the ``missing_full_name`` rows empty."""
    case = rng.random(dups.size)
    lower, upper = dups[case < 0.35], dups[(case >= 0.35) & (case < 0.5)]
    names = _scatter(names, lower, pc.utf8_lower(_take(names, lower)))
    names = _scatter(names, upper, pc.utf8_upper(_take(names, upper)))
    return _scatter(names, missing, pa.nulls(missing.size, pa.string()))


def _member_births(rng: np.random.Generator, dob: np.ndarray, rows: dict[str, np.ndarray]) -> pa.Array:
    """dd/mm/yyyy; a century typo (1995 -> 2095) or an impossible date on the error rows."""
    year, month, day = _ymd(dob)
    year[rows["future_date_of_birth"]] += 100
    bad = rows["invalid_date_of_birth"]
    style = rng.integers(0, 3, bad.size)
    day[bad[style == 0]] = rng.choice([30, 31], (style == 0).sum())  # 30/02, 31/02
    month[bad[style == 0]] = 2
    month[bad[style == 1]] = 13
    text = bad[style == 2]
    return _scatter(_dmy(year, month, day), text, _pick(rng, V.BAD_DATE_TEXTS, text.size))


def _member_ids(rng: np.random.Generator, ids: pa.Array, rows: dict[str, np.ndarray]) -> pa.Array:
    flip, short = rows["cccd_sex_mismatch"], rows["cccd_11_digits"]
    digit = pc.cast(pc.utf8_slice_codeunits(_take(ids, flip), 3, 4), pa.int64()).to_numpy()
    flipped = _join(pc.utf8_slice_codeunits(_take(ids, flip), 0, 3), _take(_T1, digit ^ 1),
                    pc.utf8_slice_codeunits(_take(ids, flip), 4, 12))
    ids = _scatter(ids, flip, flipped)
    position = rng.integers(0, 12, short.size)  # a clerk missed one key
    part = _take(ids, short)

    def without(p: int, at: np.ndarray) -> pa.Array:
        x = _take(part, at)
        return _join(pc.utf8_slice_codeunits(x, 0, p), pc.utf8_slice_codeunits(x, p + 1, 12))

    return _scatter(ids, short, _grouped(position, without))


def _member_phones(
    rng: np.random.Generator, phones: pa.Array, short: np.ndarray, dups: np.ndarray, originals: np.ndarray
) -> pa.Array:
    """Mixed written forms; a duplicate writes its number in another form than its original."""
    cut = _where(rng.integers(8, 10, short.size) == 8, pc.utf8_slice_codeunits(_take(phones, short), 0, 8),
                 pc.utf8_slice_codeunits(_take(phones, short), 0, 9))
    phones = _scatter(phones, short, cut)
    form = _choice(rng, len(phones), V.PHONE_FORM_WEIGHTS)
    form[dups] = (form[originals] + rng.integers(1, 5, dups.size)) % 5
    form[short] = 0
    return render_phones(rng, phones, form)


def _moved(
    rng: np.random.Generator, ward_codes: pa.Array, addresses: pa.Array, dups: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """Some duplicates re-registered after moving to another ward of the same province."""
    moved = dups[rng.random(dups.size) < 0.4]
    if moved.size == 0:
        return ward_codes, addresses
    geo = V.geography()
    province = geo.ward_province[pc.index_in(_take(ward_codes, moved), value_set=geo.ward_codes).to_numpy()]
    start, count = geo.province_ward_start[province], geo.province_ward_count[province]
    ward = geo.wards_by_province[start + (rng.random(moved.size) * count).astype(np.int64)]
    return (_scatter(ward_codes, moved, _take(geo.ward_codes, ward)),
            _scatter(addresses, moved, _addresses(rng, ward)))


def _membership_dates(
    rng: np.random.Generator, dob: np.ndarray, profile: V.OrganisationProfile, as_of: date,
    dups: np.ndarray, originals: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """joined_on (days) after the joining age, and updated_at (seconds, local time) after joined_on."""
    today = _days(as_of)
    year, month, day = _ymd(dob)
    earliest = np.maximum(_civil_days(year + profile.join_age, month, day), _days(date(1960, 1, 1)))
    earliest = np.minimum(earliest, today - 1)
    joined = earliest + (rng.random(dob.size) * (today - earliest)).astype(np.int64)
    since_original = (rng.random(dups.size) * (today - joined[originals])).astype(np.int64)
    joined[dups] = joined[originals] + since_original
    since = np.floor(rng.exponential(200 * _DAY_S, dob.size)).astype(np.int64)
    updated = np.maximum(today * _DAY_S - since, joined * _DAY_S + 8 * 3600) + rng.integers(0, 3600, dob.size)
    return joined, np.minimum(updated, today * _DAY_S + 23 * 3600)


def _branches(rng: np.random.Generator, n: int, profile: V.OrganisationProfile) -> pa.Array:
    def build(b: int, rows: np.ndarray) -> pa.Array:
        prefix, kind = profile.branches[b]
        if kind == "k":
            return _join(prefix, _take(_TN, rng.integers(1, 31, rows.size)))
        return _join(prefix, _pick(rng, V.VILLAGES, rows.size))

    return _grouped(rng.integers(0, len(profile.branches), n), build)


# --- feedback -----------------------------------------------------------------------------------------------


def generate_feedback(n: int, *, seed: int = 7, error_rate: float = 0.02, as_of: date = AS_OF) -> Sample:
    """Citizen feedback from the 24/7 channels over the year before ``as_of``, oldest first.

    Returns:
        records (``FEEDBACK_COLUMNS``; ``summary`` is free text the hub ignores) and truth
        (feedback_id, error — one of ``FEEDBACK_ERRORS`` or null).
    """
    rng = _rng(seed, 3)
    geo = V.geography()
    n_err = _rate_count(n, error_rate, "error_rate")
    end = _days(as_of) * _DAY_S
    hour = _choice(rng, n, V.FEEDBACK_HOUR_WEIGHTS)
    received = np.sort(end - rng.integers(1, 366, n) * _DAY_S + hour * 3600 + rng.integers(0, 3600, n))
    category = _choice(rng, n, V.FEEDBACK_CATEGORIES[1])
    statuses, status_weights = V.FEEDBACK_STATUSES
    status = _choice(rng, n, status_weights)
    resolved_on = received + np.exp(rng.normal(np.log(7 * _DAY_S), 1.0, n)).astype(np.int64)
    late = (status == statuses.index("resolved")) & (resolved_on > end)
    status[late] = statuses.index("processing")  # not resolved yet on as_of
    resolved = status == statuses.index("resolved")
    rated = resolved & (rng.random(n) < 0.65)

    everyone = np.ones(n, dtype=bool)
    rows, error = _assign_errors(rng, n_err, FEEDBACK_ERRORS, {
        kind: resolved if kind in ("resolved_before_received", "satisfaction_out_of_range") else everyone
        for kind in FEEDBACK_ERRORS
    })
    early, bad_time = rows["resolved_before_received"], rows["invalid_received_at"]
    resolved_on[early] = received[early] - rng.integers(1, 10, early.size) * _DAY_S
    out_of_range = rows["satisfaction_out_of_range"]
    rated[out_of_range] = True
    iso = rng.random(n) < 0.3
    satisfaction = _scatter(_take(_TN, _choice(rng, n, V.SATISFACTION_WEIGHTS) + 1), out_of_range,
                            _pick(rng, ["0", "6", "10"], out_of_range.size))
    ward = _where(rng.random(n) < 0.04, _NULL, _take(geo.ward_codes, _choice(rng, n, geo.ward_weights)))
    channel = _take(pa.array(V.FEEDBACK_CHANNELS[0]), _choice(rng, n, V.FEEDBACK_CHANNELS[1]))
    feedback_id = _join("PA", _take(_TN, _ymd(received // _DAY_S)[0]), "-", _padded(np.arange(1, n + 1), 6))
    summary_start, summaries = V.FEEDBACK_SUMMARIES
    records = pa.table({
        "feedback_id": feedback_id,
        "received_at": _scatter(_timestamps(received, iso=iso), bad_time,
                                _pick(rng, V.BAD_DATETIME_TEXTS, bad_time.size)),
        "channel": _scatter(channel, rows["unknown_channel"],
                            _pick(rng, ["facebook", "tiktok"], rows["unknown_channel"].size)),
        "category": _scatter(_take(pa.array(V.FEEDBACK_CATEGORIES[0]), category), rows["unknown_category"],
                             pa.repeat("traffic", rows["unknown_category"].size)),
        "ward_code": _scatter(ward, rows["unknown_ward"], pa.repeat("99999", rows["unknown_ward"].size)),
        "status": _take(pa.array(statuses), status),
        "resolved_at": _where(resolved, _timestamps(resolved_on, iso=iso), _NULL),
        "satisfaction": _where(rated, satisfaction, _NULL),
        "summary": _take(summaries, summary_start[category] + rng.integers(0, 2, n)),
    })
    return Sample(records=records, truth=pa.table({"feedback_id": feedback_id, "error": error}))


# --- relief -------------------------------------------------------------------------------------------------


def generate_relief(
    n: int, *, seed: int = 7, error_rate: float = 0.02, people: pa.Table | None = None, as_of: date = AS_OF,
) -> Sample:
    """Donations received and support given in the relief campaigns, by date.

    Beneficiaries are adults of ``people`` (or of a fresh population) living in the campaign's provinces;
    donors are companies, schools, parishes and people from anywhere.

    Returns:
        records (``RELIEF_COLUMNS``; ``note`` is free text the hub ignores) and truth: record_id, person_id
        (the person of ``people`` who gave or received; null for organisations) and error (one of
        ``RELIEF_ERRORS`` or null).
    """
    rng = _rng(seed, 4)
    geo = V.geography()
    n_err = _rate_count(n, error_rate, "error_rate")
    if people is None:
        people = generate_people(max(4 * n, 2000), seed=seed + 1, min_age=18, max_age=90, as_of=as_of)
    campaign = _choice(rng, n, [c.weight for c in V.CAMPAIGNS])
    donor = rng.random(n) < 0.45
    day, person_rows = _relief_days_and_people(rng, people, campaign, donor, as_of)
    order = np.lexsort((rng.random(n), day))  # the export lists transactions by date
    campaign, donor, day, person_rows = campaign[order], donor[order], day[order], person_rows[order]
    person = people.take(pa.array(person_rows))
    is_org = donor & (rng.random(n) < 0.4)
    household = ~donor & (rng.random(n) < 0.12)
    name = person.column("full_name").combine_chunks()
    title = pc.if_else(pc.equal(person.column("sex"), "F"), "Hộ bà ", "Hộ ông ")
    company = _join(_pick(rng, V.DONOR_KINDS, n), " ", _pick(rng, V.COMPANY_NAMES, n))
    party = _where(is_org, company, _where(household, _join(title, name), name))
    id_number = _where(~donor & (rng.random(n) < 0.6), person.column("id_number").combine_chunks(), _NULL)
    ward = _where(is_org, _take(geo.ward_codes, _choice(rng, n, geo.ward_weights)),
                  person.column("ward_code").combine_chunks())
    amount = _relief_amounts(rng, donor, is_org)

    has_id = pc.is_valid(id_number).to_numpy(zero_copy_only=False)
    everyone = np.ones(n, dtype=bool)
    rows, error = _assign_errors(rng, n_err, RELIEF_ERRORS, {
        kind: has_id if kind == "invalid_id_number" else everyone for kind in RELIEF_ERRORS
    })
    not_number, not_positive = rows["amount_not_a_number"], rows["amount_not_positive"]
    amount_text = _where(rng.random(n) < 0.4, _dotted(amount), pc.cast(pa.array(amount), pa.string()))
    amount_text = _scatter(amount_text, not_number, _pick(rng, V.BAD_AMOUNT_TEXTS, not_number.size))
    amount_text = _scatter(amount_text, not_positive, _pick(rng, ["0", "-500000"], not_positive.size))
    y, m, d = _ymd(day)
    d[rows["invalid_transaction_date"]], m[rows["invalid_transaction_date"]] = 30, 2
    bad_id = rows["invalid_id_number"]
    record_id = _join("CT", _padded(np.arange(1, n + 1), 6))
    codes, organisations = pa.array([c.code for c in V.CAMPAIGNS]), pa.array(V.RELIEF_ORGANISATIONS[0])
    records = pa.table({
        "record_id": record_id,
        "campaign": _scatter(_take(codes, campaign), rows["unknown_campaign"],
                             pa.repeat("BAO-SO-3", rows["unknown_campaign"].size)),
        "role": _where(donor, "donor", "beneficiary"),
        "party_name": party,
        "id_number": _scatter(id_number, bad_id, pc.utf8_slice_codeunits(_take(id_number, bad_id), 0, 10)),
        "organisation": _take(organisations, _choice(rng, n, V.RELIEF_ORGANISATIONS[1])),
        "ward_code": _scatter(ward, rows["unknown_ward"], pa.repeat("99999", rows["unknown_ward"].size)),
        "amount_vnd": amount_text,
        "transaction_date": _dmy(y, m, d),
        "note": _where(donor, _take(pa.array([c.donor_note for c in V.CAMPAIGNS]), campaign),
                       _take(pa.array([c.support_note for c in V.CAMPAIGNS]), campaign)),
    })
    person_id = _where(is_org, _NULL, person.column("person_id").combine_chunks())
    truth = pa.table({"record_id": record_id, "person_id": person_id, "error": error})
    return Sample(records=records, truth=truth)


def _relief_days_and_people(
    rng: np.random.Generator, people: pa.Table, campaign: np.ndarray, donor: np.ndarray, as_of: date
) -> tuple[np.ndarray, np.ndarray]:
    """A day within the campaign; an adult of its provinces (beneficiary) or of anywhere (donor)."""
    geo = V.geography()
    n = campaign.size
    where = pc.index_in(people.column("ward_code"), value_set=geo.ward_codes).to_numpy(zero_copy_only=False)
    province = geo.province_codes[geo.ward_province[where.astype(np.int64)]]
    adult = _age(_days_of(people.column("date_of_birth")), as_of) >= 18
    day = np.zeros(n, dtype=np.int64)
    person = np.zeros(n, dtype=np.int64)
    for c, spec in enumerate(V.CAMPAIGNS):
        rows = np.flatnonzero(campaign == c)
        start, end = _days(spec.start), min(_days(spec.end), _days(as_of))
        day[rows] = start + rng.integers(0, end - start + 1, rows.size)
        helped = rows[~donor[rows]]
        pool = np.flatnonzero(adult & np.isin(province, spec.provinces or geo.province_codes))
        person[helped] = rng.choice(pool, size=helped.size, replace=helped.size > pool.size)
    donors = np.flatnonzero(donor)
    pool = np.flatnonzero(adult)
    person[donors] = rng.choice(pool, size=donors.size, replace=donors.size > pool.size)
    return day, person


def _relief_amounts(rng: np.random.Generator, donor: np.ndarray, is_org: np.ndarray) -> np.ndarray:
    n = donor.size
    company = np.clip(np.round(np.exp(rng.normal(np.log(2e7), 1.2, n)) / 1e6) * 1e6, 1e6, 2e9)
    person = V.DONATION_AMOUNTS[0][_choice(rng, n, V.DONATION_AMOUNTS[1])]
    support = V.SUPPORT_AMOUNTS[0][_choice(rng, n, V.SUPPORT_AMOUNTS[1])]
    return np.where(donor, np.where(is_org, company, person), support).astype(np.int64)


def _dotted(amount: np.ndarray) -> pa.Array:
    """Whole numbers with dots between thousands ("5.000.000"), as Vietnamese write them."""
    groups = [_take(_T3, amount // 10**e % 1000) for e in (9, 6, 3, 0)]
    heads = [_take(_TN, amount // 10**e % 1000) for e in (9, 6, 3, 0)]
    variants = [_join(heads[k], *groups[k + 1:], sep=".") for k in range(4)]
    magnitude = 3 - np.minimum(np.floor(np.log10(np.maximum(amount, 1)) / 3).astype(np.int64), 3)
    return pc.choose(pa.array(magnitude, type=pa.int8()), *variants)
