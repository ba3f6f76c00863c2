"""The build with a cache: parse, index, render and write only what changed.

Three ways through, chosen by what the cache (:mod:`digest.cache`) proves:

- **nothing changed**: every input file has the stat signature it had after
  the last build, the options are the same, no article's publication or expiry
  moment has been reached since, and the output folder is the one written last
  time. Nothing is parsed or written.
- **update**: the output folder is the one the cache describes. Changed article
  files are parsed again and changed bodies rendered again; the index is reused
  when no article's metadata changed. Each page, feed and other output file is
  rendered only when its key or a dependency token changed, and written only
  when its bytes differ. New bytes go to a staging folder first, then a commit
  journal is written and the files are renamed into place; a build killed
  during the commit is rolled forward by the next one, which then rebuilds
  from scratch.
- **fresh**: no usable cache or output. Everything is rendered, written to a
  staging folder and swapped in whole (:mod:`digest.output`), and the cache is
  written anew.

In every case all checks run before the first byte is written, so a build with
errors leaves the previous output as it was.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .cache import (
    CACHE_DIR,
    Cache,
    Dep,
    TokenSource,
    Unfingerprintable,
    digest,
    file_signature,
    fingerprint,
    inputs_state,
    option_parts,
    pack_deps,
    take_content_signatures,
    tree_signatures,
)
from .changes import entities_by_ref, own_fields, pages_known_unchanged
from .config import SiteConfig, load_config
from .content import Article, find_article_paths, find_url_collisions, read_article
from .errors import ContentError, Problem, UsageError
from .feeds import Feed, iter_feeds, plan_feeds
from .images import font_problems, share_cards, share_image
from .index import SiteIndex, build_index
from .markdown import RenderedBody, body_inputs, render_bodies
from .output import MANIFEST, STAGING_PREFIX, SiteWriter, check_output_dir, leftover_folders, remove_leftovers, some_of, swap_in, url_to_relpath
from .pages import Crumb, Page, plan_article, plan_pages
from .relative import relativize_pages
from .render import BUNDLED, PageRenderer, entity_ref, hashed_static_copies
from .seo import render_seo_files
from .stored_index import StoredIndex, load_index, save_index
from .workers import can_fork, fork_pool, in_chunks

COMMIT_JOURNAL = ".digest-commit"  # in an update's staging folder: the renames still to make
PARALLEL_PAGES = 400  # below this much to render (in article pages: _work_of), workers cost more than they save
NEVER = float("inf")
LAZY_BODIES = 200  # with more changed files than this, an update reads every body's row at once
COPY = b"copy:"  # keys of files copied as they are start with this


@dataclass(frozen=True)
class Outcome:
    articles: int
    pages: int
    files: int
    written: int
    output: Path
    warnings: list[Problem]
    mode: str  # "fresh", "update" or "unchanged"
    rendered: int = 0  # pages rendered (the others were known to be unchanged)
    keyed: int = 0  # pages keyed (the others were known to be unchanged without it)


@dataclass(slots=True)
class Source:
    """One article file as the cache knows it."""

    path: str
    sig: str
    hash: bytes  # hash of what rendering its body reads (markdown.BODY_FIELDS)
    token: bytes  # hash of the article's metadata (everything but its body)
    published: float  # timestamp of its date
    draft: bool
    expires: float  # timestamp, or NEVER
    url: str
    problems: list[Problem]
    article: Article | None = None  # loaded on demand from the cache
    fresh: Article | None = None  # parsed in this build, body included
    changed: bool = False  # parsed in this build


class StoredBody:
    """A rendered body whose HTML is read from the cache only when a template needs it."""

    __slots__ = ("_html", "_load", "links", "minutes", "path", "summary", "token")

    def __init__(
        self, path: str, summary: str, minutes: int, token: bytes, links: tuple[str, ...], load: Callable[[str], str] | None, html: str | None = None
    ) -> None:
        self.path = path
        self.summary = summary
        self.minutes = minutes
        self.token = token
        self.links = links
        self._load = load
        self._html = html

    @property
    def html(self) -> str:
        if self._html is None:
            assert self._load is not None
            self._html = self._load(self.path)
        return self._html


class CachedSources(dict[str, Source]):
    """Sources of a build whose article metadata is the last build's: the changed ones parsed, the others read from their cache rows when asked for."""

    def __init__(self, db: Any, all_paths: list[str]) -> None:
        super().__init__()
        self.db = db
        self.all_paths = all_paths  # every article file, in file order

    def __missing__(self, path: str) -> Source:
        row = self.db.execute("SELECT sig, hash, token, published, draft, expires, url, problems FROM sources WHERE path=?", (path,)).fetchone()
        if row is None:
            raise KeyError(path)
        source = self[path] = Source(path, row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], pickle.loads(row[7]) if row[7] else [])
        return source

    def get(self, path: str, default: Any = None) -> Any:
        try:
            return self[path]
        except KeyError:
            return default


class StaleCache(Exception):
    """The cache contradicts itself: the build starts again without it."""


def body_key(source: Source, parse_key: bytes) -> bytes:
    """What a cached body is stored under: what rendering reads of its article, and the Markdown settings."""
    return source.hash + parse_key


class StoredBodies(dict[str, Any]):
    """Rendered bodies that are read from the cache as they are asked for (see ``CachedBuild._bodies``)."""

    def __init__(self, db: Any, sources: dict[str, Source], parse_key: bytes, load: Callable[[str], str]) -> None:
        super().__init__()
        self.db = db
        self.sources = sources
        self.parse_key = parse_key
        self.load = load  # a body's HTML, when a template needs it

    def __missing__(self, path: str) -> StoredBody:
        row = self.db.execute("SELECT key, links, summary, minutes, token FROM bodies WHERE path=?", (path,)).fetchone()
        source = self.sources.get(path)
        if row is None or source is None or row[0] != body_key(source, self.parse_key) or row[1]:
            raise StaleCache(path)  # bodies with links were all looked at already
        body = self[path] = StoredBody(path, row[2], row[3], row[4], (), self.load)
        return body


def meta_token(article: Article) -> bytes:
    """A hash of everything other pages can show of an article: all but its body."""
    return digest(repr(replace(article, body="", expired=False)))


def body_token(body: RenderedBody) -> bytes:
    return digest(body.html, body.summary, str(body.minutes))


