"""The build cache: what an incremental rebuild may reuse, and how it knows.

A SQLite file in the site's ``.digest-cache/`` folder (git-ignored, removed by
``clean``) keeps, between builds:

- for every article file: its stat signature, the parsed ``Article`` and its
  problems, and the rendered body (keyed by a hash of what rendering reads of
  the article, ``markdown.BODY_FIELDS``, the Markdown settings and where the
  body's relative links lead: an edit to the tags or title keeps the body);
- the index of the last build, keyed by the *index key*: a hash of every
  published article's metadata (everything but its body);
- for every output file: the *key* of the inputs it was made from, a hash of
  the bytes written, and, for pages, the site entities (topics, tags, outlets,
  stories, months, years) its templates looked at while rendering.

A page's key hashes its whole template context, with each article standing for
a token of its metadata and each entity for a token of its own fields. What a
template reads beyond that (``story.articles``, ``topic_of[...]``, cards) is
recorded while it renders, through the Jinja environment's attribute hooks, and
stored with the page; the page is rendered again when any of those tokens
changes. Everything is keyed by the *site key* (the generator's own files and
library versions, site.yaml, templates, static files and build options); a
different site key, a different schema, an unreadable file or a build that was
interrupted while committing all make the cache ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .options import BuildOptions, BuildResult, build_now, source_date_epoch

CACHE_DIR = ".digest-cache"
DB_NAME = "build.sqlite"
SCHEMA = 5
HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parent
LIBRARIES = {  # the distributions whose code shapes the output, as installed -> as imported
    "markdown-it-py": "markdown_it",
    "mdit-py-plugins": "mdit_py_plugins",
    "markdown-it-pyrs": "markdown_it_pyrs",
    "Pygments": "pygments",
    "Jinja2": "jinja2",
    "MarkupSafe": "markupsafe",
    "nh3": "nh3",
    "PyYAML": "yaml",
    "Pillow": "PIL",
    "python-slugify": "slugify",
    "text-unidecode": "text_unidecode",
}


def digest(*parts: bytes | str) -> bytes:
    """A 16-byte BLAKE2b hash of *parts*, each length-prefixed so they cannot run together."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def _signature(entry: os.DirEntry[str] | Path) -> str:
    st = entry.stat(follow_symlinks=True) if isinstance(entry, os.DirEntry) else entry.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def file_signature(path: Path) -> str:
    """Size, modification and change times and inode: different whenever the file is rewritten."""
    try:
        return _signature(path)
    except OSError:
        return "missing"


def tree_signatures(folder: Path) -> Iterator[tuple[str, str]]:
    """(relative path, signature) of every file under *folder*, in a fixed order."""
    stack = [(folder, "")]
    while stack:
        current, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            yield prefix or ".", "unreadable"
            continue
        for entry in entries:
            rel = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), rel + "/"))
                else:
                    yield rel, _signature(entry)
            except OSError:
                yield rel, "unreadable"


def _generator_files() -> list[Path]:
    return [path for folder in (HERE, HERE / "commands") for path in sorted(folder.glob("*.py"))]


def generator_version() -> bytes:
    """A hash of the generator's own code and the versions of the libraries it renders with."""
    parts: list[str] = [sys.version]
    for path in _generator_files():
        parts += [path.name, path.read_text(encoding="utf-8")]
    from importlib import metadata

    for name in LIBRARIES:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=none")
    return digest(*parts)


def generator_signature() -> bytes:
    """The stat signatures of what :func:`generator_version` reads: a different version always gives a different signature.

    Taking them costs a millisecond; the version itself costs some 25 ms
    (importlib.metadata), so the cache remembers it by this signature.
    """
    return digest(sys.version, *[f"{path}:{file_signature(path)}" for path in _generator_files()], *library_signatures())


def library_signatures() -> list[str]:
    """The stat signature of each library's main module file, found without importing it: an upgrade replaces the file."""
    from importlib.util import find_spec

    found = []
    for module in LIBRARIES.values():
        try:
            spec = find_spec(module)
        except (ImportError, ValueError):  # a broken installation: the full build reports it
            spec = None
        origin = spec.origin if spec is not None else None
        found.append(f"{module}:{file_signature(Path(origin)) if origin else 'none'}")
    return found


