"""digest.workers: chunks of work in forked processes, results in input order."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, copy_site_to

from digest import site as pipeline
from digest.workers import CHUNKS_PER_JOB, in_chunks

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def pids_and_items(offset: int, chunk: list[object]) -> tuple[int, list[object]]:
    return os.getpid(), [offset + item if isinstance(item, int) else type(item).__name__ for item in chunk]


def test_results_come_back_in_order_from_more_chunks_than_workers() -> None:
    parts = list(in_chunks(pids_and_items, (1000,), list(range(160)), 2, 10))
    assert len(parts) == 2 * CHUNKS_PER_JOB
    assert [item for _, items in parts for item in items] == [1000 + i for i in range(160)]
    assert os.getpid() not in {pid for pid, _ in parts}


def test_items_reach_workers_without_pickling() -> None:
    lock = threading.Lock()  # cannot be pickled: only forking can hand it over
    parts = list(in_chunks(pids_and_items, (0,), [lock] * 20, 2, 10))
    assert [item for _, items in parts for item in items] == ["lock"] * 20


def test_few_items_or_one_job_stay_in_this_process() -> None:
    assert list(in_chunks(pids_and_items, (0,), [1, 2, 3], 2, 10)) == [(os.getpid(), [1, 2, 3])]
    assert list(in_chunks(pids_and_items, (0,), list(range(50)), 1, 10)) == [(os.getpid(), list(range(50)))]


def test_workers_end_on_their_own_not_by_a_signal() -> None:
    """serve turns SIGTERM into KeyboardInterrupt; workers stopped by it printed tracebacks, and one that survived it hung the build."""
    script = (
        "import os, signal\n"
        "from digest.workers import in_chunks\n"
        "signal.signal(signal.SIGTERM, signal.default_int_handler)\n"
        "for _ in range(5):\n"
        "    parts = list(in_chunks(lambda chunk: [os.getpid()] * len(chunk), (), list(range(400)), 2, 10))\n"
        "    assert sum(len(part) for part in parts) == 400\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_page_shapes_hashed_by_workers_equal_those_hashed_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entity hashes the shapes read are keyed by id(): forked workers must find them as the parent made them."""
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 10)  # the sample's pages in chunks, as a large site's are
    source = copy_site_to("sample", tmp_path / "sample")
    alone = pipeline.load_site(pipeline.BuildOptions(source=source, jobs=1, cache=False)).shapes
    shared = pipeline.load_site(pipeline.BuildOptions(source=source, jobs=2, cache=False)).shapes
    assert len(alone) > 100
    assert shared == alone