class SiteTokens(TokenSource):
    """Tokens of this build's articles, bodies and entities, computed once each."""

    def __init__(self, index: SiteIndex, article_tokens: dict[str, bytes]) -> None:
        self.index = index
        self.article_tokens = article_tokens
        self.memo: dict[Dep, bytes | None] = {}
        self._entities: dict[str, Any] | None = None
        # Fingerprint and dependency parts, asked for again and again across pages. Entities
        # are remembered by identity: the index holds every one of them for the whole build.
        self._article_parts: dict[str, bytes] = {}  # by path, for articles not expired
        self._entity_parts: dict[int, bytes | None] = {}
        self._dep_parts: dict[bytes, bytes | None] = {}  # by the dependency as pack_deps writes it
        self.seen: set[str] | None = None  # when a set: the paths of the articles fingerprinted go in it

    def article(self, article: Any) -> bytes:
        token = self.article_tokens[article.path]
        return token + b"x" if article.expired else token

    def body(self, body: Any) -> bytes:
        token = getattr(body, "token", None)
        return token if isinstance(token, bytes) else body_token(body)

    def entity(self, value: Any) -> bytes | None:
        ref = entity_ref(value)
        return None if ref is None else self.dep((ref, False))

    def article_part(self, article: Any) -> bytes:
        if self.seen is not None:
            self.seen.add(article.path)
        part = self._article_parts.get(article.path)
        if part is None or article.expired:
            part = super().article_part(article)
            if not article.expired:
                self._article_parts[article.path] = part
        return part

    def entity_part(self, value: Any) -> bytes | None:
        key = id(value)
        if key not in self._entity_parts:
            self._entity_parts[key] = super().entity_part(value)
        return self._entity_parts[key]

    def entities(self) -> dict[str, Any]:
        if self._entities is None:
            self._entities = entities_by_ref(self.index)
        return self._entities

    def dep(self, dep: Dep) -> bytes | None:
        """The current token of what *dep* names; None when it no longer exists."""
        if dep in self.memo:
            return self.memo[dep]
        token: bytes | None
        ref, deep = dep
        if ref.startswith("card:"):
            path = ref[5:]
            token = self.article_tokens.get(path)
        else:
            value = self.entities().get(ref)
            if value is None:
                token = None
            else:
                token = digest(ref, repr(sorted(own_fields(value))))
                if deep:
                    months = getattr(value, "months", None)
                    if months is not None:
                        token = digest(token, *[self.dep((entity_ref(m) or "", True)) or b"" for m in months])
                    else:  # one hash over every article's token (fixed-length parts): a tag's list may hold thousands
                        known = self.article_tokens
                        listed = b"".join([known[a.path] + (b"x" if a.expired else b".") for a in value.articles])
                        token = hashlib.blake2b(token + listed, digest_size=16).digest()
        self.memo[dep] = token
        return token

    def deps_token(self, deps: Iterable[Dep]) -> bytes | None:
        """The token of everything in *deps*, or None when one of them no longer exists."""
        return self.packed_deps_token(pack_deps(deps, b""))

    def packed_deps_token(self, refs: bytes) -> bytes | None:
        """``deps_token`` of dependencies as ``pack_deps`` wrote them (without the token in front)."""
        parts: list[bytes] = []
        for raw in refs.split(b"\0") if refs else ():
            part = self._dep_parts.get(raw, b"")
            if part == b"":
                dep = (raw[1:].decode("utf-8", "surrogatepass"), raw[:1] == b"1")
                token = self.dep(dep)
                part = self._dep_parts[raw] = None if token is None else raw + b"\x1f" + token.hex().encode()
            if part is None:
                return None
            parts.append(part)
        return hashlib.blake2b(b"\x1e".join(parts), digest_size=16).digest()


def page_key(page: Page, tokens: SiteTokens, render_key: bytes) -> bytes | None:
    try:
        return digest(render_key, page.url, page.template, page.title, page.description, repr(page.crumbs), fingerprint(page.context, tokens))
    except Unfingerprintable:
        return None


class FeedKeys:
    """The key of each feed: what its entries show, each article's part computed once across all feeds."""

    def __init__(self, index: SiteIndex, tokens: SiteTokens, bodies: Mapping[str, Any], render_key: bytes) -> None:
        self.index = index
        self.tokens = tokens
        self.bodies = bodies
        self.newest = tokens.article(index.articles[0]) if index.articles else b""
        self.render_key = render_key
        self.entries: dict[str, bytes] = {}

    def entry(self, article: Article) -> bytes:
        part = self.entries.get(article.path)
        if part is None:
            tokens, index = self.tokens, self.index
            parts = [tokens.article(article), tokens.body(self.bodies[article.path]), tokens.entity(index.topic_of[article.topic]) or b""]
            parts += [tokens.entity(tag) or b"" for tag in index.tags_of[article.path]]
            part = self.entries[article.path] = digest(*parts)
        return part

    def key(self, feed: Feed) -> bytes:
        # Only an empty feed shows the newest article (its update time): a new story does not touch every feed.
        newest = b"" if feed.articles else self.newest
        return digest(self.render_key, repr((feed.link, feed.description, feed.page_url)), newest, *[self.entry(a) for a in feed.articles])


# ----------------------------------------------------------------------------
# rendering pages, in worker processes when there are many


@dataclass(frozen=True)
class RenderedPage:
    rel: str  # its path in the output folder
    digest: bytes
    deps: bytes | None  # what its templates read, packed with its token (cache.pack_deps); None when one no longer exists
    written: bool


@dataclass
class PageWork:
    """What deciding and rendering pages needs; forked workers share it instead of pickling it."""

    config: SiteConfig
    index: SiteIndex
    tokens: SiteTokens
    render_key: bytes
    nav: bytes  # the token of the topics every page's navigation shows
    old: dict[str, tuple[bytes, bytes]]  # rel path -> (key, digest) the output holds now
    stored_deps: dict[str, bytes]  # rel path -> what its last render read (cache.pack_deps)
    fast: bool  # only bodies changed: every page given is rendered
    relative: bool
    compiled: Path | None
    bodies: Mapping[str, Any]  # every published article's body, for the feeds
    stale: set[bytes] | None = None  # when known (changes.pages_known_unchanged): the recorded reads that changed, as pack_deps writes them
    verify: bool = False  # tests (DIGEST_VERIFY_KEPT): check every shortcut taken with *stale* the long way


