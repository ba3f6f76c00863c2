"""The build, start to finish: site.yaml -> config -> content -> markdown -> index -> pages -> render -> output.

In: the build options. Out: :func:`load_site` runs every stage up to the page plan and checks everything (no output
exists yet); :func:`plan_outputs` gives every output file its hash; :func:`render_outputs` makes the bytes of those
asked for; :func:`build_site` publishes them. ``build``, ``check``, ``serve``, the tests and the benchmark all call
these; the only thing ``--no-cache`` changes is the memo they are given.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from .assets import check_copies, find_copies, find_page_collisions
from .bodies import check_site_paths, check_unpublished_links, render_bodies_memo
from .config import SiteConfig, check_base_url, load_config, setting_lines
from .content import check_images, check_update_dates, parse_articles, publish_filter
from .editions import Edition, edition_hashes, edition_shapes, edition_urls, latest_edition, plan_edition_pages, plan_editions, render_edition_outputs
from .editorial import NavLink, check_site_links, load_standalone_pages, page_urls
from .errors import ContentError, Problem, TemplateError, UsageError, error, warning
from .feeds import Feed, entry_inputs, plan_feeds, render_feeds
from .i18n import language_problems
from .images import ShareCard, draw_ahead, font_problems, render_share_images, share_cards, stop_drawing_ahead
from .index import SiteIndex, build_index
from .markdown import HELD_BACK, WITHHELD, RenderedBody
from .memo import NO_MEMO, Memo, content_hashes, generator_version, hash_of, hash_value, tree_stamps
from .options import BuildOptions, BuildResult, build_now, source_date_epoch
from .output import STAGING_PREFIX, check_output_dir, output_lock, publish, read_manifest, up_to_date
from .pages import Page, page_shape, plan_pages
from .relative import relativize_pages
from .render import CompiledTemplates, PageRenderer, block_problems, hashed_static_copies, nav_refs, site_templates, syntax_errors, template_dirs
from .schema import Article
from .search import SEARCH_SHAPE, Cancelled, index_site, keep_previous_index, plan_search, search_shapes
from .seo import render_seo_files, seo_files
from .state import inputs_state, save_state, unchanged_build
from .stories import StoryNote, note_urls, read_story_notes
from .terminal import located_problem
from .workers import in_chunks

Progress = Callable[[str], None]  # told the name of each stage as it starts
PARALLEL_PAGES = 400  # below this many pages, starting workers costs more than it saves
_RENDERER: tuple[LoadedSite, PageRenderer] | None = None  # the renderer of the site this process renders now


def _no_progress(stage: str) -> None:
    pass


@dataclass(frozen=True)
class LoadedSite:
    """Everything a build knows before it renders: checked, planned and hashed."""

    config: SiteConfig
    articles: list[Article]  # published, newest first
    bodies: dict[str, RenderedBody]  # the HTML of those named in unloaded is "" until load_html() fills it
    index: SiteIndex
    pages: list[Page]
    feeds: list[Feed]
    cards: dict[str, ShareCard]  # share image URL -> what it shows
    copies: dict[str, Path]  # output URL -> file copied as-is
    copy_hashes: dict[str, bytes]  # output URL -> hash of the copied file's bytes
    site_hash: bytes  # what every page sees besides its context: settings, templates, static files, options
    plan_key: bytes  # the hash of what the page plan follows from (plan_site)
    shapes: dict[str, bytes]  # page or feed URL -> hash of what it shows besides bodies and site_hash (Plan.shapes)
    body_hashes: dict[str, bytes]  # article path -> hash of its rendered body
    memo: Memo  # where the bodies' HTML comes from
    unloaded: dict[str, bytes]  # article path -> memo key of its body's HTML, for bodies taken from the memo
    warnings: list[Problem] = field(default_factory=list)
    relative: bool = False
    held_back: dict[str, int] = field(default_factory=dict)  # "drafts", "future", "expired": articles not listed
    next_change: float = float("inf")  # when a future article is due or a listed one expires
    editions: tuple[Edition, ...] = ()  # their pages are in pages; their email copies and feeds are made by digest.editions
    nav_links: tuple[NavLink, ...] = ()  # the standalone pages every footer links to


def load_site(options: BuildOptions, memo: Memo = NO_MEMO, progress: Progress = _no_progress, ahead: bool = False) -> LoadedSite:
    """Run every stage up to the page plan; raise ContentError listing all errors. With *ahead*, share images are drawn meanwhile (draw_ahead)."""
    config, problems = load_config(options.source)
    written = setting_lines(config)  # the keys site.yaml sets, by line
    if any(p.is_error for p in problems) and not written:  # no settings read: the articles cannot be checked against them
        raise ContentError(problems)  # else they are, with the defaults for the settings in error, so that one run lists everything
    if options.base_url is not None:  # the same check as site.yaml's, but a usage error
        if bad := check_base_url(options.base_url):
            raise UsageError(f"--base-url: expected {bad}")
        config = replace(config, base_url=options.base_url)
    elif (config.root / config.path).is_file() and "base_url" not in written:
        unset = f"base_url: expected the address readers use (https://example.org/), found none: links in feeds and sitemaps lead to {config.base_url}"
        problems.append(warning(config.path, 0, unset))
    now = build_now()
    progress("reading articles")
    found = parse_articles(config, memo, options.jobs)
    problems += found.problems
    articles, problems = publish_filter(found.articles, now, options.include_drafts, options.include_future, problems)
    problems += check_images(config, articles + [file for file, _ in found.unpublished]) + check_update_dates(config, articles, now)
    if ahead and not any(p.is_error for p in problems):
        draw_ahead(config, articles, options.jobs)
    progress("rendering Markdown")
    article_urls = {a.path: a.url for a in articles}
    urls = article_urls | page_urls(config) | note_urls(config)  # a body may link to standalone pages and stories too, by their files
    urls |= {file.path: WITHHELD for file, _ in found.unpublished}
    urls |= {a.path: HELD_BACK for a in found.articles if a.path not in article_urls}
    bodies, body_hashes, unloaded, more = render_bodies_memo(config, articles, found.texts, memo, options.jobs, urls)
    problems += more
    articles = [article if article.summary else replace(article, summary=bodies[article.path].summary) for article in articles]  # for lists too
    problems += check_unpublished_links(config, found.unpublished, urls)
    progress("indexing")
    notes, more = read_story_notes(config, article_urls)
    problems += more
    plan = plan_site(config, articles, options.jobs, memo, notes)
    index, pages, feeds = plan.index, plan.pages, plan.feeds
    problems += plan.problems
    standalone, nav_links, more = load_standalone_pages(config, urls)
    problems += more
    problems += language_problems(config, template_dirs(config)) + block_problems(config)
    pages = pages + standalone
    shapes = plan.shapes | {page.url: page_shape(page, {}) for page in standalone}
    progress("planning pages")
    copies, more = find_copies(config)
    problems += more
    problems += check_copies(config, copies)
    copies |= hashed_static_copies(copies)
    cards = share_cards(config, index)
    problems += find_page_collisions(pages, copies)
    generated = (
        {url for feed in feeds for url in (feed.link.atom, feed.link.json)} | set(cards) | set(seo_files(pages)) | set(edition_urls(config, plan.editions))
    )
    known = {page.url for page in pages} | copies.keys() | generated  # a footer or a body may link a feed too
    problems += check_site_links(config, known) + check_site_paths(config, articles, bodies, known)
    problems += font_problems(config, index)
    if config.search and importlib.util.find_spec("pagefind_bin_extended") is None:
        expected = "search: expected the pagefind[extended] package installed (pip install -r requirements.txt), found it missing"
        problems.append(error(config.path, 0, f"{expected}; or set search: false"))
    for url in sorted(generated & copies.keys()):
        where = copies[url].relative_to(config.root).as_posix()
        problems.append(error(where, 0, f"expected no file at {url}, found one: the build writes {url} itself; rename or move the file"))
    for url in sorted(url for url in copies if url.startswith("/pagefind/") and copies[url].is_relative_to(config.root)):
        where = copies[url].relative_to(config.root).as_posix()
        problems.append(error(where, 0, f"expected no file under /pagefind/, found {url}: the build writes the search index there; rename or move it"))
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    by_path, _ = content_hashes(memo, "copied-files", sorted({str(path) for path in copies.values()}), digest_or_none)
    copy_hashes = {url: by_path.get(str(path), b"") for url, path in copies.items()}
    return LoadedSite(
        config,
        articles,
        bodies,
        index,
        pages,
        feeds,
        cards,
        copies,
        copy_hashes,
        site_settings_hash(config, options, index, copy_hashes, nav_links),
        plan.key,
        shapes,
        body_hashes,
        memo,
        unloaded,
        sorted(problems),
        options.relative,
        held_back(found.articles, articles, now, options),
        next_change(found.articles, now),
        plan.editions,
        nav_links,
    )


def digest_or_none(path: str) -> bytes | None:
    """A copied file's digest, read in pieces (a video may be gigabytes); None for one that cannot be read now, which is
    reported when it is copied."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").digest()
    except OSError:
        return None


