"""Read the next batch while the runner works on this one: a file's next part is parsed (pyarrow, mostly outside the
interpreter's lock) while the part before it lands and is checked.

At most one batch is read ahead of the one the caller holds, so memory stays bounded by two parts. An exception of the
connector reaches the caller where it happened: after the batches read before it, as without read-ahead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from queue import Queue
from typing import TypeVar

T = TypeVar("T")
_ITEM, _ERROR, _END = "item", "error", "end"


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items`` in order, each next one read by a thread while the caller works on the one it was given."""
    ready: Queue = Queue()
    wanted = threading.Semaphore(2)  # the item the caller holds and the one read ahead of it
    stopped = threading.Event()

    def pump() -> None:
        try:
            while True:
                wanted.acquire()
                if stopped.is_set():
                    return
                try:
                    item = next(items)
                except StopIteration:
                    ready.put((_END, None))
                    return
                ready.put((_ITEM, item))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            ready.put((_ERROR, exc))

    thread = threading.Thread(target=pump, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
            wanted.release()  # the caller is done with it: read one more
    finally:
        stopped.set()
        wanted.release()  # a pump waiting for a permit wakes, sees the stop and ends
