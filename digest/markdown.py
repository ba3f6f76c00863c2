"""Stage 3, markdown: render article bodies to HTML.

In: ``Article`` values, their Markdown and the map of article files to URLs.
Out: a :class:`RenderedBody` per article (HTML, plain-text summary, reading
time) plus problems such as links to missing articles or files.

CommonMark plus tables, strikethrough, footnotes and heading anchors, Pygments
for fenced code; raw HTML escaped, or with ``allow_html: true`` sanitized by nh3.
Two engines, ``python`` (markdown-it-py) and ``rust`` (markdown-it-pyrs, three to
five times faster), give the same features, not the same bytes: heading slugs
may differ for unusual titles, footnotes are numbered by first reference
(python) or by definition (rust), a broken link is located at its paragraph's
first line (python) or at its own line (rust).
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import nh3

from .bodytext import beyond_limits, commonmark, template_tags, without_comments
from .config import SiteConfig
from .errors import Problem, error, warning
from .schema import CONTROL, Article
from .workers import in_chunks

if TYPE_CHECKING:  # markdown-it-py is imported when the python engine first renders: the rust engine seldom needs it
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

try:
    import markdown_it_pyrs
except ImportError:  # the rust engine is optional; "auto" falls back to python
    markdown_it_pyrs = None  # type: ignore[assignment]

WORDS_PER_MINUTE = 230
# The "URL" of an article file whose front matter has errors (reported there): a link to it is no error of the linking file.
WITHHELD = "#withheld"
HELD_BACK = "#held-back"  # ... and of a draft or an article dated in the future: a link to it would lead nowhere
_NOT_RELATIVE = ("#", "/", "https://", "http://")  # links BodyRenderer.resolve leaves as they are, but for a site path's base path
_TAG = re.compile(r"<[^>]+>")

# What the sanitizer keeps of raw HTML: prose markup and the attributes our own renderer emits.
_ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) - {"cite"} for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},  # a cite URL escapes url_schemes, and no reader sees it
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "video": {"src", "controls", "poster", "width", "height", "loop", "muted", "playsinline", "preload"},  # no autoplay
    "audio": {"src", "controls", "loop", "muted", "preload"},
    "source": {"src", "type"},
    **{tag: {"style"} for tag in ("p", "div", "figure", "figcaption", "h2", "h3", "h4")},  # reduced to text-align below
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style", "scope"},
}
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"section", "figure", "figcaption", "details", "summary", "mark", "del", "s", "sup", "sub", "video", "audio", "source"}


PYTHON_NESTING = 100  # markdown-it-py's maxNesting: about 50 lists in lists, or 100 quotes
TOO_DEEP = f"expected lists nested at most {PYTHON_NESTING // 2 - 2} levels deep, or quotes {PYTHON_NESTING - 2} (the python engine's limit), found more; write it flatter"
_ID = re.compile(r'\bid="([^"]+)"')
_OPENING_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]{0,40})")


def removed_tags(text: str) -> list[tuple[int, str]]:
    """(0-based line, tag) of each element of *text*'s raw HTML that the sanitizer leaves out (``<iframe>``, ``<script>``), once
    per tag and line; code is left out."""
    found: dict[tuple[int, str], None] = {}
    for token in commonmark().parse(text):
        parts = [token] if token.type == "html_block" else [c for c in token.children or () if c.type == "html_inline"]
        for part in parts:
            for tag in _OPENING_TAG.findall(part.content):
                if tag.lower() not in _ALLOWED_TAGS and token.map:
                    found[(token.map[0] + part.content[: part.content.find("<" + tag)].count("\n"), tag.lower())] = None
    return list(found)


@dataclass(frozen=True)
class Unpublished:
    """An article file whose front matter has errors: its body is still checked, so its broken links show in the same run."""

    path: str
    body_line: int
    summary: str = ""
    image: str = ""  # its image as a site path, when valid: checked to exist in the same run too


BodySource = Article | Unpublished  # rendering reads of it only path, body_line and summary


@dataclass(frozen=True)
class RenderedBody:
    html: str
    summary: str  # plain text: front matter's summary, else the first paragraph
    minutes: int
    links: tuple[str, ...] = ()  # site-relative targets its relative links looked up, found or not
    site_links: tuple[tuple[str, int], ...] = ()  # (URL, file line) of each link to a site path (/about/), checked once the pages are planned


def pick_engine(setting: str) -> str:
    """The engine that renders: "python" or "rust" (``auto`` takes rust when it imports)."""
    return ("python" if markdown_it_pyrs is None else "rust") if setting == "auto" else setting


class BodyRenderer:
    """Renders article bodies for one site: rewrites article and file links."""

    def __init__(self, config: SiteConfig, article_urls: dict[str, str]) -> None:
        self.config = config
        self.article_urls = article_urls  # "content/x/y.md" -> "/x/y/"
        self.engine = pick_engine(config.markdown_engine)

    @cached_property
    def rust(self) -> markdown_it_pyrs.MarkdownIt:
        """The rust engine: markdown-it-pyrs with its own table, strikethrough, footnote and heading_anchors plugins."""
        assert markdown_it_pyrs is not None, "the rust engine needs markdown-it-pyrs"
        return markdown_it_pyrs.MarkdownIt("zero").enable_many(RUST_RULES + (["html_block", "html_inline"] if self.config.allow_html else []))

    @cached_property
    def md(self) -> MarkdownIt:
        """The python engine: made on first use, as the rust engine hands it only a few bodies."""
        from markdown_it import MarkdownIt
        from mdit_py_plugins.anchors import anchors_plugin
        from mdit_py_plugins.footnote import footnote_plugin

        from .highlight import highlight_code

        options = {"html": self.config.allow_html, "xhtmlOut": False, "highlight": highlight_code, "maxNesting": PYTHON_NESTING}
        md = MarkdownIt("commonmark", options)
        md.enable(["table", "strikethrough"])
        md.use(footnote_plugin)
        md.use(anchors_plugin, min_level=2, max_level=4, permalink=True, permalinkSymbol="#", slug_func=heading_id)
        md.core.ruler.push("digest_links", self._rewrite_links)
        return md

    def render(self, article: BodySource, text: str) -> tuple[RenderedBody, list[Problem]]:
        """*text*, the Markdown body of *article*, as HTML, with the problems its links have."""
        beyond = beyond_limits(text)
        if beyond is None and "<!--" in text and not self.config.allow_html:  # with it on, the sanitizer drops comments
            text = without_comments(text)
            beyond = beyond_limits(text)  # again: a line of quotes may start once the comment before them is gone
        if beyond is None and (control := CONTROL.search(text)):  # it would reach feeds, which XML forbids it in
            beyond = text.count("\n", 0, control.start()), f"expected text without control characters, found \\x{ord(control[0]):02x}"
        if beyond is not None:  # rendering it would crash the engine or take minutes
            return RenderedBody(html="", summary=article.summary, minutes=1), [error(article.path, article.body_line + beyond[0], beyond[1])]
        looked_up: set[str] = set()
        site_links: list[tuple[str, int]] = []
        problems: list[Problem] = []
        if "{{" in text or "{%" in text:
            for line, tag in template_tags(text):
                shown = tag if len(tag) <= 40 else tag[:37] + "..."
                problems.append(
                    warning(article.path, article.body_line + line, f"expected Markdown, found {shown}: a Hugo shortcode or Liquid tag, shown as written")
                )
        body_html = self.render_rust(article, text, problems, looked_up, site_links) if self.engine == "rust" else None
        if body_html is None:
            site_links.clear()  # the rust engine gave up: the python engine finds them all again
            env = {"article": article, "problems": problems, "links": looked_up, "site_links": site_links}
            tokens = self.md.parse(text, env)
            deepest = max(tokens, key=lambda token: token.level, default=None)
            if deepest is not None and deepest.level >= PYTHON_NESTING - 1:  # where markdown-it-py stops, and drops the rest unsaid
                line = article.body_line + (deepest.map[0] if deepest.map else 0)
                return RenderedBody(html="", summary=article.summary, minutes=1), [error(article.path, line, TOO_DEEP)]
            body_html = self.md.renderer.render(tokens, self.md.options, env)
        if self.config.allow_html:  # raw HTML's links resolved as Markdown's are (those already resolved are left as they are)

            def raw_link(href: str) -> str | None:
                if ":" in href.split("/")[0]:  # a scheme (or a disguised javascript:): nh3's url_schemes judge it
                    return None
                line, found = article.body_line + text[: max(text.find(href), 0)].count("\n"), list[Problem]()
                new = self.resolve(href, article, line, found, looked_up, [])
                problems.extend(p for p in found if p.message not in {q.message for q in problems})  # a broken Markdown link: said already
                return new

            body_html = sanitize_html(body_html, raw_link)
            for line, tag in removed_tags(text) if "<" in text else ():
                problems.append(
                    warning(article.path, article.body_line + line, f"expected HTML a story may hold, found <{tag}>, which is left out of the page")
                )
        if "<h1" in body_html and (top := next((t for t in commonmark().parse(text) if t.tag == "h1" and t.nesting == 1 and t.map), None)):
            said = "expected headings from ## down in a body (the title is the page's one # heading), found a # heading, shown as a second title"
            problems.append(warning(article.path, article.body_line + (top.map[0] if top.map else 0), said))
        minutes = max(1, round(len(text.split()) / WORDS_PER_MINUTE))
        summary = article.summary or first_paragraph(body_html)
        if fragments := sorted({(href, line) for href, line in site_links if href.startswith("#")}):
            ids = set(_ID.findall(body_html)) | PAGE_IDS
            for href, line in fragments:
                if unquote(href[1:]) not in ids:
                    problems.append(warning(article.path, line, f'link to "{href}": expected a heading or note of this article with that id, found none'))
            site_links = [link for link in site_links if not link[0].startswith("#")]
        return RenderedBody(body_html, summary, minutes, tuple(sorted(looked_up)), tuple(sorted(set(site_links)))), problems

    def resolve(self, href: str, article: BodySource, line: int, problems: list[Problem], looked_up: set[str], site_links: list[tuple[str, int]]) -> str | None:
        """The output URL for a relative link in *article*, or None to leave it; each site-relative path looked up is added to
        *looked_up*, each site path (/about/) with its line to *site_links*, and so is each fragment (#results), checked by
        :meth:`render` against the ids of the body."""
        if href.startswith(_NOT_RELATIVE):  # the common case, decided without urlsplit
            base = self.config.base_path
            if href.startswith("/") and not href.startswith("//"):  # a site path (/about/)
                site_links.append((href, line))
                if not href.startswith(base) and base != "/" and href != base.rstrip("/"):
                    return base.rstrip("/") + href  # under the base path, as in site.yaml
            elif href.startswith("#") and href not in ("#", "#top"):  # both lead to the top, as HTML says
                site_links.append((href, line))
            return None
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), unquote(parts.path)))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        base = self.config.base_path.rstrip("/")
        if target.endswith((".md", ".markdown")):
            looked_up.add(target)
            url = self.article_urls.get(target)
            if url is None:
                problems.append(error(article.path, line, f'link to "{href}": expected an article file, found no published article at {target}'))
            elif url == HELD_BACK:
                found = f"{target}, a draft or an article dated in the future, which this build leaves out"
                problems.append(error(article.path, line, f'link to "{href}": expected a published article, found {found}'))
            if url is None or url in (WITHHELD, HELD_BACK):
                return None
            return base + url + fragment
        if target.startswith("content/"):
            looked_up.add(target)
            if (self.config.root / target).is_file() or _saved_otherwise(self.config.root / target):
                url = unicodedata.normalize("NFC", target.removeprefix("content"))  # as digest.assets publishes it
                return quote(base + url) + fragment  # a file named "x%23y.png" is at x%2523y.png
        else:  # site.yaml, templates/, static/...: a body links what content/ publishes, or a site path
            problems.append(
                error(article.path, line, f'link to "{href}": expected a file in content/, found {target}, outside it; link /static/... by its URL')
            )
            return None
        found = "a folder; link a file in it (its index.md)" if (self.config.root / target).is_dir() else "none"
        problems.append(error(article.path, line, f'link to "{href}": expected a file at {target}, found {found}'))
        return None

    def _rewrite_links(self, state: StateCore) -> None:
        """The python engine's core rule: resolve each relative link and image."""
        article: BodySource = state.env["article"]
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            line = article.body_line + (block.map[0] if block.map else 0)
            for token in block.children:
                attr = "href" if token.type == "link_open" else "src"
                value = token.attrGet(attr) if token.type in ("link_open", "image") else None
                new = self.resolve(value, article, line, state.env["problems"], state.env["links"], state.env["site_links"]) if isinstance(value, str) else None
                if new is not None:
                    token.attrSet(attr, new)

    def render_rust(self, article: BodySource, body: str, problems: list[Problem], looked_up: set[str], site_links: list[tuple[str, int]]) -> str | None:
        """The rust engine's finished HTML of *article*'s *body*, or None for the python engine to render it.

        markdown-it-pyrs takes no Python hooks, so their work is done on its HTML: Pygments, relative
        links, permalinks in the site's form. Raw HTML (never rewritten) and panics go to the python engine.
        """
        try:
            # a heading_anchor's icon is an html_inline node of the plugin's own
            if self.config.allow_html and "<" in body and any(n.name in ("html_block", "html_inline") for n in _nodes(self.rust.tree(body), "heading_anchor")):
                return None
            out = self.rust.render(body, xhtml=False)
        except BaseException as exc:  # markdown-it-pyrs 0.4.0 panics on a few inputs, e.g. "^[\xa0]"
            if type(exc).__name__ != "PanicException":
                raise
            return None
        if 'href="' in out or 'src="' in out:
            out = self._rewrite_rust_links(out, article, body, problems, looked_up, site_links)
        if '<pre><code class="' in out:
            out = _RUST_FENCE.sub(_highlight_fence, out)
        if 'class="anchor"' in out:
            out = _RUST_ANCHOR.sub(_permalink, out)
        return out

    def _rewrite_rust_links(
        self, out: str, article: BodySource, body: str, problems: list[Problem], looked_up: set[str], site_links: list[tuple[str, int]]
    ) -> str:
        broken: list[tuple[str, int, Problem]] = []  # (url, its occurrence, problem) to locate
        paths: list[tuple[str, int]] = []  # (site path, its occurrence) to locate
        seen: dict[str, int] = {}

        def rewrite(match: re.Match[str]) -> str:
            url = html.unescape(match[2])
            occurrence = seen[url] = seen.get(url, -1) + 1
            found: list[Problem] = []
            site: list[tuple[str, int]] = []
            new = self.resolve(url, article, 0, found, looked_up, site)
            broken.extend((url, occurrence, problem) for problem in found)
            paths.extend((url, occurrence) for _ in site)
            return match[0] if new is None else f'<{match[1]}="{html.escape(new)}"'

        out = _RUST_LINK.sub(rewrite, out)
        if broken or paths:
            lines = _link_lines(self.rust.tree(body), body.encode("utf-8"))

            def line_of(url: str, occurrence: int) -> int:
                found_lines = lines.get(url, [])
                return article.body_line + (found_lines[occurrence] if occurrence < len(found_lines) else 0)

            problems += [replace(problem, line=line_of(url, occurrence)) for url, occurrence, problem in broken]
            site_links += [(url, line_of(url, occurrence)) for url, occurrence in paths]
        return out


# The rules of markdown-it-pyrs's "commonmark" preset less raw HTML, plus its own extensions.
RUST_RULES: list[Any] = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline",
    "table", "strikethrough", "footnote", "heading_anchors",
]  # fmt: skip
# What markdown-it-pyrs writes for the markup we finish; with raw HTML off an author's "<" is "&lt;".
_RUST_FENCE = re.compile(r'<pre><code class="language-([^"]*)">([^<]*)</code></pre>\n')
_RUST_LINK = re.compile(r'<(a href|img src)="(?!//|https?://)([^"]*)"')  # not those resolve always leaves (a fragment is checked)
_RUST_ANCHOR = re.compile(  # the heading_anchors plugin's permalink: an icon link before the heading's text
    r'<h([1-6])><a aria-hidden="true" class="anchor" id="([^"]*)" href="#[^"]*"><svg\b[^>]*>(?:<path\b[^>]*></path>)*</svg></a>(.*?)</h\1>', re.S
)
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # as markdown-it counts lines


