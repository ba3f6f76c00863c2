"""URL-safe names for topics, tags, sources and stories.

Shared by the config, content and index stages. A slug is lower-case ASCII
letters, digits and hyphens (non-Latin text transliterated), never a Windows
device name: always one safe path component (or '', see :func:`slug_or_hash`).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from slugify import slugify

_REPLACEMENTS = [
    ["C++", "cpp"], ["c++", "cpp"], ["C#", "csharp"], ["c#", "csharp"], ["F#", "fsharp"], ["f#", "fsharp"], ["+", " plus "], ["&", " and "],
    ["'", ""], ["\u2019", ""],  # an apostrophe joins its word: "Musk's" -> "musks", not "musk-s"
]  # fmt: skip
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_SLUG = 80


@lru_cache(maxsize=4096)  # topic folders, stories and tags repeat across articles
def make_slug(text: str) -> str:
    """Slug for *text*, or '' when it has nothing to transliterate."""
    slug = slugify(text, max_length=MAX_SLUG, word_boundary=True, replacements=_REPLACEMENTS)
    return slug + "-x" if slug in RESERVED_NAMES else slug


def slug_or_hash(text: str, prefix: str) -> str:
    """Slug for *text*; text with no sluggable letters (emoji, symbols) gets a stable hash."""
    return make_slug(text) or f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
