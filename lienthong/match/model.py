"""The probabilistic model: Splink settings over the comparison columns, training by EM, scoring pairs.

Comparisons (each skipped when its column is empty in the data):

* names — given name (exact with term-frequency adjustment, Jaro-Winkler ≥ 0.92, else), family name and middle
  name (exact with term frequencies, Jaro-Winkler ≥ 0.9, else). Term frequencies make "nguyen" weak evidence and
  a rare given name strong evidence, which is what Vietnamese naming needs; the family name is never a blocking
  key on its own.
* date of birth — exact, day and month swapped, one character apart (a typo), the same year where one side knows
  only the year, else.
* sex; ward (exact, same province, else); phone; CCCD/CMND (exact, one digit apart, two different CCCDs — strong
  evidence against —, else: a CCCD against an old CMND says little); e-mail (exact only, and left out when the
  addresses are built from the names, :func:`lienthong.match.features.email_built_from_names`).
* ``generic`` data (any other locale) has its own set (:func:`_generic_comparisons`): names with a "swapped"
  level and two fuzzy levels, dates with transpositions, postcode, locality, region and the address's words.

Blocking keeps the comparisons per record from growing with the registry as far as names allow: pairs must share
an ID number, a phone, an e-mail, (family and given name, date of birth), (family and middle name, date of birth,
province), (middle and given name, date of birth, province), (date of birth, ward), (full name, ward) or (family and
given name, ward, birth year) — never the family name alone. A block of common names grows with the registry, so
its pairs grow with its square: the earlier set — (given name, date of birth), (family and middle name, date of
birth), (full name, birth year, province), (given and family name, ward) — made 6.4M pairs of 1M generated members
and 628M of 10M (126 per record); this one 1.2M and 108M (22 per record), and reaches the same share of the true
pairs, 1.0000 to four places (`lienthong bench blocking`, docs/BENCHMARKS.md).

Every SQL condition is written for DuckDB and translated by Splink (sqlglot) for another backend, so the same
saved model runs on Spark (docs/match.md).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.exceptions import EMTrainingException

from lienthong.match.config import MatchConfig
from lienthong.match.features import email_built_from_names

log = logging.getLogger(__name__)
EMAIL_FROM_NAMES_LIMIT = 0.3
U_PAIRS = 5e6  # random pairs for the u estimates; the same budget for plain Splink in the benchmark
_D = "duckdb"


@dataclass
class TrainedModel:
    """A Splink model (its settings JSON as a dict) and what the training saw."""

    settings: dict[str, Any]
    notes: list[str]
    training_rows: int


def _present(features: pa.Table) -> set[str]:
    return {name for name in features.column_names if pc.any(pc.is_valid(features.column(name))).as_py()}


def comparisons(present: set[str], locale: str = "vi") -> list[Any]:
    """The comparisons for the columns that have values (see the module docstring)."""
    if locale == "generic":
        return _generic_comparisons(present)
    out: list[Any] = []
    if "given" in present:
        out.append(cl.JaroWinklerAtThresholds("given", [0.92]).configure(term_frequency_adjustments=True))
    for name in ("family", "middle"):
        if name in present:
            out.append(cl.JaroWinklerAtThresholds(name, [0.9]).configure(term_frequency_adjustments=True))
    if "dob_year" in present:
        out.append(_dob_comparison("levenshtein"))
    if "sex" in present:
        out.append(cl.ExactMatch("sex"))
    if "ward" in present:
        out.append(cl.CustomComparison(output_column_name="ward", comparison_levels=[
            cll.NullLevel("ward"),
            cll.ExactMatchLevel("ward"),
            cll.CustomLevel("province_l = province_r", "same province", _D),
            cll.ElseLevel(),
        ]))
    if "id_number" in present:
        out.append(cl.CustomComparison(output_column_name="id_number", comparison_levels=[
            cll.NullLevel("id_number"),
            cll.ExactMatchLevel("id_number"),
            cll.CustomLevel("id_kind_l = id_kind_r AND damerau_levenshtein(id_number_l, id_number_r) <= 1",
                            "one digit apart", _D),
            cll.CustomLevel("id_kind_l = 'cccd' AND id_kind_r = 'cccd'", "two different CCCDs", _D),
            cll.ElseLevel(),
        ]))
    if "phone" in present:
        out.append(cl.ExactMatch("phone"))
    if "email" in present:
        out.append(cl.ExactMatch("email"))
    if "postcode" in present:
        out.append(_postcode_comparison())
    if "locality" in present:
        out.append(cl.ExactMatch("locality"))
    if "address" in present:
        out.append(cl.JaroWinklerAtThresholds("address", [0.9]))
    return out


def _dob_comparison(typo_distance: str) -> Any:
    return cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
        cll.NullLevel("dob_year"),
        cll.ExactMatchLevel("dob"),
        cll.CustomLevel("dob_l = dob_swap_r", "day and month swapped", _D),
        cll.CustomLevel(f"{typo_distance}(dob_l, dob_r) <= 1", "one character apart", _D),
        cll.CustomLevel("(dob_l IS NULL OR dob_r IS NULL) AND dob_year_l = dob_year_r",
                        "same year, one side year only", _D),
        cll.ElseLevel(),
    ])


def _postcode_comparison() -> Any:
    return cl.CustomComparison(output_column_name="postcode", comparison_levels=[
        cll.NullLevel("postcode"), cll.ExactMatchLevel("postcode"),
        cll.CustomLevel("substr(postcode_l, 1, 3) = substr(postcode_r, 1, 3)", "same area", _D),
        cll.ElseLevel(),
    ])


def _name_comparison(name: str, other: str) -> Any:
    """A name part: exact (term frequencies), written in the other name's place (given name and surname swapped,
    a typo allowed), Jaro-Winkler ≥ 0.92 (a typo), ≥ 0.8 (two typos, a short name's typo), else."""
    swapped = (f"jaro_winkler_similarity({name}_l, {other}_r) >= 0.92 "
               f"AND jaro_winkler_similarity({other}_l, {name}_r) >= 0.92")
    return cl.CustomComparison(output_column_name=name, comparison_levels=[
        cll.NullLevel(name),
        cll.ExactMatchLevel(name, term_frequency_adjustments=True),
        cll.CustomLevel(swapped, f"swapped with the {other} name", _D),
        cll.JaroWinklerLevel(name, 0.92),
        cll.JaroWinklerLevel(name, 0.8),
        cll.ElseLevel(),
    ])


def _generic_comparisons(present: set[str]) -> list[Any]:
    """For any locale: Jaro-Winkler on names with swaps, dates with transpositions, words of the address.

    Public person data (FEBRL-like: given name, surname, street number and address lines, suburb, postcode,
    state) has typos anywhere, given name and surname swapped, fields dropped; a surname is as telling as a
    given name, so both get term frequencies and two fuzzy levels.
    """
    out: list[Any] = []
    if "given" in present:
        out.append(_name_comparison("given", "family"))
    if "family" in present:
        out.append(_name_comparison("family", "given"))
    if "middle" in present:
        out.append(cl.JaroWinklerAtThresholds("middle", [0.9]).configure(term_frequency_adjustments=True))
    if "dob_year" in present:
        out.append(_dob_comparison("damerau_levenshtein"))
    if "sex" in present:
        out.append(cl.ExactMatch("sex"))
    if "id_number" in present:
        out.append(cl.CustomComparison(output_column_name="id_number", comparison_levels=[
            cll.NullLevel("id_number"), cll.ExactMatchLevel("id_number"),
            cll.DamerauLevenshteinLevel("id_number", 1), cll.DamerauLevenshteinLevel("id_number", 2),
            cll.ElseLevel(),
        ]))
    for name in ("phone", "email"):
        if name in present:
            out.append(cl.ExactMatch(name))
    if "postcode" in present:
        out.append(_postcode_comparison())
    if "locality" in present:
        out.append(cl.JaroWinklerAtThresholds("locality", [0.9]).configure(term_frequency_adjustments=True))
    if "province" in present:
        out.append(cl.ExactMatch("province"))
    if "address" in present:
        words = "string_split(address_{}, ' ')"
        shared = f"len(list_intersect({words.format('l')}, {words.format('r')}))"
        out.append(cl.CustomComparison(output_column_name="address", comparison_levels=[
            cll.NullLevel("address"), cll.ExactMatchLevel("address"),
            cll.JaroWinklerLevel("address", 0.9),
            cll.CustomLevel(f"{shared} * 2 >= greatest(len({words.format('l')}), len({words.format('r')}))",
                            "half the words or more in common", _D),
            cll.CustomLevel(f"{shared} >= 1", "a word in common", _D),
            cll.ElseLevel(),
        ]))
    return out


_BLOCKING = (
    ("id_number",), ("phone",), ("email",), ("family", "given", "dob"), ("family", "middle", "dob", "province"),
    ("middle", "given", "dob", "province"), ("dob", "ward"), ("family", "middle", "given", "ward"),
    ("given", "family", "ward", "dob_year"), ("given", "family", "postcode"), ("given", "family", "locality"),
)


_GENERIC_BLOCKING = (("family", "dob"), ("dob",), ("given", "family"), ("family", "postcode"),
                     ("given", "postcode"), ("address", "postcode"), ("family", "locality"))
_SWAPPED_NAMES = "l.given = r.family AND l.family = r.given"

def blocking_rules(present: set[str], locale: str = "vi") -> list[Any]:
    """The blocking rules whose columns all have values.

    With ``generic`` data (family names spread out, often no middle name) also (family name, date of birth),
    which catches a typo in the given name — with Vietnamese data that block would hold every Nguyễn born on a
    day, so the middle name is added to it instead —, the date of birth alone, the names with the postcode or
    locality, the address with the postcode, and given name and surname swapped.
    """
    if locale != "generic":
        return [block_on(*cols) for cols in _BLOCKING if set(cols) <= present]
    rules: list[Any] = [block_on(*cols) for cols in (*_BLOCKING, *_GENERIC_BLOCKING) if set(cols) <= present]
    if {"given", "family"} <= present:  # given name and surname swapped
        rules.append(_SWAPPED_NAMES)
    return rules


def settings_for(features: pa.Table, config: MatchConfig) -> tuple[SettingsCreator, list[str]]:
    """Splink settings for ``features``, and notes on what was left out and why."""
    present = _present(features)
    notes = []
    if "email" in present and email_built_from_names(features) > EMAIL_FROM_NAMES_LIMIT:
        present.discard("email")
        notes.append("e-mail left out: most addresses contain the person's names, so they are not independent "
                     "evidence (EM would count the name twice and link namesakes)")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(present, config.locale),
        blocking_rules_to_generate_predictions=blocking_rules(present, config.locale),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )
    return settings, notes


