#!/usr/bin/env python3
"""CPU time of story grouping: ``python bench/stories.py --articles 10000 --runs 3``.

Writes a synthetic site (bench/synth.py) into a temporary folder, reads its
articles once, then measures with ``time.process_time`` (CPU time of this
process, steadier than wall time on a shared machine), as the median of --runs:

* ``group_stories``: grouping alone, at the site's settings;
* ``build_index``: the whole index stage, with grouping by likeness on (the
  default ``story_window_days``) and off (``story_window_days: 0``), whose
  difference is what grouping adds to a cold build.

Prints one line per measure: ``measure=<name> n=<articles> median_cpu_s=<x>``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from synth import make_site  # noqa: E402

from digest.config import load_config  # noqa: E402
from digest.content import load_articles  # noqa: E402
from digest.index import build_index  # noqa: E402
from digest.stories import group_stories  # noqa: E402


def cpu(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_site(root, args.articles, share_images=False)
        config, _ = load_config(root)
        articles, _ = load_articles(config, datetime.fromtimestamp(1800000000, tz=UTC))
    n = len(articles)
    groups = group_stories(articles, config.story_window_days, config.story_similarity / 100)
    found = [g for g in groups if g.joins]
    print(f"stories={len(groups)} found_by_likeness={len(found)} reports_in_found={sum(len(g.paths) for g in found)}", flush=True)
    measures = {
        "group_stories": lambda: group_stories(articles, config.story_window_days, config.story_similarity / 100),
        "build_index": lambda: build_index(config, articles),
        "build_index_ids_only": lambda: build_index(replace(config, story_window_days=0), articles),
    }
    for name, work in measures.items():
        print(f"measure={name} n={n} median_cpu_s={cpu(args.runs, work):.3f}", flush=True)


if __name__ == "__main__":
    main()
