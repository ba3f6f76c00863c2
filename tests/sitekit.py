"""Helpers for the safety tests: write articles, snapshot folders, find unsafe markup."""

from __future__ import annotations

import os
from pathlib import Path

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, settings

# A tag name no template or sanitizer ever emits: finding it as an element in a
# generated page means text from the input reached the page unescaped.
MARKER_TAG = "hyp-x"
FUZZ = os.environ.get("DIGEST_FUZZ", "")  # DIGEST_FUZZ=<examples>: explore with fresh random input


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for the property tests: *examples* derandomized runs (stable in CI), or DIGEST_FUZZ fresh ones."""
    return settings(
        max_examples=int(FUZZ) if FUZZ.isdecimal() else examples,
        derandomize=not FUZZ,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


def write_article(site: Path, rel: str, front: str, body: str = "Body text.\n") -> Path:
    """Write ``content/<rel>`` with the given front-matter lines and body."""
    path = site / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n{body}", encoding="utf-8")
    return path


def article_front(title: str = "A story", **extra: str) -> str:
    """Valid front matter; keyword arguments add or replace fields (values are raw YAML)."""
    fields = {
        "title": f'"{title}"',
        "date": "2026-03-05",
        "tags": "[testing]",
        "sources": "[https://example.com/a]",
        "confidence": "60",
    }
    fields.update(extra)
    return "\n".join(f"{key}: {value}" for key, value in fields.items())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (symlinks not followed) as ``{relative path: bytes}``."""
    files: dict[str, bytes] = {}
    if not folder.exists():
        return files
    for parent, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(parent) / name
            rel = path.relative_to(folder).as_posix()
            files[rel] = b"<symlink>" if path.is_symlink() else path.read_bytes()
    return files


def tree(folder: Path) -> set[str]:
    """Every file and folder name under *folder*, relative."""
    return {(Path(parent) / name).relative_to(folder).as_posix() for parent, dirs, names in os.walk(folder) for name in dirs + names}


def unsafe_markup(html: str) -> list[str]:
    """What in *html* could run script: marker elements, event handlers, script URLs, foreign scripts."""
    soup = BeautifulSoup(html, "html.parser")
    found: list[str] = []
    for element in soup.find_all(True):
        if element.name == MARKER_TAG:
            found.append(f"<{MARKER_TAG}> element")
        if element.name == "script" and element.get("type") == "application/ld+json":
            # Data, not code: input text may appear in it, but never a raw "<"
            # that could close the element early.
            if "<" in element.get_text():
                found.append("raw '<' inside JSON-LD")
            continue
        if element.name in ("script", "iframe", "object", "embed") and ("alert" in element.get_text() or "alert" in str(element.get("src", ""))):
            found.append(f"<{element.name}> element from the input")
        for attr, value in element.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            if attr.lower().startswith("on"):
                found.append(f"{attr} attribute on <{element.name}>")
            squashed = "".join(text.split()).lower()
            if attr in ("href", "src", "action", "formaction", "xlink:href") and squashed.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"{attr}={text!r} on <{element.name}>")
    return found


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))