def db_api(backend: str = "duckdb") -> Any:
    """The Splink database API of the backend setting (DuckDB in memory; Spark needs a running session)."""
    if backend == "spark":
        from lienthong.match.spark_backend import spark_api  # pyspark is optional: only national-scale deployments

        return spark_api()
    from splink import DuckDBAPI

    from lienthong.match import duck

    con = duck.connect()
    con.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(con)


def train(features: pa.Table, config: MatchConfig, *, seed: int = 1) -> tuple[TrainedModel, Linker]:
    """Estimate the model on ``features``: λ from deterministic rules, u by random sampling, m by EM and labels.

    m is estimated twice and averaged by Splink: by EM on pairs sharing (given name, date of birth) (generic
    data: the date of birth alone, since given name and surname may be swapped), which fixes the name and date
    comparisons; and by *counting* the levels among the pairs an identity number links (same ID, names and
    birth year not contradicting it), which gives every comparison but the ID its m. The second estimate used
    to be EM on pairs sharing an ID number: nearly all of them are matches, so EM had nothing to separate and
    put the few true matches with a typo into the non-match class, driving every rare level's m to 0 (m of the
    exact level 1.0, of a near match the floor 0.001: a given name with a typo weighed *against* a match).
    """
    settings, notes = settings_for(features, config)
    api = db_api(config.backend)
    linker = Linker(api.register(features), settings, log_level=logging.ERROR)
    present = _present(features)
    generic = config.locale == "generic"
    id_rule = "l.id_number = r.id_number" + ("" if generic else " AND l.id_kind = 'cccd'")
    rules = [r for r in (id_rule, "l.given = r.given AND l.family = r.family AND l.dob = r.dob")
             if ("id_number" in present or "l.id" not in r) and ("dob" in present or "dob" not in r)]
    first = ("dob",) if generic and "dob" in present else \
        (("given", "dob") if {"given", "dob"} <= present else ("family", "given"))
    _check_em_pairs(features, first)
    linker.training.estimate_probability_two_random_records_match(rules, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(*first), estimate_without_term_frequencies=True, max_pairs=1.5e6)
    labels = _id_labelled_pairs(features, generic=generic) if "id_number" in present else None
    if labels is not None and labels.num_rows >= 50:
        _m_from_labels(linker, api, labels)
    else:  # no identity numbers to count on: a second EM session, on the ward or the phone
        second = "phone" if "phone" in present else ("ward" if "ward" in present else "postcode")
        if second in present:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(second), estimate_without_term_frequencies=True, max_pairs=1.5e6)
        notes.append(f"m estimated by EM only (too few records share an ID number): sessions on {first} and "
                     f"{second}")
    settings_dict = _floor_m(linker.misc.save_model_to_json())
    model = TrainedModel(settings=settings_dict, notes=notes, training_rows=features.num_rows)
    return model, linker_for(model, features, config.backend)