def held_back(parsed: list[Article], published: list[Article], now: datetime, options: BuildOptions) -> dict[str, int]:
    """How many articles the publish filter kept out of the site or out of its lists."""
    return {
        "drafts": sum(1 for a in parsed if a.draft and not options.include_drafts),
        "future": sum(1 for a in parsed if a.date > now and not a.draft and not options.include_future),
        "expired": sum(1 for a in published if a.expired),
    }


def next_change(parsed: list[Article], now: datetime) -> float:
    """The first moment after *now* at which the publish filter gives another answer."""
    moments = [a.date.timestamp() for a in parsed if a.date > now]
    moments += [a.expires.timestamp() for a in parsed if a.expires is not None and a.expires > now]
    return min(moments, default=float("inf"))


def load_html(site: LoadedSite, paths: Iterable[str]) -> dict[str, RenderedBody]:
    """The bodies of the articles at *paths* with their HTML, read from the memo where it was not loaded yet."""
    wanted = [path for path in dict.fromkeys(paths) if path in site.unloaded]
    found = site.memo.get_many("body-html", [site.unloaded[path] for path in wanted])
    full = {path: site.bodies[path] for path in paths}
    for path in wanted:
        html = found.get(site.unloaded[path])
        if html is None:
            raise UsageError(f"the build cache lost the rendered body of {path}; build again with --no-cache")
        full[path] = replace(site.bodies[path], html=html)
    return full


