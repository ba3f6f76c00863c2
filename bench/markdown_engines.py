#!/usr/bin/env python3
"""Time each Markdown engine on synthetic article bodies: ``python bench/markdown_engines.py --n 2000``.

Generates N article bodies in memory with bench/synth.py (the same text as a
site made by ``make_site``), renders all of them with each engine through
``BodyRenderer`` (highlighting, anchors, link rewriting included), and prints
one line per engine with the median of --runs passes::

    engine=<name> n=<N> ms_per_article=<x> without_pygments=<y> runs=<r>

``ms_per_article`` is a cold pass, every code block highlighted afresh;
``without_pygments`` the same pass with every block already highlighted
(the cost of Markdown alone). The engines give the same features, not the
same bytes (see digest/markdown.py), so their HTML is not compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from synth import article_text, site_yaml  # noqa: E402

from digest.config import SiteConfig  # noqa: E402
from digest.content import Article, read_article  # noqa: E402
from digest.highlight import highlight_block  # noqa: E402
from digest.markdown import BodyRenderer, markdown_it_pyrs  # noqa: E402


def load_bodies(folder: Path, n: int, seed: int) -> list[Article]:
    """Write N synthetic articles under *folder* and read them back as Articles."""
    (folder / "site.yaml").write_text(site_yaml(), encoding="utf-8")
    config = SiteConfig(root=folder)
    articles: list[tuple[Article, str]] = []
    for index in range(n):
        rel, text = article_text(n, index, seed)
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        article, problems, body = read_article(config, path)
        assert article is not None, problems
        articles.append((article, body))
    return articles


def time_engine(config: SiteConfig, articles: list[tuple[Article, str]], runs: int, cold: bool) -> float:
    """Median ms per article; *cold* clears the highlight cache before each pass, as a fresh build starts."""
    urls = {a.path: a.url for a, _ in articles}
    renderer = BodyRenderer(config, urls)
    timings: list[float] = []
    highlight_block.cache_clear()
    if not cold:
        for article, body in articles:  # untimed: fills the cache
            renderer.render(article, body)
    for _ in range(runs):
        if cold:
            highlight_block.cache_clear()
        start = time.perf_counter()
        for article, body in articles:
            renderer.render(article, body)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000 / len(articles)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="article bodies (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="passes per engine; the median is shown (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engines = ["python"] + (["rust"] if markdown_it_pyrs is not None else [])
    with tempfile.TemporaryDirectory() as tmp:
        articles = load_bodies(Path(tmp), args.n, args.seed)
        base = SiteConfig(root=Path(tmp), base_url="https://bench.example.org/")
        for engine in engines:
            config = replace(base, markdown_engine=engine)
            ms = time_engine(config, articles, args.runs, cold=True)
            warm = time_engine(config, articles, args.runs, cold=False)
            print(f"engine={engine} n={args.n} ms_per_article={ms:.3f} without_pygments={warm:.3f} runs={args.runs}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