@dataclass
class PageOutcome:
    url: str
    rel: str
    key: bytes
    page: RenderedPage | None  # None: the page is known to be unchanged
    data: bytes | None  # bytes to write; None when the output already holds them


def process_pages(
    work: PageWork, pages: list[Page], writer: SiteWriter, jobs: int, feeds: list[Feed] | None = None, put: Callable[[str, bytes], None] | None = None
) -> list[PageOutcome]:
    """Key every page, render those whose inputs changed and write those whose bytes did.

    With many pages, forked workers key and render batches of them and this
    process writes each batch as it comes back: creating files is slow on many
    disks and mostly waiting, so the writing overlaps the rendering. *feeds*
    (their keys already known to have changed) are rendered too, by the
    workers first when there are any, and handed to ``put(rel, data)``.
    """
    done: list[PageOutcome] = []
    feeds = feeds or []

    def keep(outcome: PageOutcome) -> None:
        if outcome.data is not None:
            writer.write(outcome.url, outcome.data)
            outcome.data = None
        done.append(outcome)

    def keep_feeds(made: Iterable[tuple[str, bytes]]) -> None:
        assert put is not None
        for url, data in made:
            put(url_to_relpath(url), data)

    if jobs > 1 and _work_of(pages) >= PARALLEL_PAGES and can_fork():
        feed_batches = [feeds[i : i + FEED_BATCH] for i in range(0, len(feeds), FEED_BATCH)]
        batches = [pages[i : i + PAGE_BATCH] for i in range(0, len(pages), PAGE_BATCH)]
        # At most a few batches rendered ahead of the writing: a slow disk must not let
        # finished pages pile up in this process.
        window = threading.Semaphore(jobs * BATCHES_AHEAD)
        stop = threading.Event()

        def handed_out() -> Iterator[int]:  # runs on the pool's feeder thread
            for number in range(len(feed_batches) + len(batches)):
                while not window.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                yield number

        global _WORK
        _WORK = (work, feed_batches, batches)
        try:
            with fork_pool(jobs) as pool:
                try:
                    for outcomes, made in pool.imap(_page_batch, handed_out()):
                        window.release()
                        keep_feeds(made)
                        for outcome in outcomes:
                            keep(outcome)
                finally:
                    stop.set()  # before the pool is shut down, which waits for its feeder thread
        finally:
            _WORK = None
        return done
    if feeds:
        keep_feeds(iter_feeds(work.config, work.index, work.bodies, feeds))  # one file at a time, as iter_feeds makes them
    worker = PageWorker(work)
    for page in pages:
        keep(worker.process(page))
    return done


