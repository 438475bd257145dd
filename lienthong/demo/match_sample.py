"""Seeded person-level benchmark data for matching: member records of several organisations, with the truth.

Why: entity resolution is only measurable against a known answer, and only honest with the cases that break it.
The population comes from :func:`lienthong.demo.generator.generate_people`; on top of it this module adds the
**hard negatives** real registries are full of —

* relatives: the same family name, ward, street address and household phone, another given name and birth date;
* twins: all of that *and* the same date of birth and middle name;
* namesakes: the same full name and sex in the same ward (sometimes the same birth year), nothing else shared —

and then writes each person into one or more organisations' registries (a membership in several organisations,
or the same person registered twice in one), with the noise clerks add: capitals, names without diacritics or in
reversed order, a typo in the given name, a dropped middle name, dates as d/m/yyyy, ISO, year only, with day and
month swapped or one digit wrong, ID numbers missing, spaced, without their leading zero or the old 9-digit CMND,
phones in every written form or changed, a move to another ward, and (for the ``email`` role) an e-mail address
built from the name — a correlated field that misleads EM if it is trusted.

Every value is a string, as a file sends it. Same arguments, same tables.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.text import map_distinct
from lienthong.demo import generator as G
from lienthong.demo import vocabulary as V
from lienthong.vietnamese.folding import without_diacritics

COLUMNS = ("record_id", "organisation", "member_id", "full_name", "sex", "date_of_birth", "id_number", "phone",
           "ward_code", "address", "email")
ORGANISATIONS = ("HLHPN", "HND", "DTN", "HCCB", "HNCT", "HCTD")
RECORDS_PER_PERSON = (0.62, 0.26, 0.09, 0.03)  # 1, 2, 3, 4 records: ~1.5 records per person
SAME_ORG_SHARE = 0.3  # of a person's further records, those in an organisation already holding one


@dataclass(frozen=True)
class MatchSample:
    """``records`` (``COLUMNS``, strings) and ``truth`` (record_id, person_id, kind of the person)."""

    records: pa.Table
    truth: pa.Table


def generate_match_sample(n_records: int, *, seed: int = 11) -> MatchSample:
    """About ``n_records`` member records of ~n/1.5 people across ``ORGANISATIONS``, with the truth.

    Args:
        n_records: target number of records (the exact count differs by a fraction of a percent).
        seed: same seed, same tables.

    Returns:
        A :class:`MatchSample`; ``truth.kind`` is ``person``, ``relative``, ``twin`` or ``namesake``.
    """
    rng = np.random.default_rng([99, seed])
    n_people = max(int(n_records / _mean_records()), 10)
    people = G.generate_people(n_people, seed=seed, min_age=16, max_age=90)
    people, kind = _hard_negatives(rng, people)
    copies = 1 + _choice(rng, n_people, RECORDS_PER_PERSON)
    person = np.repeat(np.arange(n_people), copies)
    first = np.r_[True, person[1:] != person[:-1]]
    order = rng.permutation(person.size)  # registries list people in no particular order
    person, first = person[order], first[order]
    rec = people.take(pa.array(person))
    n = person.size
    org = _organisations(rng, person, first)
    records = pa.table({
        "record_id": G._join("R", G._padded(np.arange(1, n + 1), 8)),
        "organisation": G._take(pa.array(ORGANISATIONS), org),
        "member_id": G._join(G._take(pa.array(ORGANISATIONS), org), "-", G._padded(rng.integers(0, 10**7, n), 7)),
        "full_name": _noisy_names(rng, rec, first),
        "sex": _sexes(rng, rec.column("sex").combine_chunks()),
        "date_of_birth": _noisy_births(rng, rec.column("date_of_birth").combine_chunks(), first),
        "id_number": _noisy_ids(rng, rec.column("id_number").combine_chunks(), rec.column("cmnd").combine_chunks(),
                                first),
        "phone": _noisy_phones(rng, rec.column("phone").combine_chunks(), first),
        **dict(zip(("ward_code", "address"), _moves(rng, rec, first), strict=True)),
        "email": _emails(rng, rec, person),
    })
    truth = pa.table({
        "record_id": records.column("record_id"),
        "person_id": rec.column("person_id"),
        "kind": G._take(pa.array(["person", "relative", "twin", "namesake"]), kind[person]),
    })
    return MatchSample(records=records, truth=truth)


def _mean_records() -> float:
    p = np.asarray(RECORDS_PER_PERSON)
    return float((p * np.arange(1, p.size + 1)).sum() / p.sum())


def _choice(rng: np.random.Generator, n: int, weights: tuple[float, ...] | list[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(p.size, size=n, p=p / p.sum())


# --- the population with its hard negatives ------------------------------------------------------------------


def _hard_negatives(rng: np.random.Generator, people: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """Relatives (8%), twins (1%) and namesakes (4%) of other people; an old CMND for some older people."""
    n = people.num_rows
    role = _choice(rng, n, (0.87, 0.08, 0.01, 0.04))  # person, relative, twin, namesake
    head = rng.integers(0, n, n)
    head = np.where(role[head] == 0, head, np.arange(n))  # copy from plain people only (no chains)
    role = np.where(head == np.arange(n), 0, role)
    col = {name: people.column(name).combine_chunks() for name in people.column_names}

    def copy(name: str, rows: np.ndarray) -> None:
        col[name] = G._scatter(col[name], rows, G._take(col[name], head[rows]))

    household = np.flatnonzero(role == 1) if n else np.zeros(0, np.int64)
    twins, namesakes = np.flatnonzero(role == 2), np.flatnonzero(role == 3)
    for name in ("family_name", "ward_code", "address", "phone"):
        copy(name, np.concatenate([household, twins]))
    for name in ("middle_name", "date_of_birth", "sex"):
        copy(name, twins)
    for name in ("family_name", "middle_name", "given_name", "sex", "ward_code"):
        copy(name, namesakes)
    # A twin keeps their own given name unless it is the twin's: then take another of the same sex.
    same = twins[pc.fill_null(pc.equal(G._take(col["given_name"], twins), G._take(col["given_name"], head[twins])),
                              False).to_numpy(zero_copy_only=False)]
    col["given_name"] = G._scatter(col["given_name"], same, G._pick(rng, V.GIVEN.values, same.size))
    # Namesakes: half born the same year as the one they share a name with.
    near = namesakes[rng.random(namesakes.size) < 0.5]
    dob = G._days_of(col["date_of_birth"])
    dob[near] = G._civil_days(G._ymd(dob[head[near]])[0], *G._ymd(dob[near])[1:])
    col["date_of_birth"] = pa.array(dob.astype("datetime64[D]"), type=pa.date32())
    year = G._ymd(dob)[0]
    ids = col["id_number"]
    # Twins and relatives get their own consistent CCCD: same place code, their sex/century and birth year.
    fix = np.concatenate([twins, near, household])
    female = pc.equal(col["sex"], "F").to_numpy(zero_copy_only=False)
    cccd = G._join(pc.utf8_slice_codeunits(G._take(ids, fix), 0, 3),
                   G._take(G._T1, (year[fix] >= 2000) * 2 + female[fix]), G._take(G._T2, year[fix] % 100),
                   G._digits(rng, fix.size, 6))
    has_cccd = pc.fill_null(pc.equal(pc.utf8_length(G._take(ids, fix)), 12), False).to_numpy(zero_copy_only=False)
    ids = G._scatter(ids, fix[has_cccd], cccd.filter(pa.array(has_cccd)))
    middle = col["middle_name"]
    full = pc.coalesce(G._join(col["family_name"], middle, col["given_name"], sep=" "),
                       G._join(col["family_name"], col["given_name"], sep=" "))
    old = (year < 1990) & (rng.random(n) < 0.3)  # had a CMND before the CCCD; some registries still hold it
    cmnd = G._where(old, G._join(G._take(G._T2, rng.integers(1, 39, n)), G._digits(rng, n, 7)), G._NULL)
    table = pa.table({**col, "full_name": full, "id_number": ids, "date_of_birth": col["date_of_birth"],
                      "cmnd": cmnd})
    return table, role


# --- organisations and noise ---------------------------------------------------------------------------------


def _organisations(rng: np.random.Generator, person: np.ndarray, first: np.ndarray) -> np.ndarray:
    """One organisation per record; a person's further records go to another one, or (30%) the same again."""
    org = rng.integers(0, len(ORGANISATIONS), person.size)
    home = np.zeros(int(person.max(initial=0)) + 1, dtype=np.int64)
    home[person[first]] = org[first]
    again = ~first & (rng.random(person.size) < SAME_ORG_SHARE)
    org[again] = home[person[again]]
    return org


