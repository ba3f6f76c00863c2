"""Stage 6f, search (``search: true``): a Pagefind index of the finished article pages.

In: the article pages as they are published (those rendered by this build, and those left in the output
folder by the last one). Out: the files of a Pagefind bundle under ``/pagefind/``, handed to the output stage
like every other file. The article template marks what is indexed (``data-pagefind-body``, ``-meta``,
``-filter``, ``-sort``); Pagefind makes one index per language, read from each page's ``<html lang>``, which
is the site's: so each page is indexed with its article's own language put there.

The index is one output made from every listed article's page: its hash (:func:`plan_search`) is that of
their pages' hashes, so it is made again, whole, when any of them changes, and not otherwise. Its files'
names are hashes of their content, unknown until it is made: the memo keeps them by that hash.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

from .errors import UsageError
from .memo import Memo, hash_of
from .output import url_to_relpath
from .schema import Article

BUNDLE = "/pagefind/"
# The files of the bundle the search page uses; Pagefind's own UIs, the playground and highlighting are left out.
_PUBLISHED = re.compile(r"(pagefind\.js|pagefind-worker\.js|pagefind-entry\.json|pagefind\.[^/]+\.pf_meta|wasm\.[^/]+\.pagefind|(index|fragment|filter)/.+)")
_HTML_LANG = re.compile(rb"<html\b[^>]*>")


@dataclass(frozen=True)
class SearchPlan:
    """The index this build publishes: its hash, the pages it is made from, and its files when a build made it before."""

    key: bytes
    articles: dict[str, str]  # article page URL -> the article's language
    files: dict[str, bytes]  # index file URL -> hash, as the last build with this key made them (empty when none did)


def plan_search(articles: Sequence[Article], hashes: dict[str, bytes], memo: Memo) -> SearchPlan:
    """The index of *articles* (the listed ones) by the hashes of their pages (:func:`digest.site.plan_outputs`)."""
    from importlib.metadata import version

    key = hash_of("search", version("pagefind-bin-extended"), *(f"{a.url}={a.lang}={hashes[a.url].hex()}" for a in articles))
    known = memo.get("search", key)
    files = {url: hash_of(key, url) for url in known} if isinstance(known, tuple) else {}
    return SearchPlan(key, {a.url: a.lang for a in articles}, files)


def keep_previous_index(output: Path, plan: SearchPlan, hashes: dict[str, bytes], reuse: set[str]) -> None:
    """Leave the index files of the last build in *output* as they are, in the manifest (*hashes*) and *reuse*, instead of the plan's."""
    from .output import read_manifest, up_to_date

    for url in plan.files:
        hashes.pop(url, None)
    kept = {"/" + rel: bytes.fromhex(made) for rel, made in (read_manifest(output) or {}).items() if rel.startswith(BUNDLE[1:])}
    present = up_to_date(output, kept)
    hashes |= {url: kept[url] for url in present}
    reuse |= present


def index_site(
    plan: SearchPlan, files: Iterable[tuple[str, bytes]], output: Path, reused: set[str], hashes: dict[str, bytes], memo: Memo
) -> Iterator[tuple[str, bytes]]:
    """Pass *files* through, then make the index of the plan's article pages and yield its files.

    An article page is taken from *files* when this build rendered it, else from the *output* folder (it is
    in *reused*: the last build wrote it from the same hash). The URL and hash of each index file replace
    the plan's in *hashes*, the manifest, which the output stage reads after the last file.
    """
    with tempfile.TemporaryDirectory(prefix="digest-search-") as folder:
        pages = Path(folder, "pages")
        for url, data in files:
            if url in plan.articles:
                _stage(pages, url, plan.articles[url], data)
            yield url, data
        for url in sorted(plan.articles.keys() & reused):
            _stage(pages, url, plan.articles[url], (output / url_to_relpath(url)).read_bytes())
        bundle = Path(folder, "bundle")
        if plan.articles:  # Pagefind refuses a site without pages; the search page then says that search could not load
            _pagefind(pages, bundle)
        made = canonical_bundle(
            {rel: path.read_bytes() for path in bundle.rglob("*") if path.is_file() and _PUBLISHED.fullmatch(rel := path.relative_to(bundle).as_posix())}
        )
        for url in plan.files:
            hashes.pop(url, None)
        for rel in sorted(made):
            hashes[BUNDLE + rel] = hash_of(plan.key, BUNDLE + rel)
            yield BUNDLE + rel, made[rel]
    memo.put("search", plan.key, tuple(BUNDLE + rel for rel in sorted(made)))


