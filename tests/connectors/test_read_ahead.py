"""connectors.read_ahead: the next batch is read while the caller holds this one, never more than one ahead; the
order and the place of an error are as without it."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.read_ahead import read_ahead


def _counted(n: int, pulled: list[int], *, fail_at: int | None = None):  # noqa: ANN202 - a generator of ints
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"bad item {i}")
        pulled.append(i)
        yield i


def _settle(pulled: list[int], at_least: int) -> None:
    """Wait until the pump has read ``at_least`` items (it runs on its own thread), or a second has passed."""
    deadline = time.monotonic() + 1.0
    while len(pulled) < at_least and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # and a moment more, in which a pump reading too far would read further


def test_items_come_in_order_and_at_most_one_is_read_ahead() -> None:
    pulled: list[int] = []
    seen = []
    for item in read_ahead(_counted(6, pulled)):
        _settle(pulled, min(item + 2, 6))
        assert len(pulled) == min(item + 2, 6)  # the one held and the next, never more
        seen.append(item)
    assert seen == list(range(6))


def test_an_error_reaches_the_caller_after_the_items_before_it() -> None:
    pulled: list[int] = []
    seen = []
    with pytest.raises(ValueError, match="bad item 3"):
        for item in read_ahead(_counted(6, pulled, fail_at=3)):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_a_caller_that_stops_early_stops_the_reading() -> None:
    pulled: list[int] = []
    items = read_ahead(_counted(100, pulled))
    assert next(items) == 0
    items.close()
    time.sleep(0.1)
    assert len(pulled) <= 2
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())
