"""The build, start to finish: the pipeline stages wired in order.

``load_site`` gathers and checks everything (no output exists yet);
``render_site_files`` turns it into ``{url: bytes}`` in memory; ``build_site``
publishes that through the output stage. Tests, the CLI and benchmarks all call
these same functions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import SiteConfig, check_base_url, load_config
from .content import Article, check_input_file, load_articles
from .errors import ContentError, Problem, UsageError, error
from .feeds import render_feeds
from .images import font_problems, render_share_images
from .index import SiteIndex, build_index
from .markdown import RenderedBody, render_bodies
from .options import BuildOptions, BuildResult, build_now, source_date_epoch
from .output import url_to_relpath
from .pages import Page, plan_pages
from .relative import relativize_pages
from .render import BUNDLED, hashed_static_copies, render_site
from .seo import render_seo_files

Progress = Callable[[str], None]  # told the name of each stage as it starts


def _no_progress(stage: str) -> None:
    pass


@dataclass(frozen=True)
class LoadedSite:
    config: SiteConfig
    articles: list[Article]
    bodies: dict[str, RenderedBody]
    index: SiteIndex
    pages: list[Page]
    copies: dict[str, Path]  # output URL -> file copied as-is
    warnings: list[Problem] = field(default_factory=list)
    relative: bool = False


def load_site(options: BuildOptions, progress: Progress = _no_progress) -> LoadedSite:
    """Run every stage up to the page plan; raise ContentError listing all errors."""
    config, problems = load_config(options.source)
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    config = override_base_url(config, options.base_url)
    progress("reading articles")
    articles, more = load_articles(config, build_now(), options.include_drafts, options.include_future)
    problems += more
    progress("rendering Markdown")
    bodies, more = render_bodies(config, articles, options.jobs)
    problems += more
    progress("indexing")
    index, more = build_index(config, articles, options.jobs)
    problems += more
    progress("planning pages")
    pages = plan_pages(config, index, bodies)
    copies = find_copies(config)
    problems += check_copies(config, copies)
    copies |= hashed_static_copies(copies)
    problems += find_page_collisions(pages, copies)
    problems += font_problems(config, index)
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    return LoadedSite(config, articles, bodies, index, pages, copies, sorted(problems), options.relative)


def override_base_url(config: SiteConfig, base_url: str | None) -> SiteConfig:
    """Apply ``--base-url``: the same check as site.yaml's, but a usage error."""
    if base_url is None:
        return config
    bad = check_base_url(base_url)
    if bad:
        raise UsageError(f"--base-url: expected {bad}")
    return replace(config, base_url=base_url)


def find_copies(config: SiteConfig) -> dict[str, Path]:
    """Static files (bundled, overlaid by the site's) and content assets."""
    copies: dict[str, Path] = {}
    for static in (BUNDLED / "static", config.root / "static"):
        for path in _files_under(static):
            copies["/static/" + path.relative_to(static).as_posix()] = path
    content = config.root / "content"
    for path in _files_under(content, skip=(".md", ".markdown")):
        copies["/" + path.relative_to(content).as_posix()] = path
    return copies


def check_copies(config: SiteConfig, copies: dict[str, Path]) -> list[Problem]:
    """Files that cannot be copied: unreadable, special, links out of the site, unsafe names."""
    problems: list[Problem] = []
    for url, path in sorted(copies.items()):
        if not path.is_relative_to(config.root):
            continue  # the generator's own static files
        shown = path.relative_to(config.root).as_posix()
        try:
            url_to_relpath(url)
        except ValueError:
            problems.append(
                error(
                    shown,
                    0,
                    "expected a file name usable in a URL (no ':', '\\', control characters or device names such as CON), found one that is not; rename the file",
                )
            )
            continue
        unusable = check_input_file(path, config.root)
        if unusable:
            problems.append(error(shown, 0, unusable))
    return problems


def _files_under(folder: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    """Every file under *folder* but hidden ones and names ending with *skip*, in a fixed order."""
    if not folder.is_dir():
        return []
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(parent, n) for n in sorted(names) if not n.startswith(".") and not (skip and n.endswith(skip))]
    return found


def find_page_collisions(pages: list[Page], copies: dict[str, Path]) -> list[Problem]:
    """Two outputs (pages or copied files) that would land on the same file.

    The error names both sources and is reported at an article's file when one
    of the two is an article, since that is where an editor can fix it.
    """
    rels: set[str] = set()
    for url in copies:
        try:
            rels.add(url_to_relpath(url))
        except ValueError:
            continue  # an unusable file name; check_copies reports it
    before = len(rels)
    rels.update(url_to_relpath(page.url) for page in pages)
    if len(rels) == before + len(pages):
        return []  # the common case, told without a look at each page's context
    owner: dict[str, tuple[str, str]] = {}  # relpath -> (file to blame, what it is)
    problems: list[Problem] = []
    for url, path in sorted(copies.items()):
        try:
            owner[url_to_relpath(url)] = (path.as_posix(), path.as_posix())
        except ValueError:
            continue  # an unusable file name; check_copies reports it
    for page in pages:
        article = page.context.get("article")
        blame, what = (article.path, article.path) if isinstance(article, Article) else ("", f"the {page.title!r} page")
        rel = url_to_relpath(page.url)
        if rel not in owner:
            owner[rel] = (blame, what)
            continue
        other_blame, other_what = owner[rel]
        where = blame or other_blame
        problems.append(error(where or "site.yaml", 1 if where else 0, f"{what} would be written to {page.url}, which is already used by {other_what}"))
    return problems


def render_site_files(site: LoadedSite) -> dict[str, bytes]:
    """Pages, feeds, sitemaps and share images, all in memory."""
    files = render_site(site.config, site.index, site.pages)
    files.update(render_feeds(site.config, site.index, site.bodies))
    files.update(render_seo_files(site.config, site.index, site.pages))
    files.update(render_share_images(site.config, site.index))
    if site.relative:
        files = relativize_pages(site.config, files)
    return files


def output_folder(options: BuildOptions, config: SiteConfig) -> Path:
    if options.output is not None:
        return options.output
    return config.root / config.output_dir


def build_site(options: BuildOptions, progress: Progress = _no_progress, state: bytes | None = None) -> BuildResult:
    """Load, check, render and publish the site; the previous output stays on any error.

    Goes through the build cache (:mod:`digest.incremental`), so a rebuild
    parses, renders and writes only what changed. First checks whether
    anything changed at all, unless the caller did and passes the *state* of
    the inputs it computed (:func:`digest.cache.unchanged_build`).
    """
    from .cache import unchanged_build
    from .incremental import CachedBuild

    started = time.perf_counter()
    if state is None:
        unchanged, state = unchanged_build(options)
        if unchanged is not None:
            return unchanged
    outcome = CachedBuild(options, progress, build_now(), source_date_epoch(), state).run()
    seconds = time.perf_counter() - started
    return BuildResult(
        outcome.articles,
        outcome.pages,
        outcome.files,
        seconds,
        outcome.output,
        outcome.warnings,
        outcome.written,
        outcome.mode,
        outcome.rendered,
        outcome.keyed,
    )
