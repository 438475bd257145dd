"""The task-instance hostname of a scale-test worker: ``[core] hostname_callable`` of each ``airflow celery worker``.

Why: the two workers of ``make scale-test`` share one machine, so Airflow's default (the FQDN) would record the same
host for both and the test could not tell which worker ran a task. On real machines the FQDN differs already.
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("LIENTHONG_SCALE_WORKER_NAME") or socket.getfqdn()
