#!/usr/bin/env python3
"""The floor under a cold build: what the libraries alone take for a site,
``python bench/floor.py --n 10000`` (or ``--site SITE``).

A cold build cannot take less CPU time than the work no generator of this
design can skip: reading every article file, parsing its front matter,
turning its Markdown into HTML, filling the templates of every page and
writing every page to disk. This script times each of those on its own, in
one process, with nothing of ours around it but the page plan the templates
are filled from:

- ``read``: every article file read and decoded;
- ``front_matter``: every front matter parsed by PyYAML's C loader
  (``front_matter_ours``: by the build's own reader, with its checks);
- ``markdown``: every body rendered by markdown-it-pyrs with the rules the
  build enables, no highlighting and no link rewriting;
- ``highlight``: every fenced block of those bodies in a language Pygments
  knows, highlighted by Pygments into HTML (each lexer looked up once);
- ``templates``: every page of the site rendered by Jinja2 with the bundled
  templates (``PageRenderer``: cards and link lists rendered once and reused);
- ``write``: every page's bytes written into a fresh folder (in the system's
  temporary folder), one ``mkdir`` per new folder; nothing is deleted until
  the end, as deleting many files slows creating them on some disks;
- ``search`` (a site with ``search: true``, the default): Pagefind's binary
  indexing every listed article's page, whole, in one run (the CPU time of
  that child process), as any build with search on must.

Each is the median CPU time of --runs runs. It then prints the sum of the
cheaper front-matter reader and the others, divided by the cores a build
uses: no build on this machine can be faster than that, whatever else it does
(it leaves out indexing, related stories, feeds, sitemaps, the build cache
and the processes' start-up). Then a real cold build of the same
site, timed in the same run, for the ratio::

    stage=<name> n=<articles> cpu_s=<x>
    floor n=<articles> cpu_s=<x> cores=<c> wall_s=<y>
    cold n=<articles> median_s=<z> floor_ratio=<z/y>

With --n the synthetic site of ``bench/run.py`` (same seed) is generated in a
temporary folder; SOURCE_DATE_EPOCH defaults to 1800000000, as there.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("SOURCE_DATE_EPOCH", "1800000000")

import yaml  # noqa: E402

from digest.content import find_article_paths, read_article, read_body, split_front_matter  # noqa: E402
from digest.markdown import RUST_RULES  # noqa: E402
from digest.options import BuildOptions  # noqa: E402
from digest.output import SiteWriter  # noqa: E402
from digest.render import PageRenderer  # noqa: E402
from digest.site import load_site, with_bodies  # noqa: E402


def cpu_median(runs: int, work: Callable[[], object], clock: Callable[[], float] = time.process_time) -> float:
    """Median CPU seconds of *runs* calls of *work*, by *clock* (default: this process only)."""
    spent = []
    for _ in range(runs):
        started = clock()
        work()
        spent.append(clock() - started)
    return statistics.median(spent)


def children_cpu() -> float:
    """CPU seconds of the child processes that have ended."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the synthetic site (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic site (default 1)")
    parser.add_argument("--site", type=Path, default=None, help="time this site instead of a synthetic one (only read)")
    parser.add_argument("--runs", type=int, default=3, help="runs per stage; the median is printed (default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cores a build uses (default: all of them)")
    args = parser.parse_args()

    import run as bench  # bench/run.py: the synthetic site and the timed build

    with tempfile.TemporaryDirectory(prefix="digest-floor-") as scratch:
        if args.site is not None:
            site = args.site.resolve()
        else:
            site = Path(scratch) / "site"
            site.mkdir()
            bench.make_site(site, args.n, args.seed, share_images=False)  # the floor is of HTML work; images are timed by bench/run.py
        loaded = load_site(BuildOptions(source=site, cache=False))
        config = loaded.config
        paths, _ = find_article_paths(config.root)
        texts = [Path(p).read_text(encoding="utf-8") for p in paths]
        fronts = [split_front_matter(text, path) for text, path in zip(texts, paths, strict=True)]
        n = len(paths)
        figures: dict[str, float] = {}

        figures["read"] = cpu_median(args.runs, lambda: [Path(p).read_text(encoding="utf-8") for p in paths])

        def parse_all() -> None:
            for front in fronts:
                if isinstance(front, tuple):
                    yaml.load(front[0], Loader=yaml.CSafeLoader)

        figures["front_matter"] = cpu_median(args.runs, parse_all)
        ours = cpu_median(args.runs, lambda: [read_article(config, Path(p)) for p in paths])
        figures["front_matter_ours"] = max(0.0, ours - figures["read"])  # read_article reads the file too

        import markdown_it_pyrs

        md = markdown_it_pyrs.MarkdownIt("zero").enable_many(RUST_RULES)
        texts = [read_body(config, a) for a in loaded.articles]
        figures["markdown"] = cpu_median(args.runs, lambda: [md.render(text) for text in texts])

        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        fence = re.compile(r'<pre><code class="language-([^"]*)">([^<]*)</code></pre>')
        blocks = [(lang, html.unescape(code)) for text in texts for lang, code in fence.findall(md.render(text))]
        lexers = {}
        for lang in {lang for lang, _ in blocks}:
            with contextlib.suppress(ClassNotFound):
                lexers[lang] = get_lexer_by_name(html.unescape(lang))
        formatter = HtmlFormatter(nowrap=True)
        known = [(lexers[lang], code) for lang, code in blocks if lang in lexers]
        figures["highlight"] = cpu_median(args.runs, lambda: [highlight(code, lexer, formatter) for lexer, code in known])

        pages: list[tuple[str, bytes]] = []
        ready = with_bodies(loaded, loaded.pages)  # each article's page with its rendered body, as the build renders it

        def fill() -> None:
            renderer = PageRenderer(config, loaded.index)
            pages[:] = [(page.url, renderer.render(page)) for page in ready]

        figures["templates"] = cpu_median(args.runs, fill)

        written = Path(scratch) / "written"  # kept until the end: see Runner.reset on deleting many files
        written.mkdir()

        def write_all() -> None:
            writer = SiteWriter(Path(tempfile.mkdtemp(dir=written)))
            for url, data in pages:
                writer.write(url, data)

        figures["write"] = cpu_median(args.runs, write_all)

        if config.search:
            from pagefind.service import get_executable

            listed = {article.url for article in loaded.index.articles}
            staged = Path(scratch) / "search"
            staged.mkdir()
            stager = SiteWriter(staged)
            for url, data in pages:
                if url in listed:
                    stager.write(url, data)

            def index_all() -> None:
                bundle = tempfile.mkdtemp(dir=scratch)
                subprocess.run([str(get_executable()), "--site", str(staged), "--output-path", bundle, "--silent"], check=True)

            figures["search"] = cpu_median(args.runs, index_all, children_cpu)

        for name, seconds in figures.items():
            print(f"stage={name} n={n} cpu_s={seconds:.3f}", flush=True)
        floor_cpu = (
            figures["read"]
            + min(figures["front_matter"], figures["front_matter_ours"])
            + figures["markdown"]
            + figures["highlight"]
            + figures["templates"]
            + figures["write"]
        )
        floor_cpu += figures.get("search", 0.0)
        floor_wall = floor_cpu / max(1, args.jobs)
        print(f"floor n={n} cpu_s={floor_cpu:.2f} cores={args.jobs} wall_s={floor_wall:.2f}", flush=True)

        built = site
        if args.site is not None:  # a real site is only read: build a copy of it
            built = Path(scratch) / "copy"
            shutil.copytree(site, built, ignore=shutil.ignore_patterns(".digest-cache", config.output_dir))
        bench.compile_generator()  # as bench/run.py does before timing builds
        runner = bench.Runner(built, n, args.seed, [], Path(scratch) / "trash")
        cold = [bench.timed_run(runner, "cold")[0] for _ in range(args.runs)]
        median = statistics.median(cold)
        print(f"cold n={n} median_s={median:.2f} floor_ratio={median / floor_wall:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
