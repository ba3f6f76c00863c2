"""The no-change fast path: the stamps of every input, compared with those of the last build.

Kept apart from the pipeline's imports, so that ``build`` on an unchanged site answers in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .memo import BUNDLED, CACHE_DIR, HERE, LIBRARIES, SYSTEM_FONT_DIRS, file_stamp, hash_of, tree_stamps
from .options import BuildOptions, BuildResult, build_now, source_date_epoch
from .output import MANIFEST, foreign_at_top, leftover_folders, read_manifest

STATE_FILE = "state.pickle"


def inputs_state(options: BuildOptions) -> bytes:
    """A hash of the stamps of every input (site.yaml, content, templates, static, root, fonts, the generator and its libraries) and the options."""
    from importlib.util import find_spec

    root = options.source
    parts = [repr((str(options.output), options.include_drafts, options.include_future, options.base_url, options.relative, source_date_epoch() is not None))]
    for folder in (root / "content", root / "templates", root / "static", root / "root", BUNDLED / "templates", BUNDLED / "static", HERE):
        parts.append(f"[{folder}]")
        for rel, stamp in tree_stamps(folder):
            parts += [rel, stamp]
    parts += ["site.yaml", file_stamp(root / "site.yaml")]
    for folder in (root / "fonts", BUNDLED / "fonts", *SYSTEM_FONT_DIRS):
        parts += [str(folder), file_stamp(folder)]
    for module in LIBRARIES.values():  # find_spec gives None for a library not installed: its stamp is ""
        parts += [module, file_stamp(getattr(find_spec(module), "origin", None) or "")]
    return hash_of(*parts)


def unchanged_build(options: BuildOptions, state: bytes, started: float) -> BuildResult | None:
    """The result of the last build when nothing it read has changed since, and its output is as it left it; else None."""
    try:
        stored = pickle.loads((options.source / CACHE_DIR / STATE_FILE).read_bytes())
        if stored["state"] != state or build_now().timestamp() >= stored["next_change"]:
            return None
        output = Path(stored["output"])
        if file_stamp(output / MANIFEST) != stored["manifest"] or leftover_folders(output) or foreign_at_top(output):
            return None
        if folder_stamps(output, stored["folders"]) != stored["folder_stamps"]:  # a file or folder deleted at the top, or in a folder there
            return None
        result: BuildResult = stored["result"]
    except Exception:  # no state, or an unreadable one: build
        return None
    return replace(result, seconds=time.perf_counter() - started, written=0, mode="unchanged")


def folder_stamps(output: Path, folders: list[str]) -> bytes:
    """A hash of the modification times of the output's *folders*: deleting a file or folder in one changes its time."""
    parts = []
    for rel in folders:
        try:
            parts.append(f"{rel}:{os.stat(output / rel).st_mtime_ns}")
        except OSError:
            parts.append(f"{rel}:")
    return hash_of(*parts)


def save_state(options: BuildOptions, state: bytes, next_change: float, output: Path, result: BuildResult) -> None:
    """Remember *state* and *result* for :func:`unchanged_build`, until *next_change* (when the publish filter answers otherwise)."""
    # The top folder and those in it: a stat each is cheap (every folder's would cost 0.1 s at 10,000 articles).
    folders = sorted({"", *(rel.partition("/")[0] for rel in read_manifest(output) or () if "/" in rel)})
    stored: dict[str, Any] = {"state": state, "next_change": next_change, "output": str(output), "manifest": file_stamp(output / MANIFEST), "result": result}
    stored |= {"folders": folders, "folder_stamps": folder_stamps(output, folders)}
    folder = options.source / CACHE_DIR
    with contextlib.suppress(OSError):  # the next build only takes longer
        folder.mkdir(exist_ok=True)
        temporary = folder / f"{STATE_FILE}.{os.getpid()}"
        temporary.write_bytes(pickle.dumps(stored))
        os.replace(temporary, folder / STATE_FILE)