def inputs_state(root: Path, extra: Iterable[str]) -> bytes:
    """A hash of the stat signatures of every input file: site.yaml, content, templates, static, the generator and its libraries.

    The signatures of the files under content/ are kept for the build that
    goes on (see :func:`take_content_signatures`), so it need not stat them again.
    """
    parts: list[str] = [*extra]
    content = root / "content"
    for folder in (content, root / "templates", root / "static", BUNDLED / "templates", BUNDLED / "static", HERE, HERE / "commands"):
        parts.append(f"[{folder}]")
        found = list(tree_signatures(folder))
        if folder == content:
            _CONTENT_SIGNATURES[str(content)] = dict(found)
        for rel, sig in found:
            parts += [rel, sig]
    parts += ["site.yaml", file_signature(root / "site.yaml"), *library_signatures()]
    return digest(*parts)


_CONTENT_SIGNATURES: dict[str, dict[str, str]] = {}  # content folder -> {path under it: signature}, from the last inputs_state


def take_content_signatures(content: Path) -> dict[str, str]:
    """The signatures ``inputs_state`` just took of the files under *content* (each taken once; {} if none).

    Taken before any file is read, like the state itself: a file changed since
    then is read as it is now and noted with its older signature, so the next
    build reads it again.
    """
    return _CONTENT_SIGNATURES.pop(str(content), {})


class Cache:
    """The SQLite store; every method is a no-op-safe read or a write inside one transaction."""

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.path = self.folder / DB_NAME
        self.db: sqlite3.Connection | None = None
        self._anew: Path | None = None  # the file of a database opened anew, until commit() puts it in place

    def open(self, create: bool = False, anew: bool = False) -> bool:
        """Open the database (*create* it, after a successful build); False when it cannot be used.

        *anew*: start an empty database in a file of its own, written without a
        journal, which :meth:`commit` puts in the place of any old one. A fresh
        cache is written once, whole: through the write-ahead log it would be
        written twice (100 MB at 10,000 articles, a second of a cold build).
        """
        if not create and not anew and not self.path.is_file():
            return False
        try:
            self.folder.mkdir(exist_ok=True)
            if anew:
                self.close()
                self._anew = self.folder / f"{DB_NAME}.{os.getpid()}.partial"
                self._anew.unlink(missing_ok=True)
                db = sqlite3.connect(self._anew, isolation_level=None)
                db.execute("PRAGMA journal_mode=OFF")  # a failed build deletes the file: nothing to roll back
                db.execute("PRAGMA synchronous=OFF")  # commit() renames it into place
            else:
                db = sqlite3.connect(self.path, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA:
                db.executescript(
                    """
                    DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS sources;
                    DROP TABLE IF EXISTS bodies; DROP TABLE IF EXISTS outputs;
                    CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB);
                    CREATE TABLE sources(path TEXT PRIMARY KEY, sig TEXT, hash BLOB, parse_key BLOB, article BLOB, problems BLOB,
                                         token BLOB, published REAL, draft INTEGER, expires REAL, url TEXT);
                    CREATE TABLE bodies(path TEXT PRIMARY KEY, key BLOB, links TEXT, resolved TEXT, summary TEXT, minutes INTEGER,
                                        problems BLOB, body TEXT, token BLOB);
                    CREATE TABLE outputs(rel TEXT PRIMARY KEY, key BLOB, digest BLOB, deps BLOB);
                    """
                )
                db.execute(f"PRAGMA user_version={SCHEMA}")
            self.db = db
            return True
        except (sqlite3.Error, OSError):
            self.close()
            self.discard()
            return False

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None

    def discard(self) -> None:
        """Delete the database and the files beside it (it is only a cache)."""
        self.close()
        if self._anew is not None:
            self._anew.unlink(missing_ok=True)
            self._anew = None
        for path in [Path(str(self.path) + suffix) for suffix in ("", "-wal", "-shm")] + sorted(self.folder.glob("index*.pickle")):
            with contextlib.suppress(OSError):
                os.unlink(path)

    def generator_version(self) -> tuple[bytes, tuple[bytes, bytes]]:
        """:func:`generator_version`, taken from the cache when the generator's files are as they were; and what to remember of it."""
        signature = generator_signature()
        if self.db is not None:
            try:
                stored = self.get("generator")
            except Exception:  # an unreadable value: computed again, and the save replaces it
                stored = None
            if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == signature and isinstance(stored[1], bytes):
                return stored[1], stored
        version = generator_version()
        return version, (signature, version)

    # meta: small named values
    def get(self, name: str) -> Any:
        assert self.db is not None
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else pickle.loads(row[0])

    def put(self, name: str, value: Any) -> None:
        assert self.db is not None
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (name, pickle.dumps(value, protocol=5)))

    # files: large values, beside the database. SQLite writes a blob through its
    # write-ahead log and again at the checkpoint: 8 MB took 0.1 s, a file 0.01 s.
    def put_file(self, name: str, data: bytes) -> None:
        """Write *data* to the cache file *name* and note its stat signature, in the transaction under way.

        Written before the transaction commits: if it does not, the signature
        noted is the old file's, so the new file is never taken for it.
        """
        path = self.folder / name
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        self.put("file:" + name, file_signature(path))

    def get_file(self, name: str) -> bytes | None:
        """The cache file *name*, or None when it is missing or not the one the database noted."""
        path = self.folder / name
        noted = self.get("file:" + name)
        if noted is None or file_signature(path) != noted:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data if file_signature(path) == noted else None  # not replaced while it was read

    def begin(self) -> None:
        assert self.db is not None
        self.db.execute("BEGIN")

    def commit(self) -> None:
        assert self.db is not None
        self.db.execute("COMMIT")
        if self._anew is not None:  # the old database goes, its log first (SQLite would ignore that log, but it is of no use)
            self.close()
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            os.replace(self._anew, self.path)
            self._anew = None

    def rollback(self) -> None:
        if self._anew is not None:  # no journal to roll back with: the caller discards the whole file
            self.close()
        elif self.db is not None and self.db.in_transaction:
            self.db.execute("ROLLBACK")