def _stage(pages: Path, url: str, lang: str, data: bytes) -> None:
    """Write an article page where Pagefind reads it, its ``<html lang>`` set to the article's language."""
    target = pages / url_to_relpath(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = _HTML_LANG.search(data)
    if tag is not None:
        opened = re.sub(rb'\s(lang|dir)="[^"]*"', b"", tag[0])
        data = data[: tag.start()] + opened[:-1] + b' lang="' + lang.encode() + b'">' + data[tag.end() :]
    target.write_bytes(data)


def _pagefind(pages: Path, bundle: Path) -> None:
    """Index the pages under *pages* with Pagefind's binary (as the pagefind package finds it) and write the bundle into *bundle*.

    The command line rather than the package's service: the service is stopped as soon as it answers that the
    files are written, which can be before the last of them is (an empty pagefind-entry.json, seen under load).
    """
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise UsageError("search: the pagefind package found no Pagefind binary; pip install -r requirements.txt, or set search: false")
    done = subprocess.run([str(binary), "--site", str(pages), "--output-path", str(bundle), "--silent"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
        raise UsageError(f"search: Pagefind could not index the site (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}")


# Pagefind writes the values of a filter, and so the files naming them, in an order that changes from run to run
# (a hash map's). So that the same site gives the same bundle, each filter file's values are sorted and the
# files named anew by a hash of what they hold, through the files that name them (meta, entry). They are gzipped
# CBOR after a signature (read and written with cbor2).
_SIGNATURE = b"pagefind_dcd"


def canonical_bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle *files* (path -> bytes) with sorted filter values and names made from content."""
    if not files:
        return {}
    renamed: dict[str, str] = {}  # old hash -> new, of filter files and then of meta files
    result = {rel: data for rel, data in files.items() if not rel.startswith("filter/") and not rel.endswith((".pf_meta", "-entry.json"))}
    for rel, data in sorted(files.items()):
        if rel.startswith("filter/"):
            name, values = cbor2.loads(gzip.decompress(data)[len(_SIGNATURE) :])
            old = rel[len("filter/") : -len(".pf_filter")]
            new_rel, new = _named("filter/", old, cbor2.dumps([name, sorted(values)]), ".pf_filter", 7)
            renamed[old], result[new_rel] = new, _packed(cbor2.dumps([name, sorted(values)]))
    metas: dict[str, str] = {}
    for rel, data in sorted(files.items()):
        if rel.endswith(".pf_meta"):
            old = rel[len("pagefind.") : -len(".pf_meta")]
            body = cbor2.dumps(_renamed(cbor2.loads(gzip.decompress(data)[len(_SIGNATURE) :]), renamed))
            new_rel, metas[old] = _named("pagefind.", old, body, ".pf_meta", 10)
            result[new_rel] = _packed(body)
    entry = json.loads(files["pagefind-entry.json"])
    for language in entry["languages"].values():
        language["hash"] = metas[language["hash"]]
    entry["languages"] = dict(sorted(entry["languages"].items()))
    result["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return result


def _named(folder: str, old: str, body: bytes, suffix: str, digits: int) -> tuple[str, str]:
    new = old.partition("_")[0] + "_" + hashlib.blake2b(body, digest_size=8).hexdigest()[:digits]
    return f"{folder}{new}{suffix}", new


def _packed(body: bytes) -> bytes:
    return gzip.compress(_SIGNATURE + body, mtime=0)


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
