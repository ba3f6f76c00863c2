"""The files a build copies as they are: the static files (bundled, overlaid by the site's), the media of content/ and root/.

Part of the planning stage: in ``SiteConfig`` and the page plan, out each copy's
URL and the problems. ``content/`` is untrusted, so only media and documents a
story links are published from it, never over the owner's files.
"""

from __future__ import annotations

import os
import unicodedata
from contextlib import suppress
from pathlib import Path

from .config import SiteConfig
from .content import check_input_file
from .errors import Problem, error
from .memo import BUNDLED
from .output import url_to_relpath
from .pages import Page
from .schema import MARKDOWN_SUFFIXES, Article

# What content/ (untrusted) may publish: media and documents; markup, scripts, styles, _headers... belong in static/.
ASSET_SUFFIXES = frozenset({
    "png", "jpg", "jpeg", "gif", "webp", "avif", "ico", "bmp", "tif", "tiff", "pdf",
    "mp3", "m4a", "ogg", "oga", "opus", "wav", "flac", "mp4", "m4v", "webm", "ogv", "mov",
    "txt", "csv", "tsv", "json", "geojson", "xlsx", "ods", "zip",
})  # fmt: skip


def find_copies(config: SiteConfig) -> tuple[dict[str, Path], list[Problem]]:
    """Static files (bundled, overlaid by the site's) and the media files of content/, with the problems of the latter."""
    copies: dict[str, Path] = {}
    for static in (BUNDLED / "static", config.root / "static"):
        for path in _files_under(static):
            copies["/static/" + path.relative_to(static).as_posix()] = path
    problems: list[Problem] = []
    content = config.root / "content"
    for path in _files_under(content, skip=(".md", ".markdown")):
        url = "/" + unicodedata.normalize("NFC", path.relative_to(content).as_posix())  # "é" saved as e and an accent (macOS) too
        if url.startswith("/static/"):
            message = f"expected no file under content/static/, found one: {url} belongs to static/ (the site's own files); move it there"
        elif path.suffix.lower() in (".md", ".markdown"):  # .MD: read as an article only when named in lower case
            message = f'expected an article file to end in "{path.suffix.lower()}", found "{path.suffix}"; rename it'
        elif path.suffix.lower().lstrip(".") not in ASSET_SUFFIXES:  # CNAME too: the site's domain is the owner's (root/)
            kind = f"a {path.suffix} file" if path.suffix else "a file without a type"
            message = f"expected an image, PDF, audio, video, text or data file, found {kind}, which content/ does not publish; move it to static/ (served under /static/) or root/ (at the top of the site)"
        else:
            copies[url] = path
            continue
        problems.append(error(path.relative_to(config.root).as_posix(), 0, message))
    top = config.root / "root"  # the owner's files for the top of the site, as they are: _headers, .well-known/, ...
    for path in _files_under(top, hidden=True):
        url = "/" + path.relative_to(top).as_posix()
        if url == "/.digest-manifest":  # the build's own list of what it wrote
            problems.append(error("root/.digest-manifest", 0, "expected no file of this name in root/, found one: the build writes it; delete it"))
            continue
        if url in copies and copies[url].is_relative_to(content):
            problems.append(
                error(
                    copies[url].relative_to(config.root).as_posix(),
                    0,
                    f"expected {url} in one place, found it in content/ and in root/, whose file is published; delete one",
                )
            )
        copies[url] = path
    return copies, problems


def check_copies(config: SiteConfig, copies: dict[str, Path]) -> list[Problem]:
    """Files that cannot be copied: unreadable, special, links out of the site, unsafe names."""
    problems: list[Problem] = []
    for url, path in sorted(copies.items()):
        if not path.is_relative_to(config.root):
            continue  # the generator's own static files
        shown = path.relative_to(config.root).as_posix()
        try:
            url_to_relpath(url)
        except ValueError:
            problems.append(error(shown, 0, _UNUSABLE_NAME))
            continue
        if unusable := check_input_file(path, config.root):
            problems.append(error(shown, 0, unusable))
    return problems


_UNUSABLE_NAME = "expected a file name usable in a URL (no ':', '\\', control characters or device names such as CON), found one that is not; rename the file"


def _files_under(folder: Path, skip: tuple[str, ...] = (), hidden: bool = False) -> list[Path]:
    """Every file under *folder* but names ending with *skip*, editors' and systems' leftovers (:func:`is_litter`) and, unless
    *hidden*, hidden ones (never ``.git``), in a fixed order."""
    if not folder.is_dir():
        return []
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if (hidden or not d.startswith(".")) and d != ".git")
        found += [Path(parent, n) for n in sorted(names) if (hidden or not n.startswith(".")) and not n.endswith(skip) and not is_litter(n)]
    return found


def is_litter(name: str) -> bool:
    """An editor's backup or lock file (``x.md~``, ``#x.md#``, ``.#x.md``, ``.x.md.swp``) or a system's (``Thumbs.db``,
    ``.DS_Store``): never published, and no reason to fail a build an editor is saving into."""
    return name.endswith(("~", ".swp", ".swo", ".swx")) or name.startswith(".#") or (name.startswith("#") and name.endswith("#")) or name in LITTER


LITTER = frozenset({"Thumbs.db", "desktop.ini", "Desktop.ini", ".DS_Store", "ehthumbs.db", "Icon\r"})


def find_page_collisions(pages: list[Page], copies: dict[str, Path]) -> list[Problem]:
    """Two outputs (pages or copied files) that would land on the same file, reported at an article's file if one is (an editor fixes it there)."""
    owner: dict[str, Page | Path] = {}  # relpath -> what is written there
    for url, path in sorted(copies.items()):
        with suppress(ValueError):  # an unusable file name; check_copies reports it
            owner[url_to_relpath(url)] = path
    problems: list[Problem] = []
    for page in pages:
        if page.url.startswith("/static/"):  # hosts cache /static/ for a year: a page there would never change for readers
            blame, what = _source(page)
            problems.append(
                error(blame or "site.yaml", 1 if blame else 0, f"expected a URL outside /static/ (the site's own files), found {page.url} for {what}")
            )
        rel = url_to_relpath(page.url)
        if rel not in owner:
            owner[rel] = page
            continue
        (blame, what), (other_blame, other_what) = _source(page), _source(owner[rel])
        if (not blame and other_blame) or (_standalone(blame) and other_blame.endswith(MARKDOWN_SUFFIXES)):  # told where to change it: an article's slug first
            (blame, what), (other_blame, other_what) = (other_blame, other_what), (blame, what)
        hint = "; rename the file (a page's URL is its file's name)" if _standalone(blame) else ""
        hint = hint or ('; set a different "slug:"' if blame.endswith(MARKDOWN_SUFFIXES) else "")
        problems.append(error(blame or "site.yaml", 1 if blame else 0, f"{what} would be written to {page.url}, which is already used by {other_what}{hint}"))
    return problems


def _standalone(path: str) -> bool:
    """Whether *path* is a standalone page's file, whose URL is its name (it has no ``slug:``)."""
    return path.startswith("content/pages/") and path.endswith(MARKDOWN_SUFFIXES)


def _source(output: Page | Path) -> tuple[str, str]:
    """(the file to blame or "", what it is) for an output."""
    if isinstance(output, Path):
        return output.as_posix(), output.as_posix()
    article = output.context.get("article")
    shown = article.path if isinstance(article, Article) else output.context.get("source_path", "")  # or a standalone page's
    return (shown, shown) if shown else ("", f"the page “{output.title}”")
