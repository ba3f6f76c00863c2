"""Stage 7, output: the one door to the disk.

In: ``(url_path, bytes)`` from the render stage, ``{url_path: source file}`` for static files and content assets,
and the hash of every output. Out: the site folder, with a manifest of every file and the hash it was made from.

Files are staged beside the output folder and swapped or moved in only when all are written, so a failed build
leaves the previous site as it was; a file whose hash is the manifest's is left as it is. Every path is made from
URL components, checked to stay inside the folder, and written once.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from .errors import UsageError
from .memo import CACHE_DIR
from .slugs import RESERVED_NAMES
from .terminal import some_of

STAGING_PREFIX = ".digest-staging-"
RETIRED_PREFIX = ".digest-retired-"
MANIFEST = ".digest-manifest"  # inside the output: every file the build wrote, one "hash<TAB>path" a line
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\\:]")  # control characters, backslashes and drive colons


@functools.lru_cache(maxsize=1 << 18)  # asked again for every page at several stages (refusals are not remembered)
def url_to_relpath(url: str) -> str:
    """``/a/b/`` -> ``a/b/index.html``; refuses anything that could leave the folder."""
    if not url.startswith("/"):
        raise ValueError(f"output URL must start with '/': {url!r}")
    rel = url[1:] + ("index.html" if url.endswith("/") else "")
    # CON, NUL, COM1... cannot be files on Windows
    if _UNSAFE_CHARACTERS.search(url) or any(part in ("", ".", "..") or part.split(".")[0].lower() in RESERVED_NAMES for part in rel.split("/")):
        raise ValueError(f"unsafe output URL {url!r}")
    return rel


class SiteWriter:
    """Writes into one folder; refuses duplicates and paths outside it."""

    def __init__(self, root: Path, mtime: int | None = None) -> None:
        self.root = root.resolve()
        self.written: set[str] = set()
        self.made: set[str] = {""}  # folders known to exist ("": the root)
        self.mtime = mtime  # every file's modification time, for reproducible archives

    def _target(self, url: str) -> str:
        rel = url_to_relpath(url)  # no "..", empty or special parts: the path stays under root
        if rel in self.written:
            raise ValueError(f"{url} would be written twice")
        self.written.add(rel)
        self._make(rel.rpartition("/")[0])
        return f"{self.root}/{rel}"  # a str: a Path for each of 13,000 files costs more than its mkdir's Python side

    def _make(self, folder: str) -> None:
        """Make *folder* and those above it; those made before are known, so none is looked up first (as ``os.makedirs`` would)."""
        if folder in self.made:
            return
        self._make(folder.rpartition("/")[0])
        # The root is a fresh staging folder: nothing in it can be a link leading out.
        with contextlib.suppress(FileExistsError):
            os.mkdir(f"{self.root}/{folder}")
        self.made.add(folder)

    def write(self, url: str, data: bytes) -> None:
        target = self._target(url)
        with open(target, "wb") as handle:
            handle.write(data)
        stamp(target, self.mtime)

    def copy(self, url: str, source: Path) -> None:
        target = self._target(url)
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise UsageError(f"cannot copy {source} ({exc.strerror or exc}); the previous output was left as it was") from exc
        stamp(target, self.mtime)


def stamp(path: str | Path, mtime: int | None) -> None:
    """Give *path* the modification time *mtime* (SOURCE_DATE_EPOCH), if set."""
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def check_output_dir(output: Path, source: Path, walk: bool = True) -> None:
    """Refuse an output folder whose replacement would destroy something else; with *walk* False, search it for files no build wrote only when its top level holds one."""
    out = output.resolve()
    src = source.resolve()
    if out == Path(out.anchor) or out == Path.home().resolve():
        raise UsageError(f"refusing to use {out} as the output folder: the build replaces the whole folder")
    if out == src or src.is_relative_to(out):
        raise UsageError(f"refusing to use {out} as the output folder: it contains the site's own files ({src})")
    for part in ("content", "templates", "static", "root", CACHE_DIR):
        if out.is_relative_to(src / part):
            raise UsageError(f"refusing to write the output inside the site's {part}/ folder ({out})")
    if out.exists() and not out.is_dir():
        raise UsageError(f"the output path {out} exists and is not a folder")
    if not walk and not foreign_at_top(out):
        return  # an update: it deletes only its own files and checks each new one before writing it
    manifest = read_manifest(out)
    known = set(manifest or ()) | {MANIFEST}
    foreign: list[str] = []
    for parent, dirs, names in os.walk(out):
        dirs.sort()
        foreign += [rel for name in sorted(names) if (rel := Path(parent, name).relative_to(out).as_posix()) not in known]
    if foreign and manifest is None and (out / "index.html").is_file():  # most likely a site built here, its record since deleted
        raise UsageError(
            f"refusing to replace {out}: it holds files ({some_of(foreign)}) but no {MANIFEST}, the record of what the last build wrote; "
            f"if they are a build's, delete the folder (rm -r {out}) and build again"
        )
    if foreign:
        raise UsageError(
            f"refusing to replace {out}: it holds files the previous build did not write ({some_of(foreign)}); "
            "the build replaces the whole folder, so put such files in the site's root/ folder instead (copied to the same path on every build) or delete them"
        )


def read_manifest(output: Path) -> dict[str, str] | None:
    """The files the last build wrote into *output*, each with the hash it was made from, or None when it has no manifest."""
    try:
        text = (output / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    entries = (line.rpartition("\t") for line in text.split("\n") if line)
    # The folder may come from a cache, a branch or a copy: a line naming a place outside it ("../x", "/x") is no file of its own.
    return {rel: made for made, _, rel in entries if rel and not rel.startswith("/") and not {"", ".", ".."} & set(rel.split("/"))}


def foreign_at_top(output: Path) -> bool:
    """Whether the top level of *output* holds a file or folder that no build wrote."""
    if not output.is_dir():
        return False
    known = read_manifest(output)
    if known is None:
        return True
    folders = {rel.split("/", 1)[0] for rel in known if "/" in rel}
    with os.scandir(output) as entries:
        return any(entry.name not in (folders if entry.is_dir(follow_symlinks=False) else known) for entry in entries if entry.name != MANIFEST)


@contextlib.contextmanager
def output_lock(output: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold an advisory ``flock`` on *output*'s lock file, in the system's temporary folder (a read-only site folder, or two sites
    building into one folder, share it): a second build waits; the system releases it however the process ends."""
    import fcntl
    import hashlib
    import tempfile

    name = hashlib.blake2b(str(output.resolve()).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    try:
        handle = open(Path(tempfile.gettempdir()) / f"digest-output-{name}.lock", "a+b")  # noqa: SIM115 (closed below)
    except OSError:  # another user's lock file: that user's builds are not this one's to wait for
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(
    output: Path,
    files: Iterable[tuple[str, bytes]],
    copies: dict[str, Path],
    hashes: dict[str, bytes],
    reuse: Iterable[str] = (),
    mtime: int | None = None,
    known: dict[str, str] | None = None,
) -> int:
    """Publish *files* (rendered) and *copies*, leaving *reuse* as they are (:func:`up_to_date`); returns the number of files.

    With nothing to reuse, the staging folder replaces the output; else the new files are moved into it, and the
    files of the last build's manifest (*known*, read when None) that are no longer made are removed.
    """
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    # A build killed between the two renames of the fallback swap left the previous site only as a retired folder: put it back first.
    retired = sorted(leftover_folders(output, (RETIRED_PREFIX,)))
    if retired and not output.exists():
        os.rename(retired[0], output)
    for stale in leftover_folders(output):  # of earlier builds killed part-way
        shutil.rmtree(stale, ignore_errors=True)
    staging = output.parent / f"{STAGING_PREFIX}{output.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    reused = set(reuse)
    try:
        writer = SiteWriter(staging, mtime)
        for url in sorted(copies.keys() - reused):
            writer.copy(url, copies[url])
        for url, data in files:
            writer.write(url, data)
        if reused:
            update_in_place(staging, output, sorted(writer.written), hashes, mtime, read_manifest(output) if known is None else known)
        else:
            writer.write("/" + MANIFEST, manifest_text(hashes))
            for folder in writer.made:  # folders too, so that an archive of the output is the same every time
                stamp(staging / folder, mtime)
            swap_in(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(hashes)


def manifest_text(hashes: dict[str, bytes]) -> bytes:
    return "".join(sorted(f"{made.hex()}\t{url_to_relpath(url)}\n" for url, made in hashes.items())).encode("utf-8")


def update_in_place(staging: Path, output: Path, moves: list[str], hashes: dict[str, bytes], mtime: int | None, known: dict[str, str] | None) -> None:
    """Move the files staged at *moves* into *output*, remove those of *known* (the last manifest) no longer made, then write the manifest."""
    for rel in moves:
        (output / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, output / rel)
    gone = sorted((known or {}).keys() - {url_to_relpath(url) for url in hashes} - {MANIFEST})
    for rel in gone:
        if not os.path.realpath(output / rel).startswith(f"{output}/"):  # through a link to elsewhere: not the output's to remove
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output / rel)
        empty = (output / rel).parent
        with contextlib.suppress(OSError):  # rmdir stops at the first folder that is not empty
            while empty != output:
                empty.rmdir()
                empty = empty.parent
    temporary = staging / MANIFEST  # free: every staged file has been moved out
    temporary.write_bytes(manifest_text(hashes))
    stamp(temporary, mtime)
    os.replace(temporary, output / MANIFEST)
    if mtime is not None:  # the folders whose entries changed, and each folder above them
        for folder in sorted({str(above) for rel in moves + gone for above in PurePosixPath(rel).parents}):
            if (output / folder).is_dir():
                stamp(output / folder, mtime)


def up_to_date(output: Path, hashes: dict[str, bytes], known: dict[str, str]) -> set[str]:
    """The URLs whose file in *output* was made, by the build that wrote it (its manifest: *known*), from the same hash as now,
    and has not changed since: a file changed after the manifest was written (emptied, edited by hand) is made again."""
    folder = str(output)
    try:
        written = os.stat(f"{folder}/{MANIFEST}").st_mtime_ns  # the manifest is written after every file of its build
    except OSError:
        return set()

    def intact(rel: str) -> bool:
        try:
            found = os.stat(f"{folder}/{rel}")
        except OSError:
            return False
        return stat.S_ISREG(found.st_mode) and found.st_mtime_ns <= written

    return {url for url, made in hashes.items() if known.get(rel := url_to_relpath(url)) == made.hex() and intact(rel)}


def leftover_folders(output: Path, prefixes: tuple[str, ...] = (STAGING_PREFIX, RETIRED_PREFIX)) -> list[Path]:
    """The staging and retired folders (those of *prefixes*) that earlier builds left beside *output*."""
    return [found for prefix in prefixes for found in output.parent.glob(f"{prefix}{glob.escape(output.name)}-*")]


def swap_in(staging: Path, output: Path) -> None:
    """Make *staging* the output folder; the old one is removed afterwards."""
    if not output.exists():
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old site
        return
    retired = output.parent / f"{RETIRED_PREFIX}{output.name}-{os.getpid()}"
    os.rename(output, retired)
    try:
        os.rename(staging, output)
    except BaseException:  # e.g. Ctrl-C between the two renames: put the old site back
        os.rename(retired, output)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two folders with Linux's renameat2; False if unsupported."""
    import ctypes  # here: only a fresh build swaps folders

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return bool(renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0)


def remove_output(output: Path) -> bool:
    """Delete the output folder and any leftovers; True if something was removed."""
    existed = output.exists()
    for folder in [output, *leftover_folders(output.resolve())]:  # a retired folder too: removed, not put back
        shutil.rmtree(folder, ignore_errors=True)
    return existed
