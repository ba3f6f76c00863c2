"""Stage 2, content: find, read and validate every article file, and the one publish filter.

In: ``SiteConfig``. Out: :class:`~digest.schema.Article` values (bodies still Markdown) and every problem,
located as ``path:line``. Fields are declared in :mod:`digest.schema`; ``python -m digest.content`` lists them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .config import SiteConfig
from .errors import Problem, error, plural, warning
from .markdown import Unpublished
from .memo import NO_MEMO, Memo, content_hashes, hash_of, hash_value
from .schema import FIELDS, MARKDOWN_SUFFIXES, MAX_ARTICLE_BYTES, Article, FrontMatter
from .workers import in_chunks
from .yamlmap import Entry, load_mapping

STORY_NOTES = "stories"  # content/stories/<id>.md: an editor's note on a story, not an article (digest.stories)


def load_articles(
    config: SiteConfig, now: datetime, include_drafts: bool = False, include_future: bool = False, memo: Memo = NO_MEMO, jobs: int = 1
) -> tuple[list[Article], list[Problem]]:
    """The articles under ``content/`` to publish (:func:`publish_filter`), newest first, and all problems."""
    parsed = parse_articles(config, memo, jobs)
    return publish_filter(parsed.articles, now, include_drafts, include_future, parsed.problems)


def publish_filter(
    articles: list[Article], now: datetime, include_drafts: bool, include_future: bool, problems: list[Problem]
) -> tuple[list[Article], list[Problem]]:
    """The one publish filter: drop drafts and future articles, mark expired ones, drop URL collisions."""
    published = [
        replace(article, expired=True) if article.expires is not None and article.expires <= now else article
        for article in articles
        if (include_drafts or not article.draft) and (include_future or article.date <= now)
    ]
    # One article per URL: the earliest, most likely the one already published (then the first by path); a later one is
    # an error naming both files, so later stages need not report it.
    kept: dict[str, Article] = {}
    clashes: list[Problem] = []
    for article in sorted(published, key=lambda a: (a.date.timestamp(), a.path)):
        if (other := kept.setdefault(article.url, article)) is not article:
            clashes.append(error(article.path, 1, f'URL {article.url} is already used by {other.path}; set a different "slug:"'))
    newest_first = sorted(kept.values(), key=lambda a: (-a.date.timestamp(), a.url))  # a total order, so listings are deterministic
    return newest_first, problems + clashes


class Parsed(NamedTuple):
    """What :func:`parse_articles` found."""

    articles: list[Article]  # every valid article, drafts and future ones too, in path order
    problems: list[Problem]
    texts: dict[str, str]  # the Markdown body of each article parsed by this call (others: read_body)
    unpublished: list[tuple[Unpublished, str]]  # files whose front matter has errors, with their bodies, to check their links


def parse_articles(config: SiteConfig, memo: Memo = NO_MEMO, jobs: int = 1) -> Parsed:
    """Every article file parsed and validated; a file stamped as before is not read again, one hashed as before not parsed again."""
    paths, problems = find_article_paths(config.root)
    authors = ",".join(a.key for a in config.authors)  # an unknown author key is a warning
    settings = hash_of("article", config.timezone, config.language, config.permalink, str(config.max_tags), authors)  # all parsing reads but the bytes

    def read(path: str) -> bytes | None:
        raw = read_file(Path(path), config.root)
        if isinstance(raw, Problem):
            problems.append(raw)
            return None
        return raw

    file_hashes, raws = content_hashes(memo, "article-files", paths, read)
    under = len(str(config.root / "content"))  # each path as the site shows it: every walked path starts with the content folder
    shown = {path: "content" + path[under:].replace(os.sep, "/") for path in file_hashes}
    keys = {path: hash_of(settings, shown[path], made) for path, made in file_hashes.items()}  # where the site folder is does not count
    found = memo.get_many("article", keys.values())
    # read now what was stamped as before yet parsed under other settings; leave out what cannot be read
    raws |= {path: raw for path, key in keys.items() if key not in found and path not in raws and (raw := read(path)) is not None}
    keys = {path: key for path, key in keys.items() if key in found or path in raws}
    todo = [path for path, key in keys.items() if key not in found]
    texts: dict[str, str] = {}
    for part in in_chunks(_parse_chunk, (config, keys, shown, raws), todo, jobs, PARALLEL_MIN):  # forked workers share raws without a copy
        for key, result, text in part:
            memo.put("article", key, result)
            found[key] = result
            if result[0] is not None:
                texts[result[0].path] = text
    articles: list[Article] = []
    unpublished: list[tuple[Unpublished, str]] = []
    for path, key in keys.items():
        article, more = found[key]
        problems.extend(more)
        if article is not None:
            articles.append(article)
        else:  # not published (its errors are in more): its links and image are still checked, if it has a body
            data = raws[path] if path in raws else read_file(Path(path), config.root)
            body = body_of(data, shown[path])
            if body is not None and isinstance(data, bytes):
                unpublished.append((Unpublished(shown[path], body[1], image=_image_of(config, shown[path], data)), body[0]))
    return Parsed(articles, problems, texts, unpublished)


def _image_of(config: SiteConfig, shown: str, raw: bytes) -> str:
    """The ``image`` of an article whose front matter has errors elsewhere, as a site path ("" when it is none or not valid)."""
    entries, front_line = read_front_matter(shown, raw)[:2]
    read = next(f.read for f in FIELDS if f.name == "image")
    return str(FrontMatter(config, shown, entries, front_line).get("image", read, "")) if entries and read else ""


def split_file(raw: bytes, shown: str) -> tuple[str, int, str, int] | Problem:
    """A Markdown file's bytes decoded (with "\n" line breaks) and split by :func:`split_front_matter`."""
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return error(shown, line, f"expected UTF-8 text, found the byte 0x{raw[exc.start]:02x} that is not valid UTF-8")
    return split_front_matter(text, shown)


