"""Worker processes: one way to split a list of work between forked processes.

Results come back in the order of the input, so the output of a build does
not depend on ``--jobs``. Forking shares what the parent already built (the
site's settings, the index) without pickling it for every task.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any, TypeVar

Item = TypeVar("Item")
Part = TypeVar("Part")


def in_chunks(work: Callable[..., Part], common: tuple[Any, ...], items: list[Item], jobs: int, minimum: int) -> list[Part]:
    """``work(*common, chunk)`` for contiguous chunks of *items*, one per worker, in order.

    Runs in this process when *jobs* is 1, when there are fewer than *minimum*
    items (starting workers would cost more than they save) or when the
    platform cannot fork.
    """
    if jobs > 1 and len(items) >= minimum and "fork" in multiprocessing.get_all_start_methods():
        size = -(-len(items) // jobs)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            return pool.starmap(work, [(*common, chunk) for chunk in chunks])
    return [work(*common, items)]