def _check_em_pairs(features: pa.Table, columns: tuple[str, ...]) -> None:
    """Raise what Splink's EM would raise, before the u sampling (a minute on a million records) is spent, when no
    two records agree on ``columns``: EM would have no pair to learn from.

    Raises:
        EMTrainingException: no two records share the values of ``columns``.
    """
    from lienthong.match import duck

    con = duck.connect()
    con.register("f", features.select(list(columns)))
    names = ", ".join(f'"{c}"' for c in columns)
    present = " AND ".join(f'"{c}" IS NOT NULL' for c in columns)
    shared = con.sql(f"SELECT count(*) FROM (SELECT {names} FROM f WHERE {present} GROUP BY {names} "
                     "HAVING count(*) > 1)").fetchall()[0][0]
    if not shared:
        msg = f"no two records share {', '.join(columns)}: EM has no record pairs to train on"
        raise EMTrainingException(msg)


def _id_labelled_pairs(features: pa.Table, *, generic: bool) -> pa.Table:
    """Pairs taken as matches to count m on: the same ID number (a CCCD for Vietnamese data), birth years not
    more than one apart, and the given or the family name alike (an ID typed on the wrong person has neither)."""
    from lienthong.match import duck

    con = duck.connect()
    con.register("f", features.select(["unique_id", "id_number", "id_kind", "given", "family", "dob_year"]))
    kind = "" if generic else "AND l.id_kind = 'cccd'"
    return con.sql(f"""SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r FROM f l JOIN f r
        ON l.id_number = r.id_number AND l.unique_id < r.unique_id {kind}
        WHERE coalesce(abs(l.dob_year - r.dob_year) <= 1, true)
          AND (coalesce(jaro_winkler_similarity(l.given, r.given) >= 0.8, false)
               OR coalesce(jaro_winkler_similarity(l.family, r.family) >= 0.8, false)
               OR coalesce(l.given = r.family AND l.family = r.given, false))
        USING SAMPLE 200000 ROWS""").to_arrow_table()


