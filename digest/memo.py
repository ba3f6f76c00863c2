"""The memo: results of pure stages, stored under the hash of their inputs.

In: a slow stage's result and a *hash* of everything it reads (file bytes, settings, the generator's version). Out:
that result, to a later build that computes the same hash. Nothing is used without its hash matching, so a stale,
foreign or corrupt memo costs time, never correctness. It lives in ``<site>/.digest-cache/memo.sqlite`` with an
in-memory layer in front (the dev server keeps one :class:`Memo` for its life); ``--no-cache`` uses :data:`NO_MEMO`.

File *stamps* (size, times, inode) are not hashes: like git's index, they only tell that a file was not touched
since its bytes were hashed, so that it need not be read again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

CACHE_DIR = ".digest-cache"
DB_NAME = "memo.sqlite"
SCHEMA = 1  # bump when the table's layout changes
RACY_SECONDS = 2.0  # a stamp younger than this is not kept: a second write within the clock's tick could leave it unchanged
HERE = Path(__file__).resolve().parent
# The bundled templates/ and static/: beside the package in a checkout, inside it when installed (pyproject.toml).
BUNDLED = HERE / "bundled" if (HERE / "bundled" / "templates").is_dir() else HERE.parent
SYSTEM_FONT_DIRS = tuple(Path("/usr/share/fonts", kind) for kind in ("truetype/noto", "opentype/noto", "truetype/dejavu"))
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
    "css-inline": "css_inline",
    "python-slugify": "slugify",
    "text-unidecode": "text_unidecode",
    "babel": "babel",  # dates and month names in the site's language
    "pagefind": "pagefind",
    "pagefind-bin-extended": "pagefind_bin_extended",
    "cbor2": "cbor2",
}

SCAN_FROM = 1000  # get_many reads a whole stage when more keys than this are not in memory
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})  # hashed by their repr


def hash_of(*parts: bytes | str) -> bytes:
    """A 16-byte BLAKE2b hash of *parts*, each length-prefixed so they cannot run together."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def hash_value(value: Any, known: dict[int, bytes] | None = None) -> bytes:
    """The hash of a plain value: text, numbers, dates, tuples, lists, dicts and dataclasses; any other type is a TypeError.

    *known* gives the hash of objects that stand for more than their fields (a topic with its articles), by ``id()``.
    """
    out: list[str] = []
    _walk(value, known or {}, out)
    return hashlib.blake2b("\x1f".join(out).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _walk(value: Any, known: dict[int, bytes], out: list[str]) -> None:
    """Append a canonical text for *value* to *out*: reprs of plain values, markers around containers."""
    kind = type(value)
    if kind in _PLAIN:
        out.append(repr(value))
        return
    found = known.get(id(value))
    if found is not None:
        out.append(found.hex())
    elif kind is tuple or kind is list:
        out.append(f"({len(value)}")
        try:  # the common case, a list of articles: all known
            out.extend([known[id(item)].hex() for item in value])
        except KeyError:
            for item in value:
                _walk(item, known, out)
    elif kind is dict:
        out.append(f"{{{len(value)}")
        for key, item in value.items():
            _walk(key, known, out)
            _walk(item, known, out)
    elif isinstance(value, (datetime, date)):
        out.append(f"{kind.__name__}({value.isoformat()}, {getattr(value, 'tzinfo', None)})")
    elif isinstance(value, tuple):  # a named tuple
        out.append(f"{kind.__qualname__}({len(value)}")
        for item in value:
            _walk(item, known, out)
    elif is_dataclass(value) and not isinstance(value, type):
        out.append(kind.__qualname__)
        for field in fields(value):
            _walk(getattr(value, field.name), known, out)
    else:
        raise TypeError(f"cannot hash a {kind.__qualname__}: declare how it is hashed (digest.memo.hash_value)")


def file_stamp(path: Path | str) -> str:
    """Size, modification and change times and inode: different whenever the file is rewritten ("" when missing)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def content_hashes(memo: Memo, table: str, paths: Iterable[str], read: Callable[[str], bytes | None]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A hash of the bytes of each file in *paths*, and the bytes of those read now.

    A file is read (``read(path)``; None leaves it out) only when its stamp is not the one its hash was taken with.
    The stamps and hashes are kept in the memo under *table*, but never a stamp less than RACY_SECONDS old.
    """
    known: dict[str, tuple[str, bytes]] = memo.get(table, b"") or {}
    now = time.time()
    hashes: dict[str, bytes] = {}
    read_now: dict[str, bytes] = {}
    kept: dict[str, tuple[str, bytes]] = {}
    for path in paths:
        stamp = file_stamp(path)
        found = known.get(path)
        if found is not None and stamp and found[0] == stamp:
            hashes[path] = found[1]
        else:
            data = read(path)
            if data is None:
                continue
            read_now[path] = data
            hashes[path] = hash_of(data)
        if stamp and now - int(stamp.split(":")[1]) / 1e9 >= RACY_SECONDS:  # a second write within the clock's tick could keep a newer one
            kept[path] = (stamp, hashes[path])
    memo.put(table, b"", kept)
    return hashes, read_now


def tree_stamps(folder: Path) -> Iterator[tuple[str, str]]:
    """(path relative to *folder*, stamp) of every file under it, in a fixed order; hidden names included."""
    stack = [(str(folder), "")]
    while stack:
        current, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                else:
                    st = entry.stat()
                    yield rel, f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
            except OSError:
                yield rel, ""


@functools.cache
def generator_version() -> bytes:
    """A hash of the generator's own code and the versions of the libraries it renders with (once per process: the code it runs is loaded)."""
    parts: list[str] = [sys.version, str(SCHEMA)]
    for path in sorted([*HERE.rglob("*.py"), *HERE.glob("labels/*.yaml")]):  # the code and the bundled label tables
        parts += [path.relative_to(HERE).as_posix(), path.read_text(encoding="utf-8")]
    from importlib import metadata

    for name in LIBRARIES:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=none")
    return hash_of(*parts)


class Memo:
    """Stage results by (stage, hash): an in-memory layer over an SQLite file, written by :meth:`save`."""

    def __init__(self, root: Path | None, read_only: bool = False) -> None:
        self.folder = root / CACHE_DIR if root is not None else None
        self.read_only = read_only  # ``check``: the last build's memo is read if it is of this version; nothing is written
        self.version = generator_version() if root is not None else b""
        self.memory: dict[tuple[str, bytes], Any] = {}
        self.new: dict[tuple[str, bytes], Any] = {}  # put since the last save
        self.used: set[tuple[str, bytes]] = set()
        self.db: sqlite3.Connection | None = None
        self._opened = False

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def _open(self, create: bool = False) -> sqlite3.Connection | None:
        """The database, opened on first use (created only to save); a file from another version or unreadable is started anew
        (read-only: not used)."""
        if self._opened or self.folder is None:
            return self.db
        path = self.folder / DB_NAME
        if not create and not path.is_file():
            return None
        self._opened = True
        if self.read_only:  # used only when it is of this version, else left as it is (closed)
            try:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            except sqlite3.Error:
                return None
            with contextlib.suppress(sqlite3.Error):
                if db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone() == (self.version,):
                    self.db = db
            if self.db is None:
                db.close()
            return self.db
        for attempt in range(2):
            try:
                self.folder.mkdir(exist_ok=True)
                db = sqlite3.connect(path, isolation_level=None)
                db.execute("PRAGMA synchronous = OFF")  # a cache: a memo cut short by a crash is started anew, never trusted
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB)")
                db.execute("CREATE TABLE IF NOT EXISTS memo (stage TEXT, hash BLOB, value BLOB, PRIMARY KEY (stage, hash)) WITHOUT ROWID")
                row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
                if row is None or row[0] != self.version:
                    db.execute("DELETE FROM memo")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (self.version,))
                self.db = db
                return db
            except (sqlite3.Error, OSError):  # OSError: a cache folder that cannot be made (a read-only site folder)
                if attempt:
                    return None  # no memo this time: the build still runs, only slower
                with contextlib.suppress(OSError):
                    path.unlink()  # corrupt: start anew
        return None

    def get(self, stage: str, key: bytes) -> Any | None:
        """The value stored under (*stage*, *key*), or None."""
        return self.get_many(stage, [key]).get(key)

    def get_many(self, stage: str, keys: Iterable[bytes]) -> dict[bytes, Any]:
        """The values stored under each of *keys* that has one."""
        if self.folder is None:
            return {}
        wanted = list(dict.fromkeys(keys))
        found: dict[bytes, Any] = {}
        missing = []
        for key in wanted:
            self.used.add((stage, key))
            if (stage, key) in self.memory:
                found[key] = self.memory[(stage, key)]
            else:
                missing.append(key)
        db = self._open() if missing else None
        if db is not None and len(missing) > SCAN_FROM:  # one pass over the stage beats thousands of lookups; the file holds at most twice what a build uses
            wanted_set = set(missing)
            with contextlib.suppress(sqlite3.Error):
                self._load(stage, (row for row in db.execute("SELECT hash, value FROM memo WHERE stage = ?", (stage,)) if row[0] in wanted_set), found)
        elif db is not None:
            for start in range(0, len(missing), 500):
                batch = missing[start : start + 500]
                marks = ",".join("?" * len(batch))
                with contextlib.suppress(sqlite3.Error):
                    self._load(stage, db.execute(f"SELECT hash, value FROM memo WHERE stage = ? AND hash IN ({marks})", [stage, *batch]), found)
        return found

    def _load(self, stage: str, rows: Iterable[tuple[bytes, bytes]], found: dict[bytes, Any]) -> None:
        for key, blob in rows:
            try:
                found[key] = self.memory[(stage, key)] = pickle.loads(blob)
            except Exception:  # an unreadable row is a miss
                continue

    def keep(self, stage: str, keys: Iterable[bytes]) -> None:
        """Mark the values under *keys* as used by this build without reading them, so :meth:`save` keeps them."""
        if self.folder is not None:
            self.used.update((stage, key) for key in keys)

    def put(self, stage: str, key: bytes, value: Any, persist: bool = True) -> None:
        """Store *value* under (*stage*, *key*): on disk at :meth:`save` when *persist*, else for this process only."""
        if self.folder is None:
            return
        slot = (stage, key)
        self.memory[slot] = value
        if persist:
            self.new[slot] = value
        self.used.add(slot)

    def save(self) -> None:
        """Write what this build added and drop what it did not use; a failure only loses the memo."""
        db = None if self.read_only else self._open(create=True)
        if db is not None:  # else no memo file can be made (or none is to be written): memory is pruned all the same below
            try:
                db.execute("BEGIN")
                db.executemany(
                    "INSERT OR REPLACE INTO memo VALUES (?, ?, ?)", ((stage, key, pickle.dumps(value, 5)) for (stage, key), value in self.new.items())
                )
                total = db.execute("SELECT COUNT(*) FROM memo").fetchone()[0]
                if total > 2 * len(self.used):  # pruned once the file holds twice what a build uses, not on every build
                    db.execute("CREATE TEMP TABLE IF NOT EXISTS used (stage TEXT, hash BLOB, PRIMARY KEY (stage, hash)) WITHOUT ROWID")
                    db.execute("DELETE FROM used")
                    db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)", self.used)
                    db.execute("DELETE FROM memo WHERE (stage, hash) NOT IN (SELECT stage, hash FROM used)")
                db.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
        self.new.clear()
        # What this build did not use is gone from disk; drop it from memory too (the dev server keeps this memo).
        self.memory = {slot: value for slot, value in self.memory.items() if slot in self.used}
        self.used = set()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None
        self._opened = False


NO_MEMO = Memo(None)
