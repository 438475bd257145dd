"""Moved to :mod:`lienthong.orchestration.airflow_trigger` (issue 13); this import path stays for one release."""

from lienthong.orchestration.airflow_trigger import AirflowTriggerError, dag_id, trigger_via_airflow

__all__ = ["AirflowTriggerError", "dag_id", "trigger_via_airflow"]
