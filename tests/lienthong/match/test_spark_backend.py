"""A saved model's DuckDB SQL, rewritten for Spark (the real Spark runs are in `make scale-test`).

Without the rewrite, Spark reads ``"given_l"`` as a string constant: every level compares two constants and Splink
finds no exact-match level for the term-frequency adjustments (it raised on the first Spark run).
"""

from __future__ import annotations

import json

import sqlglot
from splink.internals.comparison_level import ComparisonLevel
from splink.internals.dialects import SplinkDialect
from sqlglot import exp

from lienthong.match.run import MatchResult
from lienthong.match.spark_backend import settings_for_spark


def _conditions(settings: dict) -> list[str]:
    return [level["sql_condition"] for c in settings["comparisons"] for level in c["comparison_levels"]]


def test_a_duckdb_model_is_rewritten_in_spark_sql(matched: MatchResult) -> None:
    duckdb_model = matched.model.settings
    spark_model = settings_for_spark(duckdb_model)
    assert spark_model["sql_dialect"] == "spark" and duckdb_model["sql_dialect"] == "duckdb"  # a copy, not edited
    conditions = _conditions(spark_model)
    assert len(conditions) == len(_conditions(duckdb_model))
    assert not any('"' in c for c in conditions)  # no identifier left in double quotes
    assert "`given_l` = `given_r`" in conditions
    assert "JARO_WINKLER(`given_l`, `given_r`) >= 0.92" in conditions  # Splink's Spark name, not DuckDB's
    assert any(c.startswith("id_kind_l = id_kind_r AND DAMERAU_LEVENSHTEIN(") for c in conditions)
    rules = [r["blocking_rule"] for r in spark_model["blocking_rules_to_generate_predictions"]]
    assert "l.`id_number` = r.`id_number`" in rules
    assert json.dumps(spark_model) == json.dumps(settings_for_spark(spark_model))  # already Spark: unchanged


def test_spark_reads_the_rewritten_exact_match_level_as_two_columns(matched: MatchResult) -> None:
    duckdb_given = next(c for c in matched.model.settings["comparisons"] if c["output_column_name"] == "given")
    spark_given = next(c for c in settings_for_spark(matched.model.settings)["comparisons"]
                       if c["output_column_name"] == "given")
    exact = spark_given["comparison_levels"][1]["sql_condition"]
    level = ComparisonLevel(sql_condition=exact, sql_dialect=SplinkDialect.from_string("spark"))
    assert level._exact_match_colnames == ["given"]  # noqa: SLF001 - what the term-frequency adjustment looks up
    untranslated = sqlglot.parse_one(duckdb_given["comparison_levels"][1]["sql_condition"], read="spark")
    assert isinstance(untranslated.this, exp.Literal)  # what broke the first Spark run: two string constants