def body_of(raw: bytes | Problem, shown: str) -> tuple[str, int] | None:
    """The Markdown body in an article file's bytes and the file line it starts on, or None when it has none to give."""
    parts = raw if isinstance(raw, Problem) else split_file(raw, shown)
    return None if isinstance(parts, Problem) else (parts[2], parts[3])


PARALLEL_MIN = 200  # below this many files to parse, starting workers costs more than it saves


def _parse_chunk(
    config: SiteConfig, keys: dict[str, bytes], shown: dict[str, str], raws: dict[str, bytes], paths: list[str]
) -> list[tuple[bytes, tuple[Article | None, tuple[Problem, ...]], str]]:
    results = []
    for path in paths:
        article, problems, body = parse_article(config, shown[path], raws[path])
        if article is not None:
            article = replace(article, hash=keys[path], meta_hash=hash_value(replace(article, body_line=0, hash=b"", meta_hash=b"")))
        results.append((keys[path], (article, tuple(problems)), body))
    return results


def find_article_paths(root: Path) -> tuple[list[str], list[Problem]]:
    """Every article file under ``root/content`` (``root/content/...``), sorted; hidden names, ``_`` names, ``content/stories/`` (story notes) and ``content/pages/`` (standalone pages) skipped."""
    content = root / "content"
    if not content.exists():
        return [], [error("content", 0, "expected a content/ folder with article files, found none")]
    if not content.is_dir():
        return [], [error("content", 0, "expected content/ to be a folder, found a file")]
    found: list[str] = []
    problems: list[Problem] = []

    def report(exc: OSError) -> None:
        shown = _relative(Path(exc.filename), root) if exc.filename else "content"
        problems.append(error(shown, 0, f"cannot read folder ({exc.strerror})"))

    for folder, dirs, names in os.walk(content, onerror=report):
        for name in sorted(d for d in dirs if d.startswith("_")):  # Jekyll's _posts/, _drafts/: say why their articles are missing
            count = sum(n.endswith(MARKDOWN_SUFFIXES) for _, _, inside in os.walk(os.path.join(folder, name)) for n in inside)
            if count:
                shown = _relative(Path(folder) / name, root)
                problems.append(warning(shown, 0, f"skipped with its {plural(count, 'article file')}: a name starting with _ is never published; rename it"))
        for name in sorted(n for n in names if n.startswith("_") and n.endswith(MARKDOWN_SUFFIXES) and n != "_index.md"):  # Hugo's _index.md: no article
            problems.append(warning(_relative(Path(folder) / name, root), 0, "skipped: a name starting with _ is never published; rename it"))
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and not (folder == str(content) and d in (STORY_NOTES, "pages")))
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):
                problems.append(warning(_relative(Path(folder) / name, root), 0, "is a symbolic link to a folder; links to folders are not followed"))
        found += [os.path.join(folder, name) for name in sorted(names) if name.endswith(MARKDOWN_SUFFIXES) and not name.startswith((".", "_"))]
    return found, problems


