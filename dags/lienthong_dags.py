"""Liên Thông's DAGs: one per source in the registry (``sync__<source>``), ``publish__<dataset>``, ``open_data``.

Thin on purpose: the factory in ``lienthong.orchestration`` does the wiring; the registry folder comes from
``LIENTHONG_SOURCES_DIR`` (default: the project's ``sources/``). Parsing reads the YAML files only, no database.
Airflow's safe-mode DAG discovery looks for the words "airflow" and "dag" in this file: keep them.
"""

from lienthong.orchestration.factory import build_dags
from lienthong.registry import load_registry
from lienthong.settings import get_settings

globals().update(build_dags(load_registry(get_settings().sources_dir).values()))