def _work_of(pages: list[Page]) -> int:
    """Roughly how much rendering *pages* takes, in article pages: a list page renders a card for each article it lists."""
    return sum(1 + len(page.context["articles"]) // LIST_CARDS_PER_PAGE if "articles" in page.context else 1 for page in pages)


LIST_CARDS_PER_PAGE = 10  # the cards of a list page that render about as long as one article page
PAGE_BATCH = 64  # pages a worker keys and renders before handing them back to be written
FEED_BATCH = 16  # feeds a worker renders before handing them back
BATCHES_AHEAD = 3  # batches each worker may have rendered and not yet written
_WORK: Any = None  # what forked workers do: set just before the pool forks
_WORKER: PageWorker | None = None  # one per worker process, kept across its batches (it keeps rendered cards)
_FEED_ENTRIES: dict[str, tuple[str, str]] = {}  # one worker's feed entries, kept across its batches


def verify_kept(work: PageWork, pages: list[Page]) -> None:
    """Key and check each of *pages* as usual, and fail unless every one comes out unchanged (a test of ``pages_known_unchanged``)."""
    worker = PageWorker(work)
    wrong = [page.url for page in pages if worker.process(page).page is not None]
    if wrong:
        raise AssertionError(f"pages taken as unchanged that changed: {some_of(wrong)}")


def _page_batch(number: int) -> tuple[list[PageOutcome], list[tuple[str, bytes]]]:
    """Batch *number*: the feed batches come first, then the page batches; returns (page outcomes, (feed URL, bytes))."""
    global _WORKER
    work, feed_batches, batches = _WORK
    if number < len(feed_batches):
        return [], list(iter_feeds(work.config, work.index, work.bodies, feed_batches[number], _FEED_ENTRIES))
    if _WORKER is None:
        _WORKER = PageWorker(work)
    return [_WORKER.process(page) for page in batches[number - len(feed_batches)]], []


class PageWorker:
    """Keys and renders pages one at a time for one process."""

    def __init__(self, work: PageWork) -> None:
        self.work = work
        self.renderer: PageRenderer | None = None

    def process(self, page: Page) -> PageOutcome:
        work = self.work
        rel = url_to_relpath(page.url)
        seen = work.tokens.seen = set()
        try:
            key = page_key(page, work.tokens, work.render_key)
        finally:
            work.tokens.seen = None
        key = digest(key, work.nav) if key is not None else os.urandom(16)
        previous = work.old.get(rel)
        if previous is not None and previous[0] == key and not work.fast and self._deps_unchanged(rel):
            return PageOutcome(page.url, rel, key, None, None)
        if self.renderer is None:
            self.renderer = PageRenderer(work.config, work.index, work.compiled)
        data, deps = self.renderer.render(page)
        if work.relative:
            data = relativize_pages(work.config, {page.url: data})[page.url]
        hashed = digest(data)
        write = previous is None or previous[1] != hashed
        # A card of an article in the context needs no dependency of its own: the key holds the article's token.
        deps = frozenset(dep for dep in deps if not (dep[0].startswith("card:") and dep[0][5:] in seen))
        token = work.tokens.deps_token(deps)
        rendered = RenderedPage(rel, hashed, pack_deps(deps, token) if token is not None else None, write)
        return PageOutcome(page.url, rel, key, rendered, data if write else None)

    def _deps_unchanged(self, rel: str) -> bool:
        blob = self.work.stored_deps.get(rel)
        if blob is None:
            return False
        if self.work.stale is not None:  # told without the tokens (the tags index page reads every tag's list)
            unchanged = len(blob) == 16 or self.work.stale.isdisjoint(blob[16:].split(b"\0"))
            if unchanged and self.work.verify:
                assert self.work.tokens.packed_deps_token(blob[16:]) == blob[:16], f"recorded reads of {rel} taken as unchanged changed"
            return unchanged
        return bool(self.work.tokens.packed_deps_token(blob[16:]) == blob[:16])


# ----------------------------------------------------------------------------
# the build


@dataclass
class Plan:
    """What this build's output holds: every file's key, the files copied as they are, and the hashes of the bytes."""

    keys: dict[str, bytes] = field(default_factory=dict)  # rel path -> key
    copies: dict[str, Path] = field(default_factory=dict)  # rel path -> source file
    digests: dict[str, bytes] = field(default_factory=dict)  # rel path -> hash of the bytes now in the output


class CachedBuild:
    """One build of one site through the cache."""

    def __init__(self, options: Any, progress: Callable[[str], None], now: datetime, epoch: int | None, state: bytes | None = None) -> None:
        self.options = options
        self.progress = progress
        self.now = now
        self.epoch = epoch
        self.root: Path = options.source
        self.cache = Cache(self.root)
        self.state = state

    # -- the three ways -----------------------------------------------------

    def run(self) -> Outcome:
        # The articles and the index are long-lived and hold no cycles, so the cycle
        # collector only wastes time on them as they pile up (a third of loading a
        # large cached index). It stays off while they load, and then they are frozen
        # out of its sight, which also keeps forked workers from copying the pages
        # it would otherwise touch.
        enabled = gc.isenabled()
        gc.disable()
        try:
            try:
                return self._run()
            except StaleCache:  # caught before anything was written: build afresh
                gc.unfreeze()
                self.cache.discard()
                self.cache = Cache(self.root)
                return self._run()
        finally:
            self.cache.close()
            gc.unfreeze()
            if enabled:
                gc.enable()

    def _run(self) -> Outcome:
        from .site import check_copies, find_copies, find_page_collisions, output_folder, override_base_url

        options = self.options
        usable = options.cache and self.cache.open()
        state = self.state or (inputs_state(self.root, option_parts(options, self.epoch)) if options.cache else b"")
        config, problems = load_config(options.source)
        if any(p.is_error for p in problems):
            raise ContentError(problems)
        config = override_base_url(config, options.base_url)
        output = output_folder(options, config).resolve()

        version, self._generator = self.cache.generator_version()
        parse_key = digest(version, (self.root / "site.yaml").read_bytes(), config.base_url)
        render_key = digest(parse_key, self._tree_hash(self.root / "templates"), self._tree_hash(BUNDLED / "templates"), repr(options.relative))
        leftover = bool(leftover_folders(output))
        if leftover and roll_forward(output):  # finish what an interrupted update had committed to
            usable = False
        trusted = usable and not leftover and self._trusted(output)
        if not usable:
            self.cache = Cache(self.root)
        mode = "update" if trusted else "fresh"
        check_output_dir(output, config.root, walk=mode == "fresh")

        self.progress("reading articles")
        files, problems_more = find_article_paths(config.root)
        known = take_content_signatures(config.root / "content")
        quick = self._same_metadata(config, parse_key, files, known) if trusted and not problems_more else None
        stored_index = self._stored_index(parse_key) if trusted else None
        sources: dict[str, Source]
        published: list[str]
        expired_paths: set[str]
        if quick is not None and stored_index is not None:  # the metadata and so the index are the last build's
            sources, more = quick
            problems += problems_more + more
            index_key = stored_index[0]
            published, expired_paths = [a.path for a in stored_index[1].index.articles + stored_index[1].index.expired], set()
        else:
            sources, more = self._read_sources(config, parse_key if usable else b"", files, known)
            problems += problems_more + more
            published, expired_paths, index_key, more = self._publish(sources)
            index_key = digest(parse_key, index_key)
            problems += more

        # Index: reuse the last one when no published article's metadata changed.
        self.progress("indexing")
        self._stored_index_key = stored_index[0] if stored_index is not None else None  # None: not known, so saved
        self._loaded_index = stored_index[1] if stored_index is not None else None
        previous: tuple[SiteIndex, dict[str, bytes]] | None = None
        if stored_index is not None and stored_index[0] == index_key:
            index, index_problems = stored_index[1].index, stored_index[1].problems
            index_reused = True
        else:
            previous = self._previous_index(sources, stored_index[1]) if stored_index is not None else None
            articles = self._articles(sources, published, expired_paths)
            index, index_problems = build_index(config, articles, options.jobs, previous[0] if previous is not None else None)
            index_reused = False
        problems += index_problems
        if isinstance(sources, CachedSources):  # the stored index's tokens: _same_metadata found every changed file's token unchanged
            assert stored_index is not None
            article_tokens = stored_index[1].tokens
        else:
            article_tokens = {p: sources[p].token for p in published}

        gc.freeze()
        gc.enable()

        self.progress("rendering Markdown")
        bodies, changed_bodies, body_problems = self._bodies(config, sources, index, parse_key, usable, lazy=trusted and index_reused)
        problems += body_problems

        copies = find_copies(config)
        problems += check_copies(config, copies)
        copies |= hashed_static_copies(copies)
        fast = trusted and index_reused and self.cache.get("render_key") == render_key
        pages: list[Page]
        if fast:
            home = Crumb("Headlines", "/")
            pages = [plan_article(a, index, bodies[a.path], home) for a in index.articles + index.expired if a.path in changed_bodies]
        else:
            self.progress("planning pages")
            pages = plan_pages(config, index, bodies)
            problems += find_page_collisions(pages, copies)
            problems += font_problems(config, index)
        if any(p.is_error for p in problems):
            self.cache.close()
            raise ContentError(problems)
        warnings = sorted(p for p in problems if not p.is_error)

        tokens = SiteTokens(index, article_tokens)
        self._tokens = tokens
        stored_deep = self.cache.get("deep_tokens") if trusted else None  # the last build's tokens of entities' article lists
        if not isinstance(stored_deep, dict):
            stored_deep = {}
        if index_reused:  # the same index: every entity's list is as it was
            tokens.memo.update(((ref, True), token) for ref, token in stored_deep.items())
        self.progress("rendering pages")
        old = self._old_outputs() if trusted else {}
        plan = Plan()
        output.parent.mkdir(parents=True, exist_ok=True)
        if leftover:  # only now that every check passed: an earlier build's leftovers may hold the only copy of the site
            remove_leftovers(output)
        staging = output.parent / f"{STAGING_PREFIX}{output.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        writer = SiteWriter(staging, self.epoch)
        written: list[str] = []

        def put(rel: str, data: bytes) -> None:  # into the staging folder now, unless the output holds these bytes
            hashed = plan.digests[rel] = digest(data)
            if old.get(rel, (None, None))[1] != hashed or mode == "fresh":
                writer.write("/" + rel, data)
                written.append(rel)

        try:
            feeds = plan_feeds(config, index)
            feed_keys = FeedKeys(index, tokens, bodies, render_key)
            for feed in feeds:
                kept = old.get(url_to_relpath(feed.link.atom)) if fast and not any(a.path in changed_bodies for a in feed.articles) else None
                key = kept[0] if kept is not None else feed_keys.key(feed)  # fast: only its changed bodies can change a feed
                for url in (feed.link.atom, feed.link.json):
                    plan.keys[url_to_relpath(url)] = key
            dirty_feeds = [f for f in feeds if old.get(url_to_relpath(f.link.atom), (None,))[0] != plan.keys[url_to_relpath(f.link.atom)]]
            if not fast:
                for url, data in render_seo_files(config, index, pages).items():
                    put(url_to_relpath(url), data)
                    plan.keys[url_to_relpath(url)] = b"seo"
                fonts: dict[Any, Any] = {}
                for url, card in share_cards(config, index).items():
                    rel = url_to_relpath(url)
                    plan.keys[rel] = digest(card.cache_key())
                    if old.get(rel, (None,))[0] != plan.keys[rel]:
                        put(rel, share_image(config, card, fonts))
            for url, path in copies.items():
                rel = url_to_relpath(url)
                plan.keys[rel] = COPY + digest(str(path), file_signature(path))
                plan.copies[rel] = path
            if fast:  # the other outputs (but copies, all listed above) stay as the last build left them
                for rel, (key, _digest) in old.items():
                    if not key.startswith(COPY):
                        plan.keys.setdefault(rel, key)
            stored_deps: dict[str, bytes] = {}
            if old and not fast and self.cache.db is not None:
                stored_deps = {rel: deps for rel, deps in self.cache.db.execute("SELECT rel, deps FROM outputs WHERE deps IS NOT NULL")}
            nav = digest(*[tokens.entity(t) or b"" for t in index.topics])
            compiled = self._compiled_templates(config) if options.cache else None
            work = PageWork(config, index, tokens, render_key, nav, old, stored_deps, fast, options.relative, compiled, bodies)
            same: set[str] = set()
            verify = bool(os.environ.get("DIGEST_VERIFY_KEPT"))  # tests: check every shortcut below the long way
            if previous is not None and stored_deps and self.cache.get("render_key") == render_key:
                found = pages_known_unchanged(config, pages, previous[0], previous[1], index, article_tokens, changed_bodies, old, stored_deps)
                if found is not None:
                    same, work.stale = found
                    # The lists the changed refs do not name are as they were, and so are their tokens.
                    tokens.memo.update(
                        ((ref, True), token) for ref, token in stored_deep.items() if b"1" + ref.encode("utf-8", "surrogatepass") not in work.stale
                    )
                    work.verify = verify
                    if verify:  # every page kept as unchanged must key as unchanged
                        verify_kept(replace(work, stale=None), [p for p in pages if url_to_relpath(p.url) in same])
            del previous
            outcomes = process_pages(work, [p for p in pages if url_to_relpath(p.url) not in same] if same else pages, writer, options.jobs, dirty_feeds, put)
            if verify:  # every list token taken from the last build is the one it has now
                fresh = SiteTokens(index, article_tokens)
                wrong = [ref for (ref, deep), token in tokens.memo.items() if deep and not ref.startswith("card:") and fresh.dep((ref, True)) != token]
                assert not wrong, f"list tokens taken as unchanged that changed: {some_of(wrong)}"
            for rel in same:
                plan.keys[rel] = old[rel][0]
            for o in outcomes:
                plan.keys[o.rel] = o.key
            rendered = [o.page for o in outcomes if o.page is not None]
            self.progress("writing files")
            written += self._write(writer, rendered, plan, old, mode)
            if mode == "fresh":
                swap_in(staging, output)
            else:
                taken = sorted(rel for rel in written if rel not in old and rel != MANIFEST and os.path.lexists(output / rel))
                if taken:
                    raise UsageError(
                        f"refusing to overwrite {some_of(taken)} in {output}: the previous build did not write them; "
                        "put such files in content/ instead (copied to the same path on every build) or delete them"
                    )
                self._commit(staging, output, written, [rel for rel in old if rel not in plan.keys])
        finally:
            shutil.rmtree(staging, ignore_errors=True)

        self._save(state, sources, index, index_key, index_problems, render_key, parse_key, plan, rendered, old, warnings, mode, output)
        pages_count = sum(1 for rel in plan.keys if rel.endswith(".html"))
        return Outcome(len(published), pages_count, len(plan.keys) + 1, len(written), output, warnings, mode, len(rendered), len(outcomes))

    # -- pieces ---------------------------------------------------------------

    def _trusted(self, output: Path) -> bool:
        """Whether the output folder is exactly what the cache says the last build wrote."""
        try:
            stored = self.cache.get("state")
        except Exception:
            return False
        if not stored or stored["output"] != str(output):
            return False
        return bool(file_signature(output / MANIFEST) == stored["manifest"])

    def _compiled_templates(self, config: SiteConfig) -> Path | None:
        """The cache folder for Jinja's compiled templates (keyed by their source), or None."""
        folder = config.root / CACHE_DIR / "templates"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return folder

    def _tree_hash(self, folder: Path) -> bytes:
        parts: list[bytes | str] = []
        for rel, _sig in tree_signatures(folder):
            parts.append(rel)
            path = folder / rel
            try:
                parts.append(path.read_bytes() if path.is_file() else "not a file")
            except OSError:
                parts.append("unreadable")
        return digest(*parts)

    def _read_sources(self, config: SiteConfig, parse_key: bytes, files: list[str], known: dict[str, str]) -> tuple[dict[str, Source], list[Problem]]:
        problems: list[Problem] = []
        rows: dict[str, tuple[Any, ...]] = {}
        if self.cache.db is not None and parse_key:
            for row in self.cache.db.execute("SELECT path, sig, hash, parse_key, token, published, draft, expires, url, problems FROM sources"):
                rows[row[0]] = row
        self._stored_sigs = {path: row[1] for path, row in rows.items()}
        sources: dict[str, Source] = {}
        todo: list[tuple[Path, str, str]] = []
        prefix = len(str(config.root / "content")) - len("content")  # "" for a root of "."
        for path in files:
            rel = path[prefix:].replace(os.sep, "/")
            sig = known.get(rel[8:]) or file_signature(Path(path))  # rel[8:]: the path under content/
            row = rows.get(rel)
            if row is not None and row[1] == sig and row[3] == parse_key:
                sources[rel] = Source(rel, sig, row[2], row[4], row[5], bool(row[6]), row[7], row[8], pickle.loads(row[9]) if row[9] else [])
            else:
                todo.append((Path(path), rel, sig))
        for (_path, rel, sig), (article, more, token, body_hash) in zip(todo, read_articles(config, [t[0] for t in todo], self.options.jobs), strict=True):
            if article is None:
                sources[rel] = Source(rel, sig, b"", b"", 0.0, False, NEVER, "", more, changed=True)
                continue
            stripped = replace(article, body="")
            sources[rel] = Source(
                rel,
                sig,
                body_hash,
                token,
                article.date.timestamp(),
                article.draft,
                article.expires.timestamp() if article.expires else NEVER,
                article.url,
                more,
                article=stripped,
                fresh=article,
                changed=True,
            )
        for path in files:  # problems in file order, whichever way each was read
            problems.extend(sources[path[prefix:].replace(os.sep, "/")].problems)
        return sources, problems

    def _same_metadata(self, config: SiteConfig, parse_key: bytes, files: list[str], known: dict[str, str]) -> tuple[CachedSources, list[Problem]] | None:
        """The sources, when no article's metadata can differ from the last build's; else None.

        That holds when the same article files are there, every file whose
        stat signature changed parses to the metadata it had (its token, draft
        flag, dates and URL), and no publication or expiry moment has been
        reached since. Only the changed files are read; the cache rows of the
        others are read as they are asked for (see :class:`CachedSources`), so
        a body edit to one article of 10,000 does not build 10,000 sources.
        """
        db = self.cache.db
        state = self.cache.get("state")
        if db is None or not isinstance(state, dict) or self.now.timestamp() >= state.get("next_change", 0):
            return None
        last = state.get("published_as")  # what the last build published by: drafts, future articles, its "now"
        if not (isinstance(last, tuple) and last[:2] == self._published_as()[:2] and self.now.timestamp() >= last[2]):
            return None
        if db.execute("SELECT 1 FROM sources WHERE parse_key IS NOT ? LIMIT 1", (parse_key,)).fetchone():
            return None
        stored = dict(db.execute("SELECT path, sig FROM sources"))
        if len(stored) != len(files):
            return None
        prefix = len(str(config.root / "content")) - len("content")
        rels = [path[prefix:].replace(os.sep, "/") for path in files]
        changed: list[tuple[Path, str, str]] = []
        for path, rel in zip(files, rels, strict=True):
            sig = known.get(rel[8:]) or file_signature(Path(path))
            before = stored.get(rel)
            if before is None:
                return None  # a new file
            if before != sig:
                changed.append((Path(path), rel, sig))
        if len(changed) > LAZY_BODIES:
            return None
        sources = CachedSources(db, rels)
        for (_path, rel, sig), (article, more, token, body_hash) in zip(
            changed, read_articles(config, [c[0] for c in changed], self.options.jobs), strict=True
        ):
            old = sources.get(rel)
            if article is None or old is None or (token, article.draft, article.url) != (old.token, old.draft, old.url):
                return None
            if article.date.timestamp() != old.published or (article.expires.timestamp() if article.expires else NEVER) != old.expires:
                return None
            source = Source(
                rel, sig, body_hash, token, old.published, old.draft, old.expires, old.url, more, article=replace(article, body=""), fresh=article, changed=True
            )
            sources[rel] = source
        self.next_change = state["next_change"]
        self._stored_sigs = stored
        with_problems = {path: pickle.loads(blob) for path, blob in db.execute("SELECT path, problems FROM sources WHERE problems IS NOT NULL")}
        problems: list[Problem] = []
        for rel in sources.all_paths:  # in file order, as _read_sources gives them
            parsed = dict.get(sources, rel)
            problems.extend(parsed.problems if parsed is not None else with_problems.get(rel, []))
        return sources, problems

    def _published_as(self) -> tuple[bool, bool, float]:
        return (bool(self.options.include_drafts), bool(self.options.include_future), self.now.timestamp())

    def _publish(self, sources: dict[str, Source]) -> tuple[list[str], set[str], bytes, list[Problem]]:
        """Published paths (newest first), the expired ones among them, the index key and URL collisions."""
        now = self.now.timestamp()
        options = self.options
        chosen = []
        for source in sources.values():
            if not source.token:
                continue  # the file has errors
            if source.draft and not options.include_drafts:
                continue
            if source.published > now and not options.include_future:
                continue
            chosen.append(source)
        expired = {s.path for s in chosen if s.expires <= now}
        problems: list[Problem] = []
        if len({s.url for s in chosen}) < len(chosen):  # rare: let the content stage word the errors
            articles = self._articles(sources, sorted(s.path for s in chosen), expired)
            problems = find_url_collisions(articles)
            kept: dict[str, Article] = {}
            for article in articles:
                kept.setdefault(article.url, article)
            chosen = [sources[a.path] for a in kept.values()]
        chosen.sort(key=lambda s: (-s.published, s.url))
        paths = [s.path for s in chosen]
        key = digest(*[f"{p}\x00{'x' if p in expired else ''}".encode() + sources[p].token for p in sorted(paths)])
        later = [s.published for s in sources.values() if s.token and s.published > now and not options.include_future]
        later += [s.expires for s in chosen if s.expires > now]
        self.next_change = min(later, default=NEVER)
        return paths, expired, key, problems

    def _stored_index(self, parse_key: bytes) -> tuple[bytes, StoredIndex] | None:
        """The last build's index key, and its index, problems and article tokens, when it was built with these settings."""
        noted = self.cache.get("index")
        if not (isinstance(noted, tuple) and len(noted) == 3 and noted[1] == parse_key and isinstance(noted[2], list)):
            return None
        loaded = load_index(self.cache, noted[2])
        return None if loaded is None else (noted[0], loaded)

    def _previous_index(self, sources: dict[str, Source], stored: StoredIndex) -> tuple[SiteIndex, dict[str, bytes]]:
        """The last build's index and article tokens; its articles go to the sources that still have them.

        Taking them is one load instead of one per cached row, and the index lets
        ``build_index`` rank again only the related stories that can have changed.
        """
        old_index, tokens = stored.index, stored.tokens
        for article in old_index.articles + old_index.expired:
            source = sources.get(article.path)
            if source is not None and source.article is None and source.token == tokens.get(article.path):
                source.article = replace(article, expired=False) if article.expired else article
        return old_index, tokens

    def _articles(self, sources: dict[str, Source], paths: list[str], expired: set[str]) -> list[Article]:
        missing = [p for p in paths if sources[p].article is None]
        if missing and self.cache.db is not None:
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for path, blob in self.cache.db.execute(f"SELECT path, article FROM sources WHERE path IN ({marks})", chunk):
                    sources[path].article = pickle.loads(blob)
        found = []
        for path in paths:
            article = sources[path].article
            assert article is not None, path
            found.append(replace(article, expired=True) if path in expired else article)
        return found

    def _bodies(
        self, config: SiteConfig, sources: dict[str, Source], index: SiteIndex, parse_key: bytes, usable: bool, lazy: bool
    ) -> tuple[dict[str, Any], set[str], list[Problem]]:
        """Every published article's body, rendered again only when its file or a link target changed.

        *lazy*: the index is the last build's, so the same articles are published at
        the same URLs, and a body whose file did not change is the one in the cache
        unless it links to a file that came or went. Only the bodies of changed
        files and of those with links or problems are looked at now; the others are
        read from the cache when asked for.
        """
        urls = {a.path: a.url for a in index.articles + index.expired}
        bodies: dict[str, Any]
        stored: dict[str, tuple[Any, ...]] = {}
        columns = "path, key, links, resolved, summary, minutes, token, problems"
        db = self.cache.db if usable else None
        changed_paths = {path for path, source in sources.items() if source.changed}  # a CachedSources holds the changed ones
        changed = [path for path in urls if path in changed_paths]
        if lazy and db is not None and len(changed) <= LAZY_BODIES:
            bodies = StoredBodies(db, sources, parse_key, self._load_body)
            for row in db.execute(f"SELECT {columns} FROM bodies WHERE links != '' OR problems IS NOT NULL"):
                stored[row[0]] = row
            for path in changed:
                if path not in stored:
                    row = db.execute(f"SELECT {columns} FROM bodies WHERE path=?", (path,)).fetchone()
                    if row is not None:
                        stored[path] = row
            position = {path: number for number, path in enumerate(urls)} if stored else {}
            look_at = sorted(stored.keys() & urls.keys() | set(changed), key=position.__getitem__) if stored else changed
        else:
            bodies = {}
            if db is not None:
                for row in db.execute(f"SELECT {columns} FROM bodies"):
                    stored[row[0]] = row
            look_at = list(urls)
        todo: list[Article] = []
        problems: list[Problem] = []
        self._body_rows: dict[str, tuple[Any, ...]] = {}
        for path in look_at:
            source = sources[path]
            row = stored.get(path)
            if row is not None and row[1] == body_key(source, parse_key):
                links = tuple(row[2].split("\0")) if row[2] else ()
                if not links or "\0".join(resolve_links(links, urls, config.root)) == row[3]:
                    bodies[path] = StoredBody(path, row[4], row[5], row[6], links, self._load_body)
                    if row[7] is not None:
                        problems += pickle.loads(row[7])
                    continue
            if source.fresh is None:
                article, _ = read_article(config, config.root / path)
                assert article is not None
                source.fresh = article
            todo.append(source.fresh)
        changed_tokens: set[str] = set()
        if todo:
            rendered, more = render_bodies(config, todo, self.options.jobs, urls)
            by_path: dict[str, list[Problem]] = {}
            for problem in more:
                by_path.setdefault(problem.path, []).append(problem)
            problems += more
            for path, body in rendered.items():
                token = body_token(body)
                links = tuple(getattr(body, "links", ()))
                found = by_path.get(path)
                self._body_rows[path] = (
                    body_key(sources[path], parse_key),
                    "\0".join(links),
                    "\0".join(resolve_links(links, urls, config.root)),
                    body.summary,
                    body.minutes,
                    pickle.dumps(found, protocol=5) if found else None,
                    body.html,
                    token,
                )
                previous = stored.get(path)
                if previous is None or previous[6] != token:
                    changed_tokens.add(path)
                bodies[path] = StoredBody(path, body.summary, body.minutes, token, links, None, body.html)
        for source in sources.values():
            source.fresh = None  # the Markdown text is not needed any more: keep the peak memory down
        return bodies, changed_tokens, problems

    def _load_body(self, path: str) -> str:
        assert self.cache.db is not None
        row = self.cache.db.execute("SELECT body FROM bodies WHERE path=?", (path,)).fetchone()
        html: str = row[0]
        return html

    def _old_outputs(self) -> dict[str, tuple[bytes, bytes]]:
        assert self.cache.db is not None
        return {rel: (key, dig) for rel, key, dig in self.cache.db.execute("SELECT rel, key, digest FROM outputs")}

    def _write(self, writer: SiteWriter, rendered: list[RenderedPage], plan: Plan, old: dict[str, tuple[bytes, bytes]], mode: str) -> list[str]:
        """Note the pages written, copy files as they are and write the manifest; returns the relative paths written."""
        written = [r.rel for r in rendered if r.written]
        for r in rendered:
            plan.digests[r.rel] = r.digest
        for rel, source in sorted(plan.copies.items()):
            if old.get(rel, (None,))[0] != plan.keys[rel] or mode == "fresh":
                writer.copy("/" + rel, source)
                written.append(rel)
            plan.digests[rel] = plan.keys[rel]
        if mode == "fresh":
            # pages rendered unchanged from an old output still have to be in a fresh folder
            assert all(r.written for r in rendered) or not rendered
        manifest = "".join(f"{rel}\n" for rel in sorted(plan.keys)).encode("utf-8")
        writer.write("/" + MANIFEST, manifest)
        written.append(MANIFEST)
        return written

    def _commit(self, staging: Path, output: Path, written: list[str], removed: list[str]) -> None:
        journal = staging / COMMIT_JOURNAL
        # The manifest first: from its rename on, it lists every file the update leaves.
        lines = [f"put {rel}" for rel in sorted(written, key=lambda rel: rel != MANIFEST)] + [f"del {rel}" for rel in removed]
        tmp = staging / (COMMIT_JOURNAL + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        os.replace(tmp, journal)  # from here on, the update is rolled forward if interrupted
        apply_journal(staging, output)

    def _save(
        self,
        state: bytes,
        sources: dict[str, Source],
        index: SiteIndex,
        index_key: bytes,
        index_problems: list[Problem],
        render_key: bytes,
        parse_key: bytes,
        plan: Plan,
        rendered: list[RenderedPage],
        old: dict[str, tuple[bytes, bytes]],
        warnings: list[Problem],
        mode: str,
        output: Path,
    ) -> None:
        cache = self.cache
        if cache.db is None and not (self.options.cache and cache.open(anew=True)):  # no usable cache: written anew, whole
            return
        db = cache.db
        assert db is not None
        try:
            cache.begin()
            if mode == "fresh":
                db.execute("DELETE FROM outputs")
            known = {row[0] for row in db.execute("SELECT path FROM sources")}
            for path in known - set(sources.all_paths if isinstance(sources, CachedSources) else sources):
                db.execute("DELETE FROM sources WHERE path=?", (path,))
                db.execute("DELETE FROM bodies WHERE path=?", (path,))
            # A CachedSources holds only the sources parsed or looked up in this build: the two loops
            # below need no others (the rest have their rows, with these very signatures).
            db.executemany(
                "INSERT OR REPLACE INTO sources VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        source.path,
                        source.sig,
                        source.hash,
                        parse_key,
                        pickle.dumps(source.article, protocol=5),
                        pickle.dumps(source.problems, protocol=5) if source.problems else None,
                        source.token,
                        source.published,
                        int(source.draft),
                        source.expires,
                        source.url,
                    )
                    for source in sources.values()
                    if source.changed or source.path not in known
                ),
            )
            db.executemany(
                "UPDATE sources SET sig=? WHERE path=?",
                (
                    (source.sig, source.path)
                    for source in sources.values()
                    if not (source.changed or source.path not in known) and source.sig != self._stored_sigs.get(source.path)
                ),
            )
            db.executemany("INSERT OR REPLACE INTO bodies VALUES(?,?,?,?,?,?,?,?,?)", ((path, *row) for path, row in self._body_rows.items()))
            db.executemany("DELETE FROM outputs WHERE rel=?", ((rel,) for rel in old if rel not in plan.keys))
            rendered_rels = {r.rel: r for r in rendered}
            db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES(?,?,?,?)",
                ((rel, key, page.digest, page.deps) for rel, key in plan.keys.items() if (page := rendered_rels.get(rel)) is not None),
            )
            db.executemany(
                "INSERT INTO outputs(rel, key, digest) VALUES(?,?,?) ON CONFLICT(rel) DO UPDATE SET key=excluded.key, digest=excluded.digest",
                (
                    (rel, key, plan.digests.get(rel, b""))
                    for rel, key in plan.keys.items()
                    if rel not in rendered_rels and (rel in plan.digests or old.get(rel, (None,))[0] != key)
                ),
            )
            if self._stored_index_key != index_key:
                tokens = {a.path: sources[a.path].token for a in index.articles + index.expired}
                buckets = save_index(cache, index, index_problems, tokens, self._loaded_index)
                cache.put("index", (index_key, parse_key, buckets))
            cache.put("render_key", render_key)
            cache.put("generator", self._generator)
            deep = {ref: token for (ref, is_deep), token in self._tokens.memo.items() if is_deep and token is not None and not ref.startswith("card:")}
            cache.put("deep_tokens", deep)
            pages = sum(1 for rel in plan.keys if rel.endswith(".html"))
            cache.put("pages", pages)
            cache.put(
                "state",
                {
                    "state": state,
                    "next_change": self.next_change,
                    "published_as": self._published_as(),
                    "output": str(output),
                    "manifest": file_signature(output / MANIFEST),
                    "articles": len(index.articles) + len(index.expired),
                    "pages": pages,
                    "files": len(plan.keys) + 1,
                    "warnings": warnings,
                },
            )
            cache.commit()
        except Exception:
            cache.rollback()
            cache.discard()
            raise


