"""Liên Thông: a data-integration hub for the Vietnam Fatherland Front and its member organisations."""

import warnings

__version__ = "0.1.0"

# Great Expectations imports pyspark when it is installed (the `spark` extra), and pyspark warns on stderr about
# pandas 3 at import even where no Spark runs: a clerk's `check` must not print it. The Spark path itself is
# checked against DuckDB by `make scale-test`.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