def check_input_file(path: Path, root: Path) -> str | None:
    """Why *path* cannot be read as a site input, or None.

    Only regular files: a FIFO would block the build. A symbolic link under ``content/`` (untrusted) may lead only to
    a file under ``content/`` with no hidden name on the way (not ``.git/config``); any other, only into the site folder.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read the file ({exc.strerror})"
    if not stat.S_ISREG(mode):
        return "expected a regular file, found a special file (a pipe, socket or device)"
    if path.is_symlink():
        target = path.resolve()
        content = (root / "content").resolve()
        if path.absolute().is_relative_to(root.absolute() / "content"):
            if not target.is_relative_to(content) or any(part.startswith(".") for part in target.relative_to(content).parts):
                return "expected a file inside content/ with no hidden name on its path, found a symbolic link to a file elsewhere (link only to files under content/)"
        elif not target.is_relative_to(root.resolve()):
            return "expected a file inside the site folder, found a symbolic link to a file outside it"
    if not os.access(path, os.R_OK):
        return "cannot read the file (permission denied)"
    return None


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()  # every path read is under the site folder


def split_front_matter(text: str, shown: str) -> tuple[str, int, str, int] | Problem:
    """Split a file into (front matter, its first line, body, body's first line)."""
    lines = text.split("\n")
    if not text.strip():
        return error(shown, 1, "expected front matter starting with '---' on line 1, found an empty file")
    if lines[0].rstrip() != "---":
        return error(shown, 1, f"expected front matter starting with '---' on line 1, found \"{lines[0].strip()[:40]}\"")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), 2, "\n".join(lines[index + 1 :]), index + 2
    return error(shown, 1, "front matter opened with '---' on line 1 is never closed by a '---' line")


def read_file(path: Path, root: Path) -> bytes | Problem:
    """The bytes of an article file, or the problem that keeps it from being read."""
    shown = _relative(path, root)
    if unusable := check_input_file(path, root):
        return error(shown, 0, unusable)
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            return error(shown, 0, f"expected an article of at most {MAX_ARTICLE_BYTES:,} bytes, found {size:,} (split it, or link to a file)")
        return path.read_bytes()
    except OSError as exc:
        return error(shown, 0, f"cannot read the file ({exc.strerror})")


def read_article(config: SiteConfig, path: Path) -> tuple[Article | None, list[Problem], str]:
    """Read and validate one article file: the article, its problems, its Markdown body."""
    raw = read_file(path, config.root)
    if isinstance(raw, Problem):
        return None, [raw], ""
    return parse_article(config, _relative(path, config.root), raw)


def parse_article(config: SiteConfig, shown: str, raw: bytes) -> tuple[Article | None, list[Problem], str]:
    """Validate the bytes of the article file *shown* (its path in the site folder): the article, its problems, its Markdown body."""
    entries, front_line, body, body_line, problems = read_front_matter(shown, raw)
    if entries is None:
        return None, problems, body
    checker = FrontMatter(config, shown, entries, front_line)
    article = checker.build(body_line)
    return article, problems + checker.problems, body


