"""Stage 6f, search (``search: true``): a Pagefind index of the finished article pages, in shards.

In: the article pages as published (rendered by this build, or left in the output folder by the last one). Out:
the files of Pagefind bundles under ``/pagefind/``, handed to the output stage like every other file. The article
template marks what is indexed (``data-pagefind-body``, ``-meta``, ``-filter``, ``-sort``); Pagefind reads a page's
language from its ``<html lang>``, the site's, so each page is indexed with its article's own language put there.

Pagefind cannot change an index in part, so the articles are split into shards (:data:`MAX_SHARDS` at most, of
:data:`SHARD_SIZE` articles at least), each its own bundle (``/pagefind/``, then ``/pagefind/<n>/``) merged by the
search page in the browser (``mergeIndex``). A shard's hash (:func:`plan_search`) is that of what it reads of its
pages, so an edit makes one shard again; its files are named by their content, so the memo keeps their names by it.

Each language's articles are dealt to the shards in turn by date, newest last: the n-th page of every shard in
Pagefind's date order sits next to the n-th of the others, so the browser's merge (by score, which for a date sort
is that position) keeps the date order exactly. A new article changes one shard; one dated among them moves those after it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

from .errors import UsageError
from .memo import Memo, hash_of, hash_value
from .output import url_to_relpath
from .pages import Page
from .schema import Article

BUNDLE = "/pagefind/"
# The number of shards: a power of two (a growing site re-deals them seldom), as many as keeps them at least
# SHARD_SIZE articles, at most MAX_SHARDS (the search page fetches a part of each for every word searched).
SHARD_SIZE = 500
MAX_SHARDS = 16
# The files of the bundle the search page uses; Pagefind's own UIs, the playground and highlighting are left out.
# The merged shards need only their index: the first shard's script and WebAssembly search them all.
_MERGED = re.compile(r"pagefind-entry\.json|pagefind\.[^/]+\.pf_meta|(index|fragment|filter)/.+")
_PUBLISHED = re.compile(r"pagefind\.js|pagefind-worker\.js|wasm\.[^/]+\.pagefind|" + _MERGED.pattern)
_HTML_LANG = re.compile(rb"<html\b[^>]*>")


# What of an article page the index reads: article.html marks the article alone as the text (data-pagefind-body),
# not its lists of links to other stories; so a shard keeps its index when only those change (a tag edit changes
# many pages' related stories). A site with its own article.html is indexed by its pages' whole hashes instead.
LINK_LISTS = frozenset({"related", "more", "siblings", "story", "older", "newer"})
SEARCH_SHAPE = "#search"  # the shape of what the index reads of a page is kept under its URL and this


def search_shapes(pages: Iterable[Page], known: dict[int, bytes]) -> dict[str, bytes]:
    """The hash of what the index reads of each article page besides its body and the site-wide values (see :func:`digest.pages.page_shape`)."""
    return {
        page.url + SEARCH_SHAPE: hash_value((page.url, page.template, {k: v for k, v in page.context.items() if k not in LINK_LISTS}), known)
        for page in pages
        if page.template == "article.html"
    }


@dataclass(frozen=True)
class Shard:
    """One bundle of the index: where it is published, its hash, its pages, and its files when a build made it before."""

    number: int
    key: bytes
    articles: dict[str, str]  # article page URL -> the article's language
    files: dict[str, bytes]  # index file URL -> hash, as the last build with this key made them (empty when none did)

    @property
    def folder(self) -> str:
        return BUNDLE if self.number == 0 else f"{BUNDLE}{self.number}/"


@dataclass(frozen=True)
class SearchPlan:
    """The index this build publishes: its shards (none for a site without articles)."""

    shards: tuple[Shard, ...]
    whole_pages: bool = False  # the site has its own article.html: Pagefind reads its pages whole (see _indexed_part)

    @property
    def files(self) -> dict[str, bytes]:
        return {url: made for shard in self.shards for url, made in shard.files.items()}

    def stale(self, present: set[str]) -> list[Shard]:
        """The shards to make again: those whose files no build made from their hash, or that are not all *present*."""
        return [shard for shard in self.shards if not (shard.files and shard.files.keys() <= present)]


def plan_search(articles: Sequence[Article], hashes: dict[str, bytes], memo: Memo, whole_pages: bool = False) -> SearchPlan:
    """The index of *articles* (the listed ones) by the *hashes* of what it reads of their pages (:func:`digest.site.indexed_hashes`);
    *whole_pages* when they come from the site's own article.html."""
    from importlib.metadata import version

    if not articles:  # Pagefind refuses a site without pages; the search page then says that search could not load
        return SearchPlan((), whole_pages)
    count = 1
    while count < MAX_SHARDS and len(articles) >= 2 * count * SHARD_SIZE:
        count *= 2
    # A language with fewer articles than shards leaves one empty: Pagefind refuses to index nothing.
    while not all(members := _dealt(articles, count)):
        count //= 2
    shards = []
    for number, chosen in enumerate(members):
        key = hash_of("search", version("pagefind-bin-extended"), str(number), str(count), *(f"{a.url}={a.lang}={hashes[a.url].hex()}" for a in chosen))
        known = memo.get("search", key)
        files = {url: hash_of(key, url) for url in known} if isinstance(known, tuple) else {}
        shards.append(Shard(number, key, {a.url: a.lang for a in chosen}, files))
    return SearchPlan(tuple(shards), whole_pages)


