#!/usr/bin/env python3
"""Time page rendering alone: ``python bench/render.py --site SITE --runs 3``.

Loads the site once (``digest.site.load_site``: articles, Markdown bodies,
index, page plan), then, --runs times, makes a fresh ``PageRenderer`` and
renders every page with it in this one process, as a build's single worker
would (templates compiled and article cards rendered anew each run). Measures
CPU time per page and prints, per template and then overall::

    template=<name> pages=<n> median_ms_per_page=<x>
    total pages=<n> median_s=<x> median_ms_per_page=<y>

where each figure is the median over the runs. ``--save-deps FILE`` writes
every page's recorded dependencies (JSON, from the last run) so two versions
of the renderer can be compared with ``cmp``; ``--save-html DIR`` writes the
rendered pages of the last run under DIR, never inside the site.
SOURCE_DATE_EPOCH defaults to 1800000000, as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("SOURCE_DATE_EPOCH", "1800000000")

from digest.options import BuildOptions  # noqa: E402
from digest.output import url_to_relpath  # noqa: E402
from digest.render import PageRenderer  # noqa: E402
from digest.site import load_site  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="site folder (with site.yaml and content/); only read")
    parser.add_argument("--runs", type=int, default=3, help="runs over all pages; medians are printed")
    parser.add_argument("--save-deps", type=Path, help="write each page's recorded dependencies (JSON) here")
    parser.add_argument("--save-html", type=Path, help="write the rendered pages under this folder (outside the site)")
    args = parser.parse_args()
    site_root = args.site.resolve()
    if args.save_html and args.save_html.resolve().is_relative_to(site_root):
        sys.exit("--save-html must be outside the site folder")

    site = load_site(BuildOptions(source=site_root, cache=False))
    pages = site.pages
    per_template: dict[str, list[float]] = defaultdict(list)  # template -> total seconds of each run
    counts: dict[str, int] = defaultdict(int)
    for page in pages:
        counts[page.template] += 1
    totals: list[float] = []
    deps: dict[str, list[list[object]]] = {}
    html: dict[str, bytes] = {}
    last = args.runs - 1
    for run in range(args.runs):
        spent: dict[str, float] = defaultdict(float)
        clock = time.process_time
        run_started = clock()
        renderer = PageRenderer(site.config, site.index)
        for page in pages:
            started = clock()
            data, found = renderer.render(page)
            spent[page.template] += clock() - started
            if run == last:
                if args.save_deps:
                    deps[page.url] = sorted([list(dep) for dep in found])
                if args.save_html:
                    html[page.url] = data
        totals.append(clock() - run_started)
        for name, seconds in spent.items():
            per_template[name].append(seconds)

    for name in sorted(per_template):
        ms = statistics.median(per_template[name]) * 1000 / counts[name]
        print(f"template={name} pages={counts[name]} median_ms_per_page={ms:.3f}")
    total = statistics.median(totals)
    print(f"total pages={len(pages)} median_s={total:.3f} median_ms_per_page={total * 1000 / len(pages):.3f}")

    if args.save_deps:
        args.save_deps.write_text(json.dumps(deps, indent=0, sort_keys=True) + "\n")
    if args.save_html:
        for url, data in html.items():
            path = args.save_html / url_to_relpath(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


if __name__ == "__main__":
    main()
