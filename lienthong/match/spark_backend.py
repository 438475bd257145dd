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