@dataclass(frozen=True)
class Plan:
    """What follows from the settings and the listed articles' front matter alone: a body edit leaves it as it was."""

    index: SiteIndex
    pages: list[Page]
    feeds: list[Feed]
    problems: list[Problem]
    key: bytes  # the hash of the settings and the articles' front matter
    shapes: dict[str, bytes]  # page URL -> page_shape; feed URL -> hash of the feed and its entries besides their bodies; editions' too
    editions: tuple[Edition, ...] = ()


def plan_site(config: SiteConfig, articles: list[Article], jobs: int, memo: Memo, notes: dict[str, StoryNote]) -> Plan:
    """Index the articles and plan every page and feed, by the settings and the articles' front matter.

    The plan is memoised in memory only (on disk it would be larger and slower to read than to make), its shapes on disk too.
    """
    key = hash_of("plan", repr(replace(config, root=Path("."))), hash_value(sorted(notes.items())), *map(article_hash, articles))
    plan = memo.get("plan", key)
    if isinstance(plan, Plan):
        return plan
    index, problems = build_index(config, articles, jobs, memo, notes)
    editions = plan_editions(config, index)
    pages = plan_pages(config, index, latest_edition(config, editions)) + plan_edition_pages(config, editions)
    feeds = plan_feeds(config, index)
    nav_refs(index)  # the navigation's refs, made now so that entity_hashes knows them
    shapes = memo.get("plan-shapes", key)
    if shapes is None:  # what each page, feed and edition shows besides bodies and site-wide values, by URL
        known = entity_hashes(index)
        shapes = {url: made for part in in_chunks(_shapes_chunk, (known, config.search), pages, jobs, PARALLEL_PAGES) for url, made in part}
        shapes |= edition_shapes(config, editions, known) | feed_shapes(index, feeds, known)
        memo.put("plan-shapes", key, shapes)
    plan = Plan(index, pages, feeds, problems, key, shapes, editions)
    memo.put("plan", key, plan, persist=False)
    return plan


