#!/usr/bin/env python3
"""Time the pure-Python stages of a build in one process:
``python bench/stages.py --site SITE --runs 3``.

Loads the site's config, then times, as the median of --runs runs each,
reading and validating every article (``load_articles``), building the whole
index (``build_index``) and ranking related stories alone (``rank_related``).
Prints one line per stage::

    stage=<name> n=<articles> median_s=<x>
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digest.config import load_config  # noqa: E402
from digest.content import load_articles  # noqa: E402
from digest.index import build_index, rank_related  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="site folder (with site.yaml and content/)")
    parser.add_argument("--runs", type=int, default=3, help="runs per stage; the median is printed")
    args = parser.parse_args()
    config, problems = load_config(args.site.resolve())
    if any(p.is_error for p in problems):
        sys.exit("\n".join(str(p) for p in problems))
    now = datetime.fromtimestamp(1800000000, tz=UTC)  # as with SOURCE_DATE_EPOCH=1800000000

    timings: dict[str, list[float]] = {"load_articles": [], "build_index": [], "rank_related": []}
    articles = []
    for _ in range(args.runs):
        started = time.perf_counter()
        articles, _ = load_articles(config, now)
        timings["load_articles"].append(time.perf_counter() - started)
    for _ in range(args.runs):
        started = time.perf_counter()
        build_index(config, articles)
        timings["build_index"].append(time.perf_counter() - started)
    current = [a for a in articles if not a.expired]
    for _ in range(args.runs):
        started = time.perf_counter()
        rank_related(current, config.related_count)
        timings["rank_related"].append(time.perf_counter() - started)
    for stage, seconds in timings.items():
        print(f"stage={stage} n={len(articles)} median_s={statistics.median(seconds):.3f}", flush=True)


if __name__ == "__main__":
    main()