def _m_from_labels(linker: Linker, api: Any, labels: pa.Table) -> None:
    """m of every comparison but the ID number, counted among ``labels`` (the ID comparison's levels are held
    fixed meanwhile: among pairs chosen for sharing an ID its m would be 1)."""
    id_levels = [level for c in linker._settings_obj.comparisons  # noqa: SLF001 - no public way to fix m per level
                 if c.output_column_name == "id_number" for level in c._comparison_levels_excluding_null]  # noqa: SLF001
    for level in id_levels:
        level._fix_m_probability = True  # noqa: SLF001
    try:
        linker.training.estimate_m_from_pairwise_labels(api.register(labels))
    finally:
        for level in id_levels:
            level._fix_m_probability = False  # noqa: SLF001


M_FLOOR = 1e-3


def _floor_m(settings: dict[str, Any]) -> dict[str, Any]:
    """No level is impossible among true matches: m at least ``M_FLOOR`` (also where EM saw no example).

    EM gives m = 0 to a level its training pairs never showed (a date of birth that disagrees, among pairs that
    share an ID number), which would make that level's weight undefined and Splink ignore it: the floor keeps
    such a disagreement strong evidence against a match, but finite, since a clerk's typo can cause it.
    """
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            if m is None or m < M_FLOOR:
                level["m_probability"] = M_FLOOR
    return settings