def _nodes(tree: Any, leaf: str) -> Iterator[Any]:
    """The nodes of a markdown-it-pyrs tree in document order, but not those inside a *leaf* node."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if node.name != leaf:
            stack.extend(reversed(node.children))


def _link_lines(tree: Any, body: bytes) -> dict[str, list[int]]:
    """The line (0-based) of each link and image in the body, by URL, in the order of the HTML."""
    starts = [found.end() for found in _LINE_BREAK.finditer(body)]  # where lines 1, 2, ... begin
    lines: dict[str, list[int]] = {}
    for node in _nodes(tree, "image"):  # an image's alt text is plain text in the HTML, links in it included
        if node.name in ("link", "image"):
            lines.setdefault(node.meta.get("url", ""), []).append(bisect_right(starts, node.srcmap[0]) if node.srcmap else 0)
    return lines


def _highlight_fence(match: re.Match[str]) -> str:
    from .highlight import highlight_code  # Pygments, imported with the first fenced block: a build without code skips it

    return highlight_code(html.unescape(match[2]), html.unescape(match[1]), "") or match[0]


def _saved_otherwise(path: Path) -> bool:
    """Whether a file is at *path* with its letters encoded otherwise ("é" as e and an accent, as macOS saves it)."""
    wanted = unicodedata.normalize("NFC", path.name)
    try:
        return any(unicodedata.normalize("NFC", name) == wanted and (path.parent / name).is_file() for name in os.listdir(path.parent))
    except OSError:
        return False


def heading_id(text: str) -> str:
    """The python engine's heading id: mdit-py-plugins' (GitHub's) slug, but keeping the combining marks Hindi or Thai words
    need, and "section" for a heading with no letter or digit (``## ???``), whose empty id was invalid HTML."""
    slug = "".join(c for c in text.lower().replace(" ", "-") if c.isalnum() or c in "-_" or unicodedata.category(c).startswith("M"))
    return own_id(slug or "section")


def own_id(slug: str) -> str:
    """A heading's id, but never one the page's own parts have (``tags-heading``, ``main``): their labels would name the wrong heading."""
    return f"{slug}-1" if slug in PAGE_IDS else slug


# The ids the bundled templates give a page's own parts (their aria-labelledby and links lead there).
PAGE_IDS = frozenset({
    "main", "corrections-heading", "why-heading", "reporting-heading", "tags-heading", "story-heading", "related-heading", "more-heading",
    "site-search-q", "search-q", "latest-heading", "developing-heading", "stories-heading", "outlets-heading", "overview-heading",
    "shared-tags-heading", "timeline-heading",
})  # fmt: skip


def _permalink(match: re.Match[str]) -> str:
    level, slug, inner = match.groups()
    slug = own_id(slug)
    if level not in ("2", "3", "4") or not slug:
        return f"<h{level}>{inner}</h{level}>"
    return f'<h{level} id="{slug}">{inner} <a class="header-anchor" href="#{slug}">#</a></h{level}>'


def sanitize_html(fragment: str, links: Callable[[str], str | None] = lambda href: None) -> str:
    """Keep safe markup only: no scripts, event handlers or javascript: URLs, and only the classes the renderer itself gives.
    Each link and image URL goes through *links* too, which gives the URL to write instead, or None to keep it."""

    def keep(element: str, attribute: str, value: str) -> str | None:
        if (attribute == "href" and element == "a") or (attribute in ("src", "poster") and element in ("img", "video", "audio", "source")):
            return links(value) or value
        return _keep_own_names(element, attribute, value)

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},  # all our own tables need; no url() or expression() tricks
    )