def _shapes_chunk(known: dict[int, bytes], search: bool, pages: list[Page]) -> list[tuple[str, bytes]]:
    """The page shapes of *pages* (and what the search index reads of them), hashed in a forked worker: *known* is keyed
    by ``id()``, which a fork keeps."""
    return [(page.url, page_shape(page, known)) for page in pages] + list((search_shapes(pages, known) if search else {}).items())


def feed_shapes(index: SiteIndex, feeds: list[Feed], known: dict[int, bytes]) -> dict[str, bytes]:
    """The hash of what each feed shows besides its articles' bodies and site-wide values, by its Atom URL."""
    shapes: dict[str, bytes] = {}
    entries: dict[str, bytes] = {}  # each article's feed entry, hashed once however many feeds show it
    for feed in feeds:
        for article in feed.articles:
            if article.path not in entries:
                entries[article.path] = hash_value(entry_inputs(index, article), known)
        # An empty feed is dated by the site's newest article (feeds.render_feeds).
        newest = "" if feed.articles or not index.articles else index.articles[0].last_modified.isoformat()
        shapes[feed.link.atom] = hash_of(hash_value(feed, known), newest, *(entries[a.path] for a in feed.articles))
    return shapes


def article_hash(article: Article) -> bytes:
    """What the plan reads of an article: its front matter, its summary (which may be its body's) and whether it has expired."""
    return hash_of(article.meta_hash or hash_value(article), article.summary, str(article.expired))


def entity_hashes(index: SiteIndex) -> dict[int, bytes]:
    """The hash of every article (article_hash) and index entity (its fields and articles), by ``id()``, for page_shape."""
    known = {id(article): article_hash(article) for article in [*index.articles, *index.expired]}
    for month in (month for year in index.years for month in year.months):
        known[id(month)] = hash_value(month, known)
    for entity in (*index.topics, *index.tags, *index.outlets, *index.stories, *index.years):
        known[id(entity)] = hash_value(entity, known)
    for made in list(index.refs.values()):
        known[id(made)] = hash_value(made)
    return known


def site_settings_hash(
    config: SiteConfig, options: BuildOptions, index: SiteIndex, copy_hashes: dict[str, bytes], nav_links: tuple[NavLink, ...] = ()
) -> bytes:
    """What every page sees besides its context: the generator, settings, options, templates, navigation and static files.

    Nothing in it depends on where the site folder is: a copy elsewhere hashes alike.
    """
    settings = replace(config, root=Path("."))
    parts: list[bytes | str] = [generator_version(), repr(settings), repr((options.relative, options.include_drafts, options.include_future))]
    for folder in template_dirs(config):
        for rel, _ in tree_stamps(folder):
            parts += [rel, (folder / rel).read_bytes()]
    parts.append(hash_value((nav_refs(index), nav_links)))
    parts += [f"{url}={made.hex()}" for url, made in sorted(copy_hashes.items()) if url.startswith("/static/")]
    return hash_of(*parts)


def plan_outputs(site: LoadedSite) -> dict[str, bytes]:
    """The hash of every output file by URL: two builds that give a URL the same hash write the same bytes there."""
    shapes, bodies = site.shapes, site.body_hashes
    hashes = {
        page.url: hash_of(site.site_hash, shapes[page.url], bodies[page.context["article"].path] if "body" in page.context else b"") for page in site.pages
    }
    for feed in site.feeds:
        made = hash_of(site.site_hash, shapes[feed.link.atom], *(bodies[a.path] for a in feed.articles))
        hashes[feed.link.atom] = hash_of(made, "atom")
        hashes[feed.link.json] = hash_of(made, "json")
    hashes |= edition_hashes(site.config, site.editions, site.site_hash, shapes)
    hashes |= {url: hash_of("share image", card.cache_key()) for url, card in site.cards.items()}
    hashes |= {url: hash_of("copy", made) for url, made in site.copy_hashes.items()}
    # Sitemaps list every page with its articles' dates: the pages follow from the settings and the articles' front matter.
    listed = hash_of(site.site_hash, site.plan_key)
    hashes |= {url: hash_of(listed, url) for url in seo_files(site.pages)}
    return hashes