def linker_for(model: TrainedModel | dict[str, Any], features: pa.Table, backend: str = "duckdb") -> Linker:
    """A linker over ``features`` with a saved model's parameters."""
    settings = model.settings if isinstance(model, TrainedModel) else model
    api = db_api(backend)
    if backend == "spark":
        from lienthong.match.spark_backend import settings_for_spark  # a saved model's SQL is DuckDB's

        settings = settings_for_spark(settings)
    return Linker(api.register(features), settings, log_level=logging.ERROR)


_EDGE_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]


def predict(linker: Linker, threshold: float) -> pa.Table:
    """Scored pairs at or above ``threshold`` (probability) over the linker's records."""
    scored = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    return _edges(scored)


def predict_new(linker: Linker, existing: pa.Table, new: pa.Table, threshold: float) -> pa.Table:
    """Pairs within ``new`` and between ``new`` and ``existing`` (never within ``existing``).

    Term frequencies are those of the linker's records (the registry at training or at the last full run),
    registered so that scoring does not recompute them from the whole registry.
    """
    api = linker._db_api  # noqa: SLF001 - the linker owns the connection the tables must live in
    left, right = api.register(existing), api.register(new)
    within = linker.inference.predict_within(right, threshold_match_probability=threshold, warning_mode="never")
    between = linker.inference.predict_between(left, right, threshold_match_probability=threshold,
                                               warning_mode="never")
    return pa.concat_tables([_edges(within), _edges(between)])


def register_term_frequencies(linker: Linker, features: pa.Table, counted: dict[str, pa.Table] | None = None) -> None:
    """Register the term-frequency tables of the model's TF columns, computed from ``features`` plus, when given,
    the values already ``counted`` elsewhere (per column: ``value``, ``n``; the registry's, counted by DuckDB)."""
    api = linker._db_api  # noqa: SLF001
    for column in ("given", "family", "middle"):
        if column not in features.column_names:
            continue
        counts = pc.value_counts(features.column(column).drop_null())
        values, n = counts.field("values"), pc.cast(counts.field("counts"), pa.int64())
        if counted and column in counted:
            both = pa.table({"value": pa.concat_arrays([values, counted[column].column("value").combine_chunks()]),
                             "n": pa.concat_arrays([n, pc.cast(counted[column].column("n"), pa.int64())
                                                    .combine_chunks()])}).group_by("value").aggregate([("n", "sum")])
            values, n = both.column("value"), both.column("n_sum")
        total = max(pc.sum(n).as_py() or 0, 1)
        tf = pa.table({column: values, f"tf_{column}": pc.divide(pc.cast(n, pa.float64()), total)})
        linker.table_management.register_term_frequency_lookup(api.register(tf), column)


def _edges(scored: Any) -> pa.Table:
    table = scored.as_pyarrow_table().select(_EDGE_COLUMNS)
    scored.drop_table_from_database_and_remove_from_cache()
    return table


def match_weights(model: TrainedModel | dict[str, Any]) -> list[dict[str, Any]]:
    """Per comparison level: its label, m, u and match weight (log2 m/u), for the report and its checks."""
    settings = model.settings if isinstance(model, TrainedModel) else model
    rows = []
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append({"comparison": comparison["output_column_name"], "level": level.get("label_for_charts"),
                         "m": m, "u": u, "weight": weight})
    return rows