Dep = tuple[str, bool]
"""Something a page's templates read: ``(ref, deep)``, an entity's own fields or also its article list.

``ref`` is ``"topic:business"``, ``"tag:gpu"``, ``"outlet:example.com"``,
``"story:x"``, ``"month:2025-04"``, ``"year:2025"`` or ``"card:content/x.md"``;
``deep`` is True when the template read the entity's articles (or months, or count).
"""


def pack_deps(deps: Iterable[Dep], token: bytes) -> bytes:
    """What a page read and the token of it all, for the cache: far cheaper than pickling the set."""
    refs = b"\x00".join((b"1" if deep else b"0") + ref.encode("utf-8", "surrogatepass") for ref, deep in sorted(deps))
    return token + refs


def fingerprint(value: Any, tokens: TokenSource) -> bytes:
    """A hash of a template context value; articles, bodies and entities count as their tokens."""
    out: list[bytes] = []
    _fp(value, tokens, out)
    # Parts are reprs (no raw control characters) or a letter and a token in hex: joined unambiguously.
    return hashlib.blake2b(b"\x1f".join(out), digest_size=16).digest()


class TokenSource:
    """Tokens of articles, bodies and entities for the current build (see :mod:`digest.cache`)."""

    def article(self, article: Any) -> bytes:
        raise NotImplementedError

    def body(self, body: Any) -> bytes:
        raise NotImplementedError

    def entity(self, value: Any) -> bytes | None:
        """The shallow token of an entity value, or None when *value* is not one."""
        raise NotImplementedError

    def article_part(self, article: Any) -> bytes:
        """An article as a fingerprint part (a subclass may remember these)."""
        return b"A" + self.article(article).hex().encode()

    def entity_part(self, value: Any) -> bytes | None:
        """An entity as a fingerprint part, or None when *value* is not one."""
        token = self.entity(value)
        return None if token is None else b"E" + token.hex().encode()