def _dealt(articles: Sequence[Article], count: int) -> list[list[Article]]:
    """*articles* dealt to *count* shards: each language's in turn by date, oldest to the last shard, newest last."""
    members: list[list[Article]] = [[] for _ in range(count)]
    rank: dict[str, int] = {}
    for article in sorted(articles, key=lambda a: (a.lang, int(a.date.timestamp()), a.url)):
        rank[article.lang] = rank.get(article.lang, -1) + 1
        members[count - 1 - rank[article.lang] % count].append(article)
    return members


def keep_previous_index(output: Path, known: dict[str, str], hashes: dict[str, bytes], reuse: set[str]) -> None:
    """Leave the index files of the last build in *output* (its manifest: *known*) as they are, in the new manifest (*hashes*) and *reuse*."""
    from .output import up_to_date

    kept = {"/" + rel: bytes.fromhex(made) for rel, made in known.items() if rel.startswith(BUNDLE[1:])}
    present = up_to_date(output, kept, known)
    hashes |= {url: kept[url] for url in present}
    reuse |= present


# The bundles Pagefind made for the shards of an index that was not finished (serve gives it up when a save comes), by
# shard key: the next try in this process takes them rather than making them again, so a large site's first index
# under serve is finished across saves. A shard's key is the hash of all it reads, so its bundle is the same.
_MADE: dict[bytes, dict[str, bytes]] = {}


class Cancelled(Exception):
    """The index was given up (``serve``: a save came while it was being made); the output is left as it was."""