def _noisy_names(rng: np.random.Generator, rec: pa.Table, first: np.ndarray) -> pa.Array:
    n = rec.num_rows
    family, middle, given = (rec.column(c).combine_chunks() for c in ("family_name", "middle_name", "given_name"))
    later = ~first
    typo = np.flatnonzero(later & (rng.random(n) < 0.03))
    given = G._scatter(given, typo, pa.array([_typo(rng, g) for g in G._take(given, typo).to_pylist()]))
    drop_middle = later & (rng.random(n) < 0.04)
    middle = G._where(drop_middle, G._NULL, middle)
    normal = pc.coalesce(G._join(family, middle, given, sep=" "), G._join(family, given, sep=" "))
    reversed_ = pc.coalesce(G._join(given, family, middle, sep=" "), G._join(given, family, sep=" "))
    names = G._where(later & (rng.random(n) < 0.03), reversed_, normal)
    style = _choice(rng, n, (0.62, 0.12, 0.08, 0.15, 0.03))  # as is, UPPER, lower, no diacritics, NFD

    def build(s: int, rows: np.ndarray) -> pa.Array:
        x = G._take(names, rows)
        if s == 1:
            return pc.utf8_upper(x)
        if s == 2:
            return pc.utf8_lower(x)
        if s == 3:
            return map_distinct(x, without_diacritics)
        if s == 4:
            return map_distinct(x, lambda t: unicodedata.normalize("NFD", t))
        return x

    return G._grouped(style, build)