_PLAIN = (str, int, float, bool, type(None))
_STR_PARTS: dict[str, bytes] = {}  # strings seen as parts: a context's keys repeat on every page
_FIELDS: dict[type, tuple[str, ...]] = {}  # dataclass -> its field names


def _str_part(value: str) -> bytes:
    part = _STR_PARTS.get(value)
    if part is None:
        part = f"str:{value!r}".encode()
        if len(value) < 100 and len(_STR_PARTS) < 100_000:
            _STR_PARTS[value] = part
    return part


def _fp(value: Any, tokens: TokenSource, out: list[bytes]) -> None:
    # Items of tuples and keys of dicts are mostly articles and strings: they are handled
    # in the loop, without a call of this function for each.
    kind = type(value)
    if kind is str:
        out.append(_str_part(value))
    elif kind is tuple or kind is list:
        out.append(b"[%d" % len(value))
        for item in value:
            if type(item).__name__ == "Article":
                out.append(tokens.article_part(item))
            else:
                _fp(item, tokens, out)
        out.append(b"]")
    elif kind is dict:
        out.append(b"{%d" % len(value))
        for key, item in value.items():
            if type(key) is str:
                out.append(_str_part(key))
            else:
                _fp(key, tokens, out)
            _fp(item, tokens, out)
        out.append(b"}")
    elif kind in _PLAIN or kind is datetime or kind is date:
        out.append(f"{kind.__name__}:{value!r}".encode())
    else:
        name = kind.__name__
        if name == "Article":
            out.append(tokens.article_part(value))
        elif name in ("RenderedBody", "StoredBody"):
            out.append(b"B" + tokens.body(value).hex().encode())
        else:
            part = tokens.entity_part(value)
            if part is not None:
                out.append(part)
                return
            names = _FIELDS.get(kind)
            if names is None:
                if not (is_dataclass(value) and not isinstance(value, type)):
                    raise Unfingerprintable(name)
                names = _FIELDS[kind] = tuple(f.name for f in fields(value))
            out.append(f"D:{name}({len(names)}".encode())
            for field_name in names:
                _fp(getattr(value, field_name), tokens, out)
            out.append(b")")


class Unfingerprintable(TypeError):
    """A context value the cache cannot hash; the page is then always rendered."""


def option_parts(options: BuildOptions, epoch: int | None) -> list[str]:
    """The build options that change the output, for the inputs state."""
    o = options
    return [repr((str(o.output), o.include_drafts, o.include_future, o.base_url, o.relative, epoch is not None))]


def unchanged_build(options: BuildOptions) -> tuple[BuildResult | None, bytes | None]:
    """The result of a rebuild with nothing to do (or None), and the inputs state it computed.

    The state (None when not computed) is taken before any input is read, so
    a build that goes on can store it as what it built from.

    Nothing changed when every input file has the stat signature it had at
    the last successful build, the options are the same, no article's date or
    expiry has been reached since, and the output folder is the one that build
    wrote, with nothing added by hand and no leftovers of an interrupted build.
    """
    from .output import MANIFEST, foreign_at_top, leftover_folders

    if not options.cache:
        return None, None
    started = time.perf_counter()
    state = inputs_state(options.source, option_parts(options, source_date_epoch()))
    cache = Cache(options.source)
    if not cache.open():
        return None, state
    try:
        stored = cache.get("state")
    except Exception:
        return None, state
    finally:
        cache.close()
    if not stored or stored["state"] != state or build_now().timestamp() >= stored["next_change"]:
        return None, state
    output = Path(stored["output"])
    if file_signature(output / MANIFEST) != stored["manifest"]:
        return None, state
    if leftover_folders(output):
        return None, state
    if foreign_at_top(output):
        return None, state  # the full build looks further, and refuses naming them
    seconds = time.perf_counter() - started
    return BuildResult(stored["articles"], stored["pages"], stored["files"], seconds, output, stored["warnings"], 0, "unchanged"), state