def index_site(
    plan: SearchPlan,
    stale: Sequence[Shard],
    files: Iterable[tuple[str, bytes]],
    output: Path,
    hashes: dict[str, bytes],
    memo: Memo,
    jobs: int = 1,
    cancel: threading.Event | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Pass *files* through, then make the *stale* shards of the plan from their article pages and yield their files.

    An article page comes from *files* when this build rendered it, else from the *output* folder (the last
    build wrote it from the same hash: a shard is stale only with all its pages rendered or reused). Each index
    file's URL and hash replace the plan's in *hashes*, the manifest the output stage reads after the last file.
    Up to *jobs* Pagefind processes run at once; setting *cancel* stops them and raises :class:`Cancelled`
    before the first index file.
    """
    cancel = cancel or threading.Event()
    for key in _MADE.keys() - {shard.key for shard in stale}:  # kept only while the shards they belong to are still to make
        del _MADE[key]
    owner = {url: shard for shard in stale for url in shard.articles}
    staged = _with_lang if plan.whole_pages else _indexed_part
    scratch = _scratch_folder(len(owner))
    for left in Path(scratch or tempfile.gettempdir()).glob("digest-search-*-*"):  # of builds killed outright (SIGKILL)
        if (pid := left.name.split("-")[2]).isdigit() and not _alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"digest-search-{os.getpid()}-", dir=scratch) as folder:
        held, pages, bundles = Path(folder, "held"), Path(folder, "pages"), Path(folder, "bundles")
        held.mkdir()
        rendered: dict[str, Path] = {}
        for url, data in files:
            if url in owner:
                rendered[url] = held / str(len(rendered))
                rendered[url].write_bytes(staged(data, owner[url].articles[url]))
            yield url, data

        def make(shard: Shard) -> dict[str, bytes]:
            """Stage the shard's pages (while other shards are indexed), index them, and remove them (a save under serve,
            giving the index up, waits only for the shards under way to be removed)."""
            if shard.key in _MADE:
                return _MADE[shard.key]
            shard_pages, bundle = pages / str(shard.number), bundles / str(shard.number)
            try:
                # Pagefind numbers the pages in the order it finds them in the folder, which can be the order they were
                # written in: so they are put in place in the order of their URLs, as a clean build would.
                for url in sorted(shard.articles):
                    if cancel.is_set():
                        raise Cancelled
                    target = shard_pages / url_to_relpath(url)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if url in rendered:
                        target.hardlink_to(rendered[url])
                    else:  # reused: left in the output folder by the last build
                        target.write_bytes(staged((output / url_to_relpath(url)).read_bytes(), shard.articles[url]))
                _MADE[shard.key] = _made(shard_pages, bundle, shard.number == 0, cancel)
                return _MADE[shard.key]
            finally:
                shutil.rmtree(shard_pages, ignore_errors=True)
                shutil.rmtree(bundle, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=max(1, min(len(stale), jobs))) as pool:
            made = list(pool.map(make, stale))
        _MADE.clear()  # every shard made: they are published below
    for shard, bundle in zip(stale, made, strict=True):
        if shard.number == 0:  # how many shards the search page merges
            bundle = bundle | {"shards.json": json.dumps({"shards": len(plan.shards)}, separators=(",", ":")).encode()}
        for url in shard.files:
            hashes.pop(url, None)
        published = {shard.folder + rel: data for rel, data in sorted(bundle.items())}
        for url, data in published.items():
            hashes[url] = hash_of(shard.key, url)
            yield url, data
        memo.put("search", shard.key, tuple(published))


def _alive(pid: int) -> bool:
    """Whether a process *pid* runs (one of another user's counts too: its folder is not ours to remove)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _scratch_folder(pages: int) -> str | None:
    """A RAM disk for the staged pages and Pagefind's bundles when there is one with room to spare (writing
    them there rather than to a disk halves the index's time), else the system's temporary folder."""
    ram = "/dev/shm"
    try:
        return ram if os.access(ram, os.W_OK) and shutil.disk_usage(ram).free > 256 * 2**20 + pages * 200 * 2**10 else None
    except OSError:
        return None


_BODY_OPEN = re.compile(rb"<article\b[^>]*\bdata-pagefind-body\b[^>]*>")
_ARTICLE_TAG = re.compile(rb"<(/?)article\b")


def _indexed_part(page: bytes, lang: str) -> bytes:
    """What Pagefind reads of a page of the bundled article.html: its ``data-pagefind-body`` article, in a bare page
    of the article's language. That template puts all that Pagefind reads (the text, the h1 it takes as the title,
    the meta, filters and sort) inside the article, so the index is the same byte for byte while Pagefind parses
    60 % of the bytes (a seventh less of its CPU). A page without such an article is staged whole."""
    opened = _BODY_OPEN.search(page)
    if opened is None:
        return _with_lang(page, lang)
    depth = 1  # articles inside it (raw HTML, with allow_html) are kept in it
    for tag in _ARTICLE_TAG.finditer(page, opened.end()):
        depth += -1 if tag[1] else 1
        if depth == 0:
            article = page[opened.start() : page.index(b">", tag.end()) + 1]
            return b'<!doctype html><html lang="' + lang.encode() + b'"><head><meta charset="utf-8"></head><body>' + article + b"</body></html>"
    return _with_lang(page, lang)


def _with_lang(page: bytes, lang: str) -> bytes:
    """An article *page* with its ``<html lang>`` set to the article's language, where Pagefind reads it."""
    tag = _HTML_LANG.search(page)
    if tag is None:
        return page
    opened = re.sub(rb'\s(lang|dir)="[^"]*"', b"", tag[0])
    return page[: tag.start()] + opened[:-1] + b' lang="' + lang.encode() + b'">' + page[tag.end() :]


def _made(pages: Path, bundle: Path, first: bool, cancel: threading.Event) -> dict[str, bytes]:
    """The published files (path in the bundle -> bytes) of the index of the pages under *pages*; the *first* shard's carry the script."""
    _pagefind(pages, bundle, cancel)
    published = _PUBLISHED if first else _MERGED
    return canonical_bundle(
        {rel: path.read_bytes() for path in bundle.rglob("*") if path.is_file() and published.fullmatch(rel := path.relative_to(bundle).as_posix())}
    )


def _pagefind(pages: Path, bundle: Path, cancel: threading.Event) -> None:
    """Index the pages under *pages* with Pagefind's binary (as the pagefind package finds it) and write the bundle into *bundle*.

    The command line rather than the package's service: the service is stopped as soon as it answers that the
    files are written, which can be before the last of them is (an empty pagefind-entry.json, seen under load).
    """
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise UsageError("search: the pagefind package found no Pagefind binary; pip install -r requirements.txt, or set search: false")
    if cancel.is_set():
        raise Cancelled
    try:
        running = subprocess.Popen(
            [str(binary), "--site", str(pages), "--output-path", str(bundle), "--silent"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except OSError as exc:  # not "cannot write": the binary itself could not be started
        raise UsageError(
            f"search: could not start Pagefind's binary {binary} ({exc.strerror or exc}); pip install -r requirements.txt, or set search: false"
        ) from exc
    with running:
        while True:
            try:
                said = running.communicate(timeout=0.05)[0]
                break
            except subprocess.TimeoutExpired:
                if cancel.is_set():
                    running.kill()
                    raise Cancelled from None
    if running.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
        raise UsageError(f"search: Pagefind could not index the site (exit {running.returncode}): {said.strip()[-2000:]}")


# Pagefind writes the values of a filter, and so the files naming them, in an order that changes from run to run
# (a hash map's). So that the same site gives the same bundle, each filter file's values are sorted and the
# files named anew by a hash of what they hold, through the files that name them (meta, entry). They are gzipped
# CBOR after a signature (read and written with cbor2).
_SIGNATURE = b"pagefind_dcd"


def canonical_bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle *files* (path -> bytes) with sorted filter values and names made from content."""
    filters: dict[str, str] = {}  # old name -> new, of the filter files
    metas: dict[str, str] = {}  # and of the meta files, which name the filters
    result = {}
    for rel, data in sorted(files.items()):  # "filter/" sorts before "pagefind.": the filters are renamed first
        if rel.startswith("filter/"):
            name, values = _unpacked(data)
            rel, data = _named(rel, "filter/", ".pf_filter", 7, cbor2.dumps([name, sorted(values)]), filters)
        elif rel.endswith(".pf_meta"):
            rel, data = _named(rel, "pagefind.", ".pf_meta", 10, cbor2.dumps(_renamed(_unpacked(data), filters)), metas)
        result[rel] = data
    entry = json.loads(files["pagefind-entry.json"])
    for language in entry["languages"].values():
        language["hash"] = metas[language["hash"]]
    entry["languages"] = dict(sorted(entry["languages"].items()))
    result["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return result


def _unpacked(data: bytes) -> Any:
    return cbor2.loads(gzip.decompress(data)[len(_SIGNATURE) :])


def _named(rel: str, folder: str, suffix: str, digits: int, body: bytes, names: dict[str, str]) -> tuple[str, bytes]:
    """The file *rel* holding *body*, named anew by a hash of it (old name -> new added to *names*), and its bytes."""
    old = rel[len(folder) : -len(suffix)]
    names[old] = old.partition("_")[0] + "_" + hashlib.blake2b(body, digest_size=8).hexdigest()[:digits]
    return f"{folder}{names[old]}{suffix}", gzip.compress(_SIGNATURE + body, mtime=0)


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """*value* with every text that is an old name replaced by its new one; a list of [name, hash] pairs sorted."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        items = [_renamed(item, names) for item in value]
        if value and all(isinstance(i, list) and len(i) == 2 and isinstance(i[1], str) and i[1] in names for i in value):
            items.sort()
        return items
    return value
