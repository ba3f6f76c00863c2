"""Build options and results, and the build's clock: what every command shares.

Kept free of the pipeline's imports, so that a rebuild with nothing to do
(:func:`digest.cache.unchanged_build`) starts in a few milliseconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import Problem, UsageError


@dataclass(frozen=True)
class BuildOptions:
    source: Path
    output: Path | None = None  # default: site.yaml's output_dir inside the source
    include_drafts: bool = False
    include_future: bool = False
    jobs: int = 1  # worker processes for rendering Markdown bodies
    base_url: str | None = None  # overrides site.yaml's base_url for this build (previews)
    relative: bool = False  # make internal links in pages relative, so the folder works from disk
    cache: bool = True  # reuse and update the build cache in the site's .digest-cache/ folder


@dataclass(frozen=True)
class BuildResult:
    articles: int
    pages: int
    files: int
    seconds: float
    output: Path
    warnings: list[Problem]
    written: int = 0  # files (re)written by this build
    mode: str = "fresh"  # "fresh", "update" (only what changed) or "unchanged"
    rendered: int = 0  # pages rendered by this build
    keyed: int = 0  # pages whose inputs this build hashed to see whether they changed (the others were known not to)


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as whole seconds, None when unset; an invalid value is an error."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        if not epoch.isdecimal():
            raise ValueError(epoch)
        datetime.fromtimestamp(int(epoch), tz=UTC)
        return int(epoch)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f'SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC, found "{epoch[:40]}"') from None


def build_now() -> datetime:
    """The build's "now": SOURCE_DATE_EPOCH when set, so builds can be reproduced."""
    epoch = source_date_epoch()
    return datetime.now(tz=UTC) if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)