def indexed_hashes(site: LoadedSite) -> dict[str, bytes]:
    """The hash of what the search index reads of each listed article's page (search.LINK_LISTS), by URL."""
    return {a.url: hash_of(site.site_hash, site.shapes[a.url + SEARCH_SHAPE], site.body_hashes[a.path]) for a in site.index.articles}


def render_outputs(site: LoadedSite, urls: Iterable[str], jobs: int = 1, cached_images: bool = True) -> Iterator[tuple[str, bytes]]:
    """The bytes of the outputs at *urls* (not copied files); pages by *jobs* forked workers when there are many.

    Each part is yielded as soon as it is done, so a large site is never all in memory at once.
    """
    global _RENDERER
    wanted = set(urls)
    pages = [page for page in site.pages if page.url in wanted]
    bodies = load_html(site, [page.context["article"].path for page in pages if "body" in page.context])  # here: workers read no memo
    feeds = [feed for feed in site.feeds if feed.link.atom in wanted or feed.link.json in wanted]
    CompiledTemplates.recall(site.config, site.memo)
    failed: set[str] = set()  # each template mistake once, however many pages it broke
    for part in in_chunks(_render_chunk, (site, bodies), pages, jobs, PARALLEL_PAGES):
        made = [(url, data) for url, data in part if isinstance(data, bytes)]
        failed.update(str(data) for _, data in part if isinstance(data, TemplateError))
        if not failed:  # after a failure the pages are still rendered, to find the other mistakes, but not published
            yield from relativize_pages(site.config, dict(made)).items() if site.relative else made
    _RENDERER = None  # this process's renderer, when it rendered: the site need not outlive the build
    if failed:
        failed |= syntax_errors(site.config)
        raise ContentError([located_problem(text) for text in sorted(failed)])
    if feeds:
        bodies = load_html(site, [a.path for feed in feeds for a in feed.articles])
        yield from ((url, data) for url, data in render_feeds(site.config, site.index, bodies, feeds) if url in wanted)
    yield from render_edition_outputs(site.config, site.editions, wanted)
    cards = {url: card for url, card in site.cards.items() if url in wanted}
    if cards:
        yield from render_share_images(site.config, cards, cached_images, jobs)
    if wanted & set(seo_files(site.pages)):
        yield from ((url, data) for url, data in render_seo_files(site.config, site.index, site.pages).items() if url in wanted)
    CompiledTemplates.remember(site.config, site.memo)


def with_body(page: Page, bodies: dict[str, RenderedBody]) -> Page:
    """*page* ready to render: an article's page gets its rendered body, and is described by the body's summary."""
    if "body" not in page.context:
        return page
    body = bodies[page.context["article"].path]
    return replace(page, description=body.summary, context={**page.context, "body": body})


def with_bodies(site: LoadedSite, pages: list[Page]) -> list[Page]:
    """*pages* ready to render, their bodies read from the memo where they were not loaded."""
    bodies = load_html(site, [page.context["article"].path for page in pages if "body" in page.context])
    return [with_body(page, bodies) for page in pages]


def _render_chunk(site: LoadedSite, bodies: dict[str, RenderedBody], pages: list[Page]) -> list[tuple[str, bytes | TemplateError]]:
    """Render *pages* with this process's renderer for *site*, so that its cards and fragments serve every chunk; a page
    a template mistake breaks gives that error, so that one run finds every mistake."""
    global _RENDERER
    if _RENDERER is None or _RENDERER[0] is not site:
        _RENDERER = (site, PageRenderer(site.config, site.index, site.nav_links))
    renderer = _RENDERER[1]
    done: list[tuple[str, bytes | TemplateError]] = []
    for page in pages:
        try:
            done.append((page.url, renderer.render(with_body(page, bodies))))
        except TemplateError as exc:
            done.append((page.url, exc))
    return done


def _unless_cancelled(progress: Progress, cancel: threading.Event, stage: str) -> None:
    if cancel.is_set():
        raise Cancelled
    progress(stage)


def output_refusal(options: BuildOptions) -> Problem | None:
    """site.yaml's ``output_dir`` when the build must not replace that folder (at its line); ``--output``'s, or the default
    one, is a usage error."""
    config, _ = load_config(options.source)
    try:
        check_output_dir(config.output_folder(options.output), config.root, walk=False)
    except UsageError as exc:
        line = setting_lines(config).get("output_dir")
        if options.output is not None or line is None:
            raise
        return error(config.path, line, f"output_dir: {exc}")
    return None


