"""What a person sees when the CLI meets an error nobody foresaw: one line and where the traceback is.

The traceback goes to ``<home>/logs/cli-errors.log`` (appended, with the time and the command line), for the
hub's maintainers; ``lienthong --debug …`` prints it instead.
"""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from pathlib import Path

from lienthong.cli.console import err_console


def report_crash(exc: BaseException) -> Path | None:
    """Write ``exc``'s traceback to the log and print one line, Vietnamese first, naming the log.

    Returns:
        The log file, or None when even the log could not be written (the line says so).
    """
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    log = _write_log(exc)
    where_vi = f"chi tiết ghi ở {log}" if log else "không ghi được tệp nhật ký"
    where_en = f"details in {log}" if log else "the log could not be written"
    err_console.print(f"[red]lỗi:[/] lệnh dừng vì một lỗi không lường trước ({what}); {where_vi}. "
                      "Hãy gửi tệp này cho người quản trị, hoặc chạy lại với --debug.", highlight=False, soft_wrap=True)
    err_console.print(f"[bold red]error:[/] unexpected {what}; {where_en} (run again with --debug to see the "
                      "traceback)", highlight=False, soft_wrap=True)
    return log


def _write_log(exc: BaseException) -> Path | None:
    try:
        from lienthong.settings import get_settings

        folder = get_settings().home / "logs"
    except Exception:  # noqa: BLE001 - the settings themselves may be what failed
        folder = Path("var") / "logs"
    log = folder / "cli-errors.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            fh.write(f"--- {at} lienthong {' '.join(sys.argv[1:])}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return log.resolve()
