"""``make scale-test``: the engines users scale to, run for real on this machine; one summary line per engine.

    python scripts/scale_test [--engine airflow|spark|all] [--keep DIR]

Exit status 0 when every check passed; otherwise the failed check and the last lines of each service's log.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from services import ScaleTestError


def main() -> int:
    parser = argparse.ArgumentParser(prog="scale-test", description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("airflow", "spark", "all"), default="all")
    parser.add_argument("--workdir", type=Path, help="keep logs and data here (default: a temp folder, removed)")
    args = parser.parse_args()
    # a SIGTERM (pytest's timeout, a CI cancel) unwinds like Ctrl-C: every started process is stopped, databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="lienthong-scale-") as tmp:
        workdir = args.workdir or Path(tmp)
        lines = []
        try:
            if args.engine in ("airflow", "all"):
                from celery_run import run_celery

                lines.append(run_celery(workdir / "airflow"))
                print(lines[-1], flush=True)
            if args.engine in ("spark", "all"):
                from spark_run import run_spark

                lines.append(run_spark(workdir / "spark"))
                print(lines[-1], flush=True)
        except ScaleTestError as exc:
            print(f"scale-test FAILED: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
