#!/usr/bin/env python3
"""CPU time of story grouping: ``python bench/stories.py --articles 10000 --runs 3``.

Writes a synthetic site (bench/synth.py) into a temporary folder, reads its
articles once, then measures with ``time.process_time`` (CPU time of this
process, steadier than wall time on a shared machine), as the median of --runs:

* ``group_stories``: grouping alone, at the site's settings;
* ``build_index``: the whole index stage, with grouping by likeness on (the
  default ``story_window_days``) and off (``story_window_days: 0``), whose
  difference is what grouping adds to a cold build.

With ``--events``, the articles are instead copies of the labelled reports of
tests/story_fixture.py, each copy 200 days after the last and with its own
names, so that grouping has real events to find (the synthetic text has none), and the pairwise
precision and recall over all copies are printed too.

Prints one line per measure: ``measure=<name> n=<articles> median_cpu_s=<x>``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from synth import make_site  # noqa: E402

from digest.config import SiteConfig, load_config  # noqa: E402
from digest.content import load_articles  # noqa: E402
from digest.index import build_index  # noqa: E402
from digest.schema import Article, Source  # noqa: E402
from digest.stories import Group, group_stories  # noqa: E402


def fixture_copies(n: int) -> list[Article]:
    """*n* articles: the fixture's reports again and again, each copy 200 days later, labelled by copy and event."""
    sys.path.insert(0, str(REPO / "tests"))
    from story_fixture import ROWS

    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    made = []
    for i in range(n):
        copy, (label, day, title, summary, tags, urls) = divmod(i, len(ROWS))[0], ROWS[i % len(ROWS)]
        sources = tuple(Source(f"{u}/{copy}", u, False, u.split("/")[2]) for u in urls)
        # Each copy's names are its own (Halcyon becomes Halcyon7), as every real event has its own.
        title, summary = (re.sub(r"\b([A-Z][\w-]+)", rf"\g<1>{copy}", text) for text in (title, summary))
        tags = tuple(re.sub(r"\b([A-Z][\w-]+)", rf"\g<1>{copy}", tag) for tag in tags)
        made.append(
            Article(
                path=f"content/news/{copy}-{label}-{i}.md",
                slug=f"r{i}",
                topic="news",
                url=f"/news/r{i}/",
                title=title,
                date=start + timedelta(days=200 * copy + day),
                updated=None,
                tags=tags,
                sources=sources,
                confidence=60,
                confidence_label="Medium",
                review="unreviewed",
                model="",
                summary=summary,
                lede=summary,
                why_it_matters=(),
                story="",
                author="",
                lang="en",
                draft=False,
                body_line=1,
            )
        )
    return sorted(made, key=lambda a: (a.date, a.path), reverse=True)


def pairwise(articles: list[Article], groups: list[Group]) -> tuple[float, float]:
    """Pairwise precision and recall of *groups* against the labels in the paths of fixture copies."""
    label = {a.path: a.path.rsplit("-", 1)[0] for a in articles}
    by_label: dict[str, list[str]] = {}
    for path, name in label.items():
        by_label.setdefault(name, []).append(path)
    true = sum(len(v) * (len(v) - 1) // 2 for k, v in by_label.items() if "-x-" not in k)
    joined = hits = 0
    for g in groups:
        joined += len(g.paths) * (len(g.paths) - 1) // 2
        counts: dict[str, int] = {}
        for p in g.paths:
            counts[label[p]] = counts.get(label[p], 0) + 1
        hits += sum(c * (c - 1) // 2 for k, c in counts.items() if "-x-" not in k)
    return hits / max(1, joined), hits / max(1, true)


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
    parser.add_argument("--events", action="store_true", help="copies of the labelled fixture instead of the synthetic site")
    args = parser.parse_args()
    if args.events:
        config, articles = SiteConfig(root=Path(".")), fixture_copies(args.articles)
    else:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            make_site(root, args.articles, share_images=False)
            config, _ = load_config(root)
            articles, _ = load_articles(config, datetime.fromtimestamp(1800000000, tz=UTC))
    n = len(articles)
    groups = group_stories(articles, config.story_window_days, config.story_similarity / 100)
    found = [g for g in groups if g.joins]
    print(f"stories={len(groups)} found_by_likeness={len(found)} reports_in_found={sum(len(g.paths) for g in found)}", flush=True)
    if args.events:
        precision, recall = pairwise(articles, groups)
        print(f"pairwise_precision={precision:.3f} pairwise_recall={recall:.3f}", flush=True)
    measures = {
        "group_stories": lambda: group_stories(articles, config.story_window_days, config.story_similarity / 100),
        "build_index": lambda: build_index(config, articles),
        "build_index_ids_only": lambda: build_index(replace(config, story_window_days=0), articles),
    }
    for name, work in measures.items():
        print(f"measure={name} n={n} median_cpu_s={cpu(args.runs, work):.3f}", flush=True)


if __name__ == "__main__":
    main()
