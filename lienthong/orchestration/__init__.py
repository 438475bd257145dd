"""Airflow glue: the DAG factory (:mod:`.factory`), the task bodies (:mod:`.tasks`), the assets (:mod:`.assets`).

Why a package and not code in ``dags/``: the DAG file stays one import and one call, tests import the same
factory, and the image that pip-installs the project carries it. Nothing here computes anything: each task body
opens the hub, calls one idempotent engine function and logs what it did. Importing this package needs
Apache Airflow (the ``airflow`` extra); the rest of the hub never imports it.
"""
