#!/usr/bin/env python3
"""Time the "rendering Markdown" stage of a cold build: ``python bench/markdown_stage.py --site SITE --runs 3``.

Reads the site's articles once (as a build would, with SOURCE_DATE_EPOCH=1800000000),
then times ``render_bodies`` as the median of --runs runs, at ``--jobs 1`` and
``--jobs 2``, with the highlight cache cleared before each run as in a fresh
build. Then one more single-process pass splits the time into its parts::

    jobs=<j> engine=<e> n=<articles> median_s=<x> runs=<r> cpu_s=<y> [same_bodies=yes]
    split engine=<e> total_s=<t> markdown_s=<m> finisher_s=<f> pygments_s=<p>

``markdown`` is the engine's own parse and render (for python: everything but
Pygments), ``pygments`` is ``highlight_code`` (lexing and formatting fenced
code), ``finisher`` is the rest (RustEngine's post-processing of the rust
engine's HTML, summaries, reading time). ``cpu_s`` is the CPU time of this
process and its workers, worth reading when the machine is busy with
something else.

``same_bodies=yes`` on a later line says its bodies, in order, are those of
the first line's. ``--dump FILE`` also writes every rendered body (jobs 1) to
FILE as a pickle; ``--compare A B`` checks two such dumps are identical, body
by body.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import digest.highlight as highlight  # noqa: E402
import digest.markdown as markdown  # noqa: E402
from digest.config import load_config  # noqa: E402
from digest.content import Article, load_articles  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process and of its waited-for children."""
    now = os.times()
    return now.user + now.system + now.children_user + now.children_system


def time_stage(config: Any, articles: list[Article], jobs: int, runs: int) -> tuple[float, float, dict[str, Any]]:
    """Median wall and CPU seconds of render_bodies, and the bodies of the last run."""
    walls: list[float] = []
    cpus: list[float] = []
    bodies: dict[str, Any] = {}
    for _ in range(runs):
        highlight.highlight_block.cache_clear()  # a fresh build; forked workers inherit the parent's cache
        cpu, start = cpu_seconds(), time.perf_counter()
        bodies, _ = markdown.render_bodies(config, articles, jobs)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus), bodies


class _Timed:
    """Wraps a callable, adding its run time to a counter."""

    def __init__(self, func: Any, totals: dict[str, float], key: str) -> None:
        self.func, self.totals, self.key = func, totals, key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.totals[self.key] += time.perf_counter() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self.func, name)


class _TimedEngine:
    """markdown-it-pyrs's MarkdownIt with its render and tree calls timed."""

    def __init__(self, md: Any, totals: dict[str, float]) -> None:
        self.render = _Timed(md.render, totals, "markdown")
        self.tree = _Timed(md.tree, totals, "markdown")


def split(config: Any, articles: list[Article]) -> dict[str, float]:
    """Seconds spent in the engine, in Pygments and in the rest, one cold single-process pass."""
    totals = {"markdown": 0.0, "pygments": 0.0}
    original = markdown.highlight_code
    highlight.highlight_block.cache_clear()
    markdown.highlight_code = _Timed(original, totals, "pygments")  # type: ignore[assignment]
    try:
        renderer = markdown.BodyRenderer(config, {a.path: a.url for a in articles})
        if renderer.rust is not None:
            renderer.rust.md = _TimedEngine(renderer.rust.md, totals)
        start = time.perf_counter()
        for article in articles:
            if renderer.rust is None:
                before = totals["pygments"]
                begun = time.perf_counter()
                renderer.render(article)
                totals["markdown"] += time.perf_counter() - begun - (totals["pygments"] - before)
            else:
                renderer.render(article)
        total = time.perf_counter() - start
    finally:
        markdown.highlight_code = original  # type: ignore[assignment]
    return {"total": total, "markdown": totals["markdown"], "finisher": total - totals["markdown"] - totals["pygments"], "pygments": totals["pygments"]}


def compare(first: Path, second: Path) -> int:
    a, b = (pickle.loads(path.read_bytes()) for path in (first, second))
    differ = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
    for key in differ[:10]:
        print(f"differs: {key}")
    print(f"bodies={len(a)}/{len(b)} differ={len(differ)} identical={'yes' if not differ else 'no'}")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="site folder (with site.yaml and content/)")
    parser.add_argument("--runs", type=int, default=3, help="runs per setting; the median is printed (default 3)")
    parser.add_argument("--jobs", type=int, action="append", help="worker counts to time (default: 1 and 2)")
    parser.add_argument("--engine", choices=["python", "rust", "site"], default="site", help="engine to render with (default: the site's)")
    parser.add_argument("--no-split", action="store_true", help="skip the per-part split")
    parser.add_argument("--dump", type=Path, help="write the rendered bodies (jobs 1) to this pickle")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"), help="compare two --dump files and exit")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.site is None:
        parser.error("--site is required")
    config, problems = load_config(args.site.resolve())
    if any(p.is_error for p in problems):
        sys.exit("\n".join(str(p) for p in problems))
    if args.engine != "site":
        config = replace(config, markdown_engine=args.engine)
    engine = markdown.pick_engine(config.markdown_engine)
    articles, _ = load_articles(config, datetime.fromtimestamp(1800000000, tz=UTC))
    first: dict[str, Any] | None = None
    for jobs in args.jobs or [1, 2]:
        wall, cpu, bodies = time_stage(config, articles, jobs, args.runs)
        same = "" if first is None else f" same_bodies={'yes' if list(bodies.items()) == list(first.items()) else 'no'}"
        print(f"jobs={jobs} engine={engine} n={len(articles)} median_s={wall:.3f} runs={args.runs} cpu_s={cpu:.3f}{same}", flush=True)
        first = bodies if first is None else first
        if args.dump and jobs == 1:
            args.dump.write_bytes(pickle.dumps(bodies))
    if not args.no_split:
        parts = split(config, articles)
        print(f"split engine={engine} " + " ".join(f"{key}_s={value:.3f}" for key, value in parts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
