#!/usr/bin/env python3
"""Time this generator against Hugo on the same synthetic site: ``python bench/hugo.py --n 1000``.

Needs Hugo on PATH (Debian: ``apt-get install hugo``). The articles of
bench/synth.py are copied into a minimal Hugo site (one section per topic,
tags as a taxonomy, 50 to a listing page, an article page with its body and
tags; ``--related`` adds five related links from Hugo's default related
index, as this generator's pages have). Each build is timed in turns, in
the same run: Hugo (``hugo --quiet`` into an empty folder), then this
generator cold with the site's defaults (share images on) and cold with
``share_images: false``; medians of --runs, and the ratio of ours to Hugo.
Wall seconds are printed with the CPU seconds of each build (its own and its
workers'), since a shared machine's wall times are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Runner, compile_generator  # noqa: E402
from synth import make_site  # noqa: E402

SINGLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} | {{ site.Title }}</title></head>
<body><nav><a href="{{ "/" | relURL }}">{{ site.Title }}</a></nav><main><article><h1>{{ .Title }}</h1>
<time>{{ .Date.Format "2 January 2006" }}</time>{{ .Content }}
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ if site.Params.related }}<ul>{{ range first 5 (site.RegularPages.Related .) }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
</article></main></body></html>
"""
LIST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} | {{ site.Title }}</title></head>
<body><nav><a href="{{ "/" | relURL }}">{{ site.Title }}</a></nav><main><h1>{{ .Title }}</h1>
{{ range (.Paginate .Pages).Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Params.summary }}</p></article>{{ end }}
{{ template "_internal/pagination.html" . }}</main></body></html>
"""


def hugo_site(site: Path, folder: Path, related: bool) -> None:
    """A Hugo site in *folder* with the articles of the synthetic *site*."""
    shutil.copytree(site / "content", folder / "content")
    (folder / "hugo.toml").write_text(
        f'baseURL = "https://bench.example.org/"\ntitle = "Synthetic Digest"\npaginate = 50\n'
        f'disableKinds = ["RSS"]\n[params]\nrelated = {str(related).lower()}\n',
        encoding="utf-8",
    )
    layouts = folder / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (layouts / "single.html").write_text(SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(LIST, encoding="utf-8")


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, env={**os.environ, "SOURCE_DATE_EPOCH": "1800000000", "PYTHONHASHSEED": "0"})
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{command[0]} failed")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the synthetic site (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each build; medians are printed (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--related", action="store_true", help="Hugo's article pages list five related articles")
    args = parser.parse_args()
    hugo = shutil.which("hugo")
    if hugo is None:
        sys.exit("hugo is not installed (Debian: apt-get install hugo)")
    compile_generator()
    with tempfile.TemporaryDirectory(prefix="digest-hugo-") as tmp:
        site, theirs, trash = Path(tmp) / "site", Path(tmp) / "hugo", Path(tmp) / "trash"
        site.mkdir()
        make_site(site, args.n, args.seed)
        hugo_site(site, theirs, args.related)
        runner = Runner(site, args.n, args.seed, [], trash)
        ours = [sys.executable, "build.py", "build", "--quiet", "--source", str(site)]

        def hugo_build() -> tuple[float, float]:
            shutil.rmtree(Path(tmp) / "public", ignore_errors=True)
            return timed([hugo, "--quiet", "--destination", str(Path(tmp) / "public")], theirs)

        def ours_cold(share_images: bool) -> tuple[float, float]:
            runner.reset()
            runner.share_images(share_images)
            try:
                return timed(ours, HERE.parent)
            finally:
                runner.share_images(True)

        builds: dict[str, Callable[[], tuple[float, float]]] = {
            "hugo" + (" with related links" if args.related else ", no related links"): hugo_build,
            "ours, defaults (share images on)": lambda: ours_cold(True),
            "ours, share_images: false": lambda: ours_cold(False),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in builds}
        for _ in range(args.runs):  # in turns, so that the machine's drift touches each alike
            for name, build in builds.items():
                results[name].append(build())
        base = statistics.median(wall for wall, _ in results[next(iter(builds))])
        for name, runs in results.items():
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            print(f"{name}: n={args.n} median_wall_s={wall:.2f} median_cpu_s={cpu:.2f} ratio_to_hugo={wall / base:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
