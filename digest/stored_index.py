"""The last build's index as the cache keeps it: its articles in buckets, so an update rewrites only the buckets it changed.

Part of the cache stage. Pickling the index of a 10,000-article site takes
0.12 s, nine tenths of it for the ``Article`` values, and an update that
changes one article's tags has to save the index again. So the articles are
kept apart, a file for each month of publication (so an article's neighbours
in time, which the index stages walk together, are loaded next to each
other in memory), and the index itself is pickled with each article written
as (month, position). An update's index
holds the last build's ``Article`` objects for every article it did not
change, so a bucket whose articles are all the very objects loaded from it is
left as it is. Every file is noted with its stat signature in the database
(:meth:`digest.cache.Cache.put_file`), so a file from an interrupted save is
never taken for the one the database describes.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from typing import Any

from .cache import Cache
from .content import Article
from .errors import Problem
from .index import SiteIndex

INDEX_FILE = "index.pickle"  # the index, problems and article tokens, articles written as references
BUCKET_FILE = "index-articles-{}.pickle"  # the articles of one month of publication


def bucket_of(article: Article) -> str:
    return f"{article.date.year:04d}-{article.date.month:02d}"


def _article_at(bucket: str, position: int) -> Article:  # pragma: no cover - replaced by _Loader.find_class
    raise AssertionError("an index is loaded through load_index")


class StoredIndex:
    """An index loaded from the cache, with the article buckets it came from (to tell which to write again)."""

    def __init__(self, index: SiteIndex, problems: list[Problem], tokens: dict[str, bytes], buckets: dict[str, tuple[Article, ...]]) -> None:
        self.index = index
        self.problems = problems
        self.tokens = tokens  # article path -> metadata token, as the last build had them
        self.buckets = buckets


def save_index(cache: Cache, index: SiteIndex, problems: list[Problem], tokens: dict[str, bytes], loaded: StoredIndex | None) -> list[str]:
    """Write *index* to the cache (in the transaction under way), leaving alone the buckets that hold what they held; returns the bucket names."""
    grouped: dict[str, list[Article]] = {}
    for article in index.articles + index.expired:
        grouped.setdefault(bucket_of(article), []).append(article)
    where: dict[int, tuple[str, int]] = {}
    for name, listed in sorted(grouped.items()):
        bucket = tuple(listed)
        where.update((id(a), (name, position)) for position, a in enumerate(bucket))
        before = loaded.buckets.get(name) if loaded is not None else None
        if before is None or len(before) != len(bucket) or not all(a is b for a, b in zip(before, bucket, strict=True)):
            cache.put_file(BUCKET_FILE.format(name), pickle.dumps(bucket, protocol=5))

    def by_reference(article: Article) -> tuple[Any, tuple[str, int]]:
        return _article_at, where[id(article)]

    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[Article] = by_reference
    pickler.dump((index, problems, tokens))
    cache.put_file(INDEX_FILE, out.getvalue())
    kept = {BUCKET_FILE.format(name) for name in grouped}
    for path in cache.folder.glob(BUCKET_FILE.format("*")):
        if path.name not in kept:  # a month with no article left (a stale file is never read: its signature is not noted)
            path.unlink(missing_ok=True)
    return sorted(grouped)


class _Loader(pickle.Unpickler):
    def __init__(self, data: bytes, buckets: dict[str, tuple[Article, ...]]) -> None:
        super().__init__(io.BytesIO(data))
        self.buckets = buckets

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_article_at":
            buckets = self.buckets
            return lambda bucket, position: buckets[bucket][position]
        return super().find_class(module, name)


def load_index(cache: Cache, names: list[str]) -> StoredIndex | None:
    """The index the cache holds in the buckets *names*, or None when a file of it is missing, damaged or not the one noted."""
    buckets: dict[str, tuple[Article, ...]] = {}
    try:
        for name in names:
            data = cache.get_file(BUCKET_FILE.format(name))
            if data is None:
                return None
            buckets[name] = pickle.loads(data)
        data = cache.get_file(INDEX_FILE)
        if data is None:
            return None
        index, problems, tokens = _Loader(data, buckets).load()
    except Exception:  # a damaged file: the index is built again, and saved
        return None
    return StoredIndex(index, problems, tokens, buckets)
