#!/usr/bin/env python3
"""Time page keying alone: ``python bench/keys.py --site SITE --runs 3``.

An update keys every page before it knows which to render again: it hashes
each page's template context (``incremental.page_key``) and checks what the
page's templates read last time against this build (``packed_deps_token``).
This script does the same for every page of a site that was built with the
cache (``python build.py build --source SITE`` first), in this one process,
from the cached index and bodies, and prints::

    keys pages=<n> median_s=<x> us_per_page=<y> unchanged=<k>
    deps pages=<n> median_s=<x> us_per_page=<y> unchanged=<k>

``unchanged`` counts the pages whose key (or dependency token) equals the
stored one: after a build with no change since, all of them should.
Each run starts from fresh token memos, as a build does.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digest.cache import CACHE_DIR, DB_NAME, Cache, digest  # noqa: E402
from digest.config import load_config  # noqa: E402
from digest.incremental import SiteTokens, StoredBody, page_key  # noqa: E402
from digest.output import url_to_relpath  # noqa: E402
from digest.pages import plan_pages  # noqa: E402
from digest.stored_index import load_index  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="a site folder built with the cache")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is printed (default 3)")
    args = parser.parse_args()
    database = args.site / CACHE_DIR / DB_NAME
    if not database.is_file():
        sys.exit(f"no build cache at {database}: build the site first (python build.py build --source {args.site})")
    gc.disable()  # as a build loads its index
    db = sqlite3.connect(database)
    meta = {name: pickle.loads(value) for name, value in db.execute("SELECT name, value FROM meta WHERE name IN ('index', 'render_key')")}
    cache = Cache(args.site)
    stored = load_index(cache, cache.get("index")[2]) if cache.open() else None
    if stored is None:
        sys.exit(f"no stored index in {database}: build the site first")
    index = stored.index
    render_key: bytes = meta["render_key"]
    config, _ = load_config(args.site)
    bodies: dict[str, Any] = {
        path: StoredBody(path, summary, minutes, token, (), None, "")
        for path, summary, minutes, token in db.execute("SELECT path, summary, minutes, token FROM bodies")
    }
    article_tokens = {path: token for path, token in db.execute("SELECT path, token FROM sources")}
    stored = {rel: (key, deps) for rel, key, deps in db.execute("SELECT rel, key, deps FROM outputs")}
    pages = plan_pages(config, index, bodies)
    gc.freeze()
    gc.enable()

    key_times: list[float] = []
    dep_times: list[float] = []
    same_keys = same_deps = with_deps = 0
    for _ in range(args.runs):
        tokens = SiteTokens(index, article_tokens)
        nav = digest(*[tokens.entity(t) or b"" for t in index.topics])
        started = time.process_time()
        keys = [page_key(page, tokens, render_key) for page in pages]
        key_times.append(time.process_time() - started)
        rels = [url_to_relpath(page.url) for page in pages]
        same_keys = sum(1 for rel, key in zip(rels, keys, strict=True) if key is not None and stored.get(rel, (None,))[0] == digest(key, nav))
        blobs = [blob for rel in rels if (blob := stored.get(rel, (None, None))[1]) is not None]
        with_deps = len(blobs)
        started = time.process_time()
        same_deps = sum(1 for blob in blobs if tokens.packed_deps_token(blob[16:]) == blob[:16])
        dep_times.append(time.process_time() - started)
    for name, times, count, same in (("keys", key_times, len(pages), same_keys), ("deps", dep_times, with_deps, same_deps)):
        median = statistics.median(times)
        print(f"{name} pages={count} median_s={median:.3f} us_per_page={median / max(1, count) * 1e6:.1f} unchanged={same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
