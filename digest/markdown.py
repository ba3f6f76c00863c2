"""Stage 3, markdown: render article bodies to HTML.

In: ``Article`` values and the map of article files to URLs. Out: a
:class:`RenderedBody` per article (HTML, plain-text summary, reading time) plus
problems such as links to missing articles or files.

CommonMark plus tables, strikethrough, footnotes and heading anchors, with
Pygments for fenced code. Raw HTML is escaped unless the site sets
``allow_html: true``; then it is passed through the nh3 sanitizer, which
removes scripts, event handlers and ``javascript:`` URLs. markdown-it never
turns a ``javascript:`` target into a link in the first place.
"""

from __future__ import annotations

import html
import multiprocessing
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .config import SiteConfig
from .content import Article
from .errors import Problem, error

WORDS_PER_MINUTE = 230
_FORMATTER = HtmlFormatter(nowrap=True)
_TAG = re.compile(r"<[^>]+>")

# What the sanitizer keeps when raw HTML is allowed: ordinary prose markup and
# the attributes our own renderer emits (anchors, footnotes, highlighting).
_ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style", "scope"},
}
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"section", "figure", "figcaption", "details", "summary", "mark", "del", "s", "sup", "sub"}


@dataclass(frozen=True)
class RenderedBody:
    html: str
    summary: str  # plain text: front matter's summary, else the first paragraph
    minutes: int


@lru_cache(maxsize=256)
def _lexer(lang: str) -> Lexer | None:
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments markup for a fenced block, or '' to let markdown-it escape it."""
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None:
        return ""
    spans = pygments_highlight(code, lexer, _FORMATTER)
    return f'<pre class="highlight"><code class="language-{html.escape(lang)}">{spans}</code></pre>\n'


def make_markdown(allow_html: bool) -> MarkdownIt:
    """The site's Markdown parser; one per build (it holds no per-article state)."""
    md = MarkdownIt("commonmark", {"html": allow_html, "xhtmlOut": False, "highlight": highlight_code})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, permalink=True, permalinkSymbol="#")
    md.core.ruler.push("digest_links", _rewrite_links)
    return md


class BodyRenderer:
    """Renders article bodies for one site: rewrites article and file links."""

    def __init__(self, config: SiteConfig, article_urls: dict[str, str]) -> None:
        self.config = config
        self.article_urls = article_urls  # "content/x/y.md" -> "/x/y/"
        self.md = make_markdown(config.allow_html)

    def render(self, article: Article) -> tuple[RenderedBody, list[Problem]]:
        env: dict[str, Any] = {"renderer": self, "article": article, "problems": []}
        body_html = self.md.render(article.body, env)
        if self.config.allow_html:
            body_html = sanitize_html(body_html)
        summary = article.summary or first_paragraph(body_html)
        minutes = max(1, round(len(article.body.split()) / WORDS_PER_MINUTE))
        return RenderedBody(html=body_html, summary=summary, minutes=minutes), env["problems"]

    def resolve(self, href: str, article: Article, line: int, problems: list[Problem]) -> str | None:
        """The output URL for a relative link in *article*, or None to leave it."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path or href.startswith(("/", "#")):
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), unquote(parts.path)))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if target.endswith((".md", ".markdown")):
            url = self.article_urls.get(target)
            if url is None:
                problems.append(error(article.path, line, f'link to "{href}": expected an article file, found no published article at {target}'))
                return None
            return self.site_path(url) + fragment
        if not target.startswith("content/") or not (self.config.root / target).is_file():
            problems.append(error(article.path, line, f'link to "{href}": expected a file at {target}, found none'))
            return None
        return self.site_path(target.removeprefix("content")) + fragment

    def site_path(self, url: str) -> str:
        return self.config.base_path.rstrip("/") + url


def _rewrite_links(state: StateCore) -> None:
    renderer: BodyRenderer | None = state.env.get("renderer")
    if renderer is None:
        return
    article: Article = state.env["article"]
    problems: list[Problem] = state.env["problems"]
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        line = article.body_line + (block.map[0] if block.map else 0)
        for token in block.children:
            attr = "href" if token.type == "link_open" else "src" if token.type == "image" else None
            if attr is None:
                continue
            value = token.attrGet(attr)
            if isinstance(value, str):
                new = renderer.resolve(value, article, line, problems)
                if new is not None:
                    token.attrSet(attr, new)


def sanitize_html(fragment: str) -> str:
    """Keep safe markup only: no scripts, event handlers or javascript: URLs."""
    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},  # all our own tables need; no url() or expression() tricks
    )


def first_paragraph(body_html: str, limit: int = 300) -> str:
    """Plain text of the first paragraph, cut at a word boundary."""
    start = body_html.find("<p>")
    if start < 0:
        return ""
    end = body_html.find("</p>", start)
    text = html.unescape(_TAG.sub("", body_html[start + 3 : end if end > 0 else None]))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return text


def render_bodies(
    config: SiteConfig, articles: list[Article], jobs: int = 1, urls: dict[str, str] | None = None
) -> tuple[dict[str, RenderedBody], list[Problem]]:
    """Render every article's body; keyed by the article's file path.

    With ``jobs > 1`` on a large site the articles are split into contiguous
    chunks rendered by forked worker processes; results are merged in article
    order, so the output is the same as with one process. *urls* maps every
    published article's file to its URL, for links between articles (default:
    the articles given).
    """
    if urls is None:
        urls = {a.path: a.url for a in articles}
    if jobs > 1 and len(articles) >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods():
        size = -(-len(articles) // jobs)
        chunks = [articles[i : i + size] for i in range(0, len(articles), size)]
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.starmap(_render_chunk, [(config, urls, chunk) for chunk in chunks])
    else:
        parts = [_render_chunk(config, urls, articles)]
    bodies: dict[str, RenderedBody] = {}
    problems: list[Problem] = []
    for chunk_bodies, chunk_problems in parts:
        bodies.update(chunk_bodies)
        problems.extend(chunk_problems)
    return bodies, problems


PARALLEL_MIN = 200  # below this, starting workers costs more than it saves


def _render_chunk(config: SiteConfig, urls: dict[str, str], articles: list[Article]) -> tuple[dict[str, RenderedBody], list[Problem]]:
    renderer = BodyRenderer(config, urls)
    bodies: dict[str, RenderedBody] = {}
    problems: list[Problem] = []
    for article in articles:
        body, more = renderer.render(article)
        bodies[article.path] = body
        problems.extend(more)
    return bodies, problems


def pygments_css() -> str:
    """The stylesheet for highlighted code, light and dark (static/css/pygments.css)."""
    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    indented = "\n".join("  " + line for line in dark.splitlines())
    return f"/* Generated by: python -m digest.markdown > static/css/pygments.css */\n{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"


if __name__ == "__main__":
    print(pygments_css(), end="")