def _typo(rng: np.random.Generator, word: str) -> str:
    """One letter of the word replaced by a neighbouring vowel/consonant, or doubled, or dropped."""
    if len(word) < 3:
        return word + "h"
    i = int(rng.integers(1, len(word)))
    op = int(rng.integers(0, 3))
    if op == 0:
        return word[:i] + word[i - 1] + word[i:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + ("n" if word[i] != "n" else "m") + word[i + 1:]


def _sexes(rng: np.random.Generator, sex: pa.Array) -> pa.Array:
    text = pc.if_else(pc.equal(sex, "F"), "Nữ", "Nam")
    return G._where(rng.random(len(sex)) < 0.02, G._NULL, text)


def _noisy_births(rng: np.random.Generator, dob: pa.Array, first: np.ndarray) -> pa.Array:
    days = G._days_of(dob)
    y, m, d = G._ymd(days)
    n = days.size
    later = ~first
    kind = np.where(later, _choice(rng, n, (0.80, 0.06, 0.04, 0.03, 0.02, 0.05)), 0)
    # 0 d/m/yyyy, 1 ISO, 2 year only, 3 day-month swapped, 4 one digit wrong, 5 missing
    swap = (kind == 3) & (d <= 12) & (d != m)
    kind = np.where((kind == 3) & ~swap, 0, kind)
    d2, m2 = np.where(swap, m, d), np.where(swap, d, m)
    wrong = kind == 4
    d2 = np.where(wrong, np.where(d2 <= 18, d2 + 10, d2 - 10), d2)  # the tens digit of the day
    first_year_only = first & (rng.random(n) < 0.03)
    kind = np.where(first_year_only, 2, kind)
    dmy = G._join(G._take(G._T2, d2), G._take(G._T2, m2), G._take(G._TN, y), sep="/")
    iso = G._join(G._take(G._TN, y), G._take(G._T2, m2), G._take(G._T2, d2), sep="-")
    out = G._where(kind == 1, iso, dmy)
    out = G._where(kind == 2, G._take(G._TN, y), out)
    return G._where(kind == 5, G._NULL, out)


def _noisy_ids(rng: np.random.Generator, ids: pa.Array, cmnd: pa.Array, first: np.ndarray) -> pa.Array:
    n = len(ids)
    r = rng.random(n)
    out = G._where((r < 0.2), G._NULL, ids)  # registries often lack the number
    has_cmnd = pc.is_valid(cmnd).to_numpy(zero_copy_only=False)
    out = G._where(has_cmnd & (rng.random(n) < 0.4), cmnd, out)
    style = _choice(rng, n, (0.9, 0.05, 0.05))  # as is, spaced, leading zero lost

    def build(s: int, rows: np.ndarray) -> pa.Array:
        x = G._take(out, rows)
        if s == 1:
            return pc.replace_substring_regex(x, r"^(\d{3})(\d{3})(\d+)$", r"\1 \2 \3")
        if s == 2:
            return pc.replace_substring_regex(x, r"^0(\d{11})$", r"\1")
        return x

    return G._grouped(style, build)


def _noisy_phones(rng: np.random.Generator, phones: pa.Array, first: np.ndarray) -> pa.Array:
    n = len(phones)
    changed = ~first & (rng.random(n) < 0.08)
    phones = G._where(changed, G._mobile_numbers(rng, n), phones)
    phones = G._where(rng.random(n) < 0.15, G._NULL, phones)
    return G.render_phones(rng, phones)


def _moves(rng: np.random.Generator, rec: pa.Table, first: np.ndarray) -> tuple[pa.Array, pa.Array]:
    moved = np.flatnonzero(~first & (rng.random(rec.num_rows) < 0.1))
    return G._moved(rng, rec.column("ward_code").combine_chunks(), rec.column("address").combine_chunks(), moved)


def _emails(rng: np.random.Generator, rec: pa.Table, person: np.ndarray) -> pa.Array:
    """For 30% of people an e-mail built from the unaccented name and birth year, as many people make them."""
    n = rec.num_rows
    plain = map_distinct(pc.utf8_lower(rec.column("full_name").combine_chunks()),
                         lambda t: without_diacritics(t).replace(" ", ""))
    year = pc.utf8_slice_codeunits(pc.cast(rec.column("date_of_birth"), pa.string()), 2, 4)
    has = (person * 2654435761 % 1000) < 300  # per person, so all their records agree
    domain = G._take(pa.array(["@gmail.com", "@yahoo.com", "@gmail.com"]), person % 3)
    return G._where(has, G._join(plain, year, domain), G._NULL) if n else pa.array([], pa.string())


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise precision, recall and F1 of clusters against the truth, with the pair counts."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pairwise_scores(record_id: pa.Array, cluster_id: pa.Array, truth: pa.Table) -> PairwiseScores:
    """Score clusters: a pair of records is predicted when in one cluster, true when of one person."""
    from lienthong.match import duck

    con = duck.connect()
    con.register("c", pa.table({"record_id": record_id, "cluster_id": cluster_id}))
    con.register("t", truth.select(["record_id", "person_id"]))
    pairs = "sum(n * (n - 1) // 2)::BIGINT"
    predicted = con.execute(f"SELECT {pairs} FROM (SELECT count(*) n FROM c GROUP BY cluster_id)").fetchone()[0]
    true = con.execute(f"SELECT {pairs} FROM (SELECT count(*) n FROM t GROUP BY person_id)").fetchone()[0]
    correct = con.execute(f"""SELECT {pairs} FROM (SELECT count(*) n FROM c JOIN t USING (record_id)
                              GROUP BY cluster_id, person_id)""").fetchone()[0]
    predicted, true, correct = int(predicted or 0), int(true or 0), int(correct or 0)
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(precision, recall, f1, true, predicted, correct)
