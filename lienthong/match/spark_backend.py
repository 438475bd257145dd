"""Splink on Spark (``backend: spark``): the session, with Splink's similarity functions on it.

Why a module of its own: pyspark is an optional dependency (the ``spark`` extra), needed only by deployments whose
registry outgrows one machine (docs/match.md, "Spark, for national scale"); nothing else imports it.

The session is Spark's usual one (``SparkSession.builder.getOrCreate()``, so ``spark-defaults.conf`` and
``PYSPARK_SUBMIT_ARGS`` apply) with these additions: the master from ``LIENTHONG_SPARK_MASTER`` when it is set
(e.g. ``spark://10.0.0.5:7077``; unset: Spark's default, ``local[*]``), Splink's jar of Scala similarity functions
(Jaro-Winkler, Damerau-Levenshtein: the comparisons of :mod:`lienthong.match.model` use them), Arrow transfers
between Spark and pyarrow, and a checkpoint folder (``LIENTHONG_SPARK_CHECKPOINT_DIR``), where Splink writes the
large intermediate tables as Parquet to cut Spark's lineage: on a cluster of several machines it must be storage
they all reach. Features go to Spark as Arrow tables and scored pairs come back the same way (Spark 4),
so the rest of the match stage — vetoes, clustering, entity ids — is the same code whatever the backend.
"""

from __future__ import annotations

import copy
import re
import sys
from typing import Any

from lienthong.errors import ConfigError
from lienthong.settings import get_settings


def spark_session() -> Any:
    """The running Spark session, or a new one set up for Splink (see the module docstring).

    Raises:
        ConfigError: pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        msg = ("backend: spark needs pyspark: pip install 'lienthong[spark]' (Java 17 must be installed), or use "
               "backend: duckdb")
        raise ConfigError(msg, message_vi="Chế độ spark cần cài pyspark (pip install 'lienthong[spark]')") from None
    builder = SparkSession.builder.appName("lienthong-match")
    master = get_settings().spark_master
    if master:
        builder = builder.master(master)
    builder = (builder.config("spark.jars", similarity_jar_location())
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.showConsoleProgress", "false")  # progress bars would fill the CLI's and Airflow's logs
               # executors start this interpreter if a step needs Python (the jar's functions run in the JVM)
               .config("spark.pyspark.python", sys.executable))
    spark = builder.getOrCreate()
    if spark.sparkContext.getCheckpointDir() is None:
        settings = get_settings()
        spark.sparkContext.setCheckpointDir(settings.spark_checkpoint_dir or str(settings.home / "spark-checkpoints"))
    return spark


def spark_api() -> Any:
    """Splink's database API over :func:`spark_session`."""
    from splink import SparkAPI

    return SparkAPI(spark_session=spark_session())


# Splink names its similarity functions per dialect; sqlglot does not know Spark's names for them.
_FUNCTION_NAMES = ("levenshtein_function_name", "damerau_levenshtein_function_name", "jaro_function_name",
                   "jaro_winkler_function_name", "jaccard_function_name")


def settings_for_spark(settings: dict[str, Any]) -> dict[str, Any]:
    """A saved model (a Splink settings dict) with its SQL in Spark's dialect.

    Why: a model trained on DuckDB is saved with DuckDB SQL (``"given_l" = "given_r"``,
    ``jaro_winkler_similarity(...)``). Splink does not translate a loaded model: on Spark, double quotes are string
    literals, so every level would compare two constants, the exact-match level that term frequencies need would
    not be found, and the similarity functions would not exist. Each condition is rewritten here: function names
    mapped from the model's dialect to Spark's (from Splink's dialect classes), then transpiled by sqlglot.
    """
    from splink.internals.dialects import SplinkDialect
    from sqlglot import transpile

    source_name = settings.get("sql_dialect") or "duckdb"
    if source_name == "spark":
        return settings
    source, target = SplinkDialect.from_string(source_name), SplinkDialect.from_string("spark")
    names = [(getattr(source, m), getattr(target, m)) for m in _FUNCTION_NAMES]
    renames = [(re.compile(rf"\b{re.escape(old)}\s*\(", re.IGNORECASE), f"{new}(") for old, new in names if old != new]

    def convert(sql: str) -> str:
        if sql.strip().upper() == "ELSE":
            return sql
        for pattern, name in renames:
            sql = pattern.sub(name, sql)
        return transpile(sql, read=source.sqlglot_dialect, write="spark")[0]

    out = copy.deepcopy(settings)
    out["sql_dialect"] = "spark"
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = convert(level["sql_condition"])
    for key in ("blocking_rules_to_generate_predictions", "deterministic_rules"):
        for rule in out.get(key) or []:
            if isinstance(rule, dict):
                rule["blocking_rule"] = convert(rule["blocking_rule"])
                rule["sql_dialect"] = "spark"
    return out