PARALLEL_READ = 400  # below this many files to parse, workers cost more than they save


def read_articles(config: SiteConfig, paths: list[Path], jobs: int) -> list[tuple[Article | None, list[Problem], bytes, bytes]]:
    """read_article, the metadata token and the body hash for each path, in forked workers when there are many; results in order."""
    return [item for part in in_chunks(_read_chunk, (config,), paths, jobs, PARALLEL_READ) for item in part]


def _read_chunk(config: SiteConfig, paths: list[Path]) -> list[tuple[Article | None, list[Problem], bytes, bytes]]:
    done: list[tuple[Article | None, list[Problem], bytes, bytes]] = []
    for path in paths:
        article, problems = read_article(config, path)
        if article is None:
            done.append((None, problems, b"", b""))
        else:
            done.append((article, problems, meta_token(article), digest(body_inputs(article))))
    return done


def resolve_links(links: tuple[str, ...], urls: dict[str, str], root: Path) -> tuple[str, ...]:
    """Where each link target of a body leads now: an article URL, "file", or ""."""
    found = []
    for target in links:
        if target.endswith((".md", ".markdown")):
            found.append(urls.get(target, ""))
        else:
            found.append("file" if (root / target).is_file() else "")
    return tuple(found)


def roll_forward(output: Path) -> bool:
    """Finish an update that was killed while committing; True if there was one."""
    rolled = False
    for staging in output.parent.glob(f"{STAGING_PREFIX}{output.name}-*"):
        if (staging / COMMIT_JOURNAL).is_file():
            apply_journal(staging, output)
            rolled = True
    return rolled


def apply_journal(staging: Path, output: Path) -> None:
    """Move staged files into the output and delete removed ones, as the journal lists (idempotent)."""
    lines = (staging / COMMIT_JOURNAL).read_text(encoding="utf-8").splitlines()
    made: set[Path] = set()
    for line in lines:
        action, rel = line.split(" ", 1)
        url_to_relpath("/" + rel)  # the journal lists only safe relative paths
        target = output / rel
        if action == "put":
            source = staging / rel
            if not source.exists():
                continue  # moved before the interruption
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.replace(source, target)
        elif action == "del":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            parent = target.parent
            while parent != output:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