def build_site(
    options: BuildOptions,
    progress: Progress = _no_progress,
    memo: Memo | None = None,
    state: bytes | None = None,
    check_unchanged: bool = True,
    search_later: bool = False,
    cancel: threading.Event | None = None,
) -> BuildResult:
    """Load, check, render and publish the site; the previous output stays on any error.

    With the memo (unless ``--no-cache``), a build stops when the stamps of the inputs are the last build's (unless the
    caller compared them and passes their *state*, or says *check_unchanged* False), else renders only the outputs whose
    hash changed. With *search_later* (``serve``) the search index is neither planned nor made: the last one stays and
    the result says it is pending. Setting *cancel* gives the build up at its next stage or while the index is made
    (search.Cancelled), leaving the output as it was.
    """
    started = time.perf_counter()
    if cancel is not None:  # given up at the next stage, not only once the index is being made
        progress = functools.partial(_unless_cancelled, progress, cancel)
    if memo is None:
        memo = Memo(options.source) if options.cache else NO_MEMO
    if state is None and memo.enabled and check_unchanged:
        state = inputs_state(options)
        unchanged = unchanged_build(options, state, started)
        if unchanged is not None:
            return unchanged
    if (refused := output_refusal(options)) is not None:  # before any work
        raise ContentError([refused])
    site = load_site(options, memo, progress, ahead=memo.enabled)
    output = site.config.output_folder(options.output)
    progress("rendering pages")
    hashes = plan_outputs(site)
    waiting = lambda: print(f"Waiting for another build into {output} to finish…", file=sys.stderr, flush=True)  # noqa: E731
    with output_lock(output, waiting):
        # With search_later, the last index stays as it is, unplanned: the next build finds what is out of date.
        search = None
        if site.config.search and not search_later:  # a site's own article.html may put what the index reads anywhere on the page
            own = (site_templates(site.config) / "article.html").is_file()
            search = plan_search(site.index.articles, hashes if own else indexed_hashes(site), memo, whole_pages=own)
        hashes |= search.files if search else {}
        known = (read_manifest(output) or {}) if memo.enabled else {}  # what the last build wrote, read once
        reuse = up_to_date(output, hashes, known)
        if not reuse:  # the whole folder is replaced: look for files no build wrote anywhere in it
            check_output_dir(output, site.config.root)
        stale = search.stale(reuse) if search is not None else []
        reuse -= {url for shard in stale for url in shard.files}
        if site.config.search and search_later:
            keep_previous_index(output, known, hashes, reuse)
        todo = hashes.keys() - reuse - site.copies.keys() - (search.files.keys() if search else set())
        files = render_outputs(site, sorted(todo), options.jobs, memo.enabled)
        if search is not None and stale:
            files = index_site(search, stale, files, output, hashes, memo, options.jobs, cancel)
        progress("writing files")
        try:
            published = publish(output, files, site.copies, hashes, reuse, source_date_epoch(), known)
        except OSError as exc:  # a read-only or full disk: say where, not "internal error"
            where = str(exc.filename or output)
            if STAGING_PREFIX in where:  # the file's place in the output folder, not in the build's temporary one
                where = str(output / where.partition(STAGING_PREFIX)[2].partition("/")[2])
            hint = "; a folder or file is in the way there: delete it" if exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST) else ""
            raise UsageError(f"cannot write {where} ({exc.strerror or exc}){hint}; the previous output was left as it was") from exc
        stop_drawing_ahead()  # when no card was rendered (a build that fails first leaves it to the next build or the exit)
        memo.save()
        result = BuildResult(
            len(site.articles),
            len(site.pages),
            published,
            time.perf_counter() - started,
            output,
            site.warnings,
            len(todo),
            "fresh" if not reuse else "update",
            held_back=site.held_back,
            search_pending=site.config.search and search_later,
        )
        if state is not None and memo.enabled and not result.search_pending:  # a pending index is no finished build
            save_state(options, state, site.next_change, output, result)
    return result