# The renderer's classes and ids: an author's HTML may use no others, so it cannot dress itself as the page's
# notes or badges, nor take an id the page's own links lead to.
_OWN_IDS = re.compile(r"fn\d+|fnref\d+(?::\d+)?")
_OWN_CLASSES = frozenset({"header-anchor", "footnote-ref", "footnotes-sep", "footnotes", "footnotes-list", "footnote-item", "footnote-backref", "highlight"})


def _keep_own_names(element: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if (element in ("h2", "h3", "h4") and value not in PAGE_IDS) or _OWN_IDS.fullmatch(value) else None
    if attribute != "class":
        return value
    from pygments.token import STANDARD_TYPES

    kept = [name for name in value.split() if name in _OWN_CLASSES or name in STANDARD_TYPES.values() or name.startswith("language-")]
    return " ".join(kept) or None


def first_paragraph(body_html: str, limit: int = 300) -> str:
    """Plain text of the first paragraph that has any (not one holding only an image), cut at a word boundary."""
    end = 0
    while (start := body_html.find("<p>", end)) >= 0:
        end = body_html.find("</p>", start)
        end = len(body_html) if end < 0 else end
        text = " ".join(html.unescape(_TAG.sub("", body_html[start + 3 : end])).split())
        if text:
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
    return ""


def render_bodies(
    config: SiteConfig, articles: list[Article], texts: Mapping[str, str], jobs: int, urls: dict[str, str]
) -> tuple[dict[str, RenderedBody], list[Problem]]:
    """Render the body of every article (*texts*: its Markdown, by article path); keyed by the article's file path.

    *urls*: the URL of each article and standalone page by its file, where a body's links to files lead."""
    done = [result for part in in_chunks(_render_chunk, (config, urls, texts), articles, jobs, PARALLEL_MIN) for result in part]
    return {path: body for path, body, _ in done}, [problem for _, _, problems in done for problem in problems]


PARALLEL_MIN = 200  # below this, starting workers costs more than it saves


def _render_chunk(config: SiteConfig, urls: dict[str, str], texts: Mapping[str, str], articles: list[Article]) -> list[tuple[str, RenderedBody, list[Problem]]]:
    renderer = BodyRenderer(config, urls)
    return [(article.path, *renderer.render(article, texts[article.path])) for article in articles]


if __name__ == "__main__":
    from .highlight import pygments_css

    print(pygments_css(), end="")