def read_front_matter(shown: str, raw: bytes) -> tuple[dict[str, Entry] | None, int, str, int, list[Problem]]:
    """The bytes of a Markdown file with front matter (an article, a story note, a standalone page) decoded and split:
    its front matter read (None when it cannot be), that block's first line, the body, the body's first line, the problems."""
    parts = split_file(raw, shown)
    if isinstance(parts, Problem):
        return None, 1, "", 1, [parts]
    front, front_line, body, body_line = parts
    entries, problems = load_mapping(front, shown, front_line)
    return entries, front_line, body, body_line, problems


def read_body(config: SiteConfig, article: Article) -> str:
    """The Markdown body of *article*, read from its file again ("" when the file cannot be read now)."""
    found = body_of(read_file(config.root / article.path, config.root), article.path)
    return found[0] if found is not None else ""


def check_images(config: SiteConfig, articles: Sequence[Article | Unpublished]) -> list[Problem]:
    """A local ``image`` must exist (``content/...`` or ``static/...``); checked on every build, as files come and go."""
    from .render import find_static

    problems: list[Problem] = []
    for article in articles:
        image = article.image
        if not image or "://" in image:
            continue
        file = config.root / "content" / image.lstrip("/")
        if not file.is_file() and image.startswith("/static/"):
            file = find_static(config, image.removeprefix("/static/")) or file
        if not file.is_file():
            problems.append(
                error(article.path, _key_line(config, article, "image"), f"image: expected an image file at content{image} or a static file, found none")
            )
        elif (kind := image_format(file)) not in SHARED_FORMATS:
            found = "an image of more pixels than Pillow opens" if kind == "too large" else f"a {kind} image" if kind else "a file that is no image"
            message = f"image: expected a PNG, JPEG, GIF or WebP file, which link previews show, found {found}"
            problems.append(warning(article.path, _key_line(config, article, "image"), message))
    return problems


SHARED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


def image_format(path: Path) -> str | None:
    """The image format of *path* as Pillow reads its header ("PNG"), or None when it is no image Pillow knows."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format
    except Image.DecompressionBombError:  # more pixels than Pillow will open: no preview shows it either
        return "too large"
    except (UnidentifiedImageError, OSError):
        return None


def check_update_dates(config: SiteConfig, articles: list[Article], now: datetime) -> list[Problem]:
    """A warning for each ``updated`` or correction date after *now* in an article dated before it: most likely a mistyped year,
    and the page and the sitemaps would say the story changed on a day that has not come."""
    problems = []
    for article in articles:
        if article.date > now:  # published with --future: a later update is no surprise
            continue
        late = [("updated", article.updated)] if article.updated is not None and article.updated > now else []
        late += [("corrections", c.date) for c in article.corrections if c.date > now]
        for key, moment in late:
            where = _key_line(config, article, key)
            problems.append(
                warning(article.path, where, f"{key}: expected a date no later than today ({now.astimezone(config.tz).date()}), found {moment.date()}")
            )
    return problems


def _key_line(config: SiteConfig, article: Article | Unpublished, key: str) -> int:
    """The line of front-matter *key* in *article*'s file (1 when it is not written): a parsed article keeps its keys' lines; the
    front matter of a file with errors is read again to find it."""
    if isinstance(article, Article):
        return dict(article.key_lines).get(key, 1)
    try:
        entries = read_front_matter(article.path, (config.root / article.path).read_bytes())[0] or {}
    except OSError:
        return 1
    return entries[key].line if key in entries else 1


def fields_table() -> str:
    """The README's table of front-matter fields, from :data:`FIELDS`."""
    rows = ["| field | required | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{f.name}` | {'yes' if f.required else 'no'} | {f.doc} |" for f in FIELDS]
    return "\n".join(rows)


if __name__ == "__main__":
    print(fields_table())
