"""Build options and results, and the build's clock: what every command shares.

Kept free of the pipeline's imports, so that every command can use them without loading the whole engine.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
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
    written: int = 0  # files rendered by this build (the others were linked from the previous output or copied)
    mode: str = "fresh"  # "fresh", "update" (only what changed was rendered) or "unchanged"
    held_back: dict[str, int] = field(default_factory=dict)  # "drafts", "future", "expired": articles kept out of the site or its lists
    search_pending: bool = False  # the search index is out of date: it was left for a build after this one (build_site's search_later)


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as whole seconds, None when unset; an invalid value is an error."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    with contextlib.suppress(ValueError, OverflowError, OSError):
        if epoch.isdecimal():
            datetime.fromtimestamp(int(epoch), tz=UTC)  # one that no date can have is refused here, not at its first use
            return int(epoch)
    late = " (after the year 9999)" if epoch.isdecimal() else ""
    raise UsageError(f'SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC, found "{epoch[:40]}"{late}')


def build_now() -> datetime:
    """The build's "now": SOURCE_DATE_EPOCH when set, so builds can be reproduced."""
    epoch = source_date_epoch()
    return datetime.now(tz=UTC) if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)
