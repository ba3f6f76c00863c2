"""Worker processes: one way to split a list of work between forked processes.

Results come back in the order of the input, so the output does not depend on ``--jobs``. Forking shares what the
parent built (settings, index, the work itself) without pickling it: a worker is sent only where its chunk starts and
stops, and only results travel back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

Part = TypeVar("Part")

CHUNKS_PER_JOB = 16  # a worker that finishes early takes the next chunk, so the workers end together; small chunks wait in memory less
_SHARED: Any = None  # what forked workers run: (work, common, items), set just before the pool forks


def in_chunks(work: Callable[..., Part], common: tuple[Any, ...], items: list[Any], jobs: int, minimum: int) -> Iterator[Part]:
    """``work(*common, chunk)`` for contiguous chunks of *items*, in order, each as soon as one of *jobs* forked workers has done it.

    All run here when *jobs* is 1, the platform cannot fork, or *items* are fewer than *minimum* (workers would cost more than they save).
    """
    if jobs > 1 and len(items) >= minimum:
        import multiprocessing  # here, not at the top: a small rebuild never starts a worker

        if "fork" in multiprocessing.get_all_start_methods():
            global _SHARED
            size = -(-len(items) // (jobs * CHUNKS_PER_JOB))
            bounds = [(start, start + size) for start in range(0, len(items), size)]
            _SHARED = (work, common, items)
            try:
                with multiprocessing.get_context("fork").Pool(min(jobs, len(bounds)), initializer=default_stop) as pool:
                    # At most one chunk a worker ahead of the caller: results it has not taken yet wait in memory.
                    waiting: deque[Any] = deque()
                    for chunk in bounds:
                        waiting.append(pool.apply_async(_run_chunk_at, (chunk,)))
                        if len(waiting) > jobs:
                            yield waiting.popleft().get()
                    while waiting:
                        yield waiting.popleft().get()
                    # Let the workers finish and exit rather than be terminated (SIGTERM) on leaving the block.
                    pool.close()
                    pool.join()
            finally:
                _SHARED = None
            return
    yield work(*common, items)


def _run_chunk_at(bounds: tuple[int, int]) -> Any:
    work, common, items = _SHARED
    return work(*common, items[bounds[0] : bounds[1]])


def default_stop() -> None:
    """A worker process ends at SIGTERM (a pool's terminate, a daemon's at exit), not with the KeyboardInterrupt the command turns
    it into (digest.cli): a pool worker caught idle by one has been seen to survive it, the build then waiting for it forever."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
