"""Stage 3, markdown: render article bodies to HTML.

In: ``Article`` values and the map of article files to URLs. Out: a
:class:`RenderedBody` per article (HTML, plain-text summary, reading time) plus
problems such as links to missing articles or files.

CommonMark plus tables, strikethrough, footnotes and heading anchors, with
Pygments for fenced code. Raw HTML is escaped unless the site sets
``allow_html: true``; then it is passed through the nh3 sanitizer, which
removes scripts, event handlers and ``javascript:`` URLs. markdown-it never
turns a ``javascript:`` target into a link in the first place.

Two engines give the same HTML (``markdown: {engine: ...}`` in site.yaml):
``python`` is markdown-it-py with its plugins, hooked in at the token level;
``rust`` is markdown-it-pyrs, about twenty times faster. It has no hooks, so
its HTML is finished by :class:`RustFinisher` (highlighting, heading anchors,
link rewriting), which only ever sees markup the renderer itself wrote: with
raw HTML off, every ``<`` of the author's text arrives escaped. Known parser
differences (tests/test_markdown.py): a Unicode space at the very start or end
of a paragraph, heading or cell is kept by rust, dropped by python; "_" or "*"
emphasis beside a Unicode symbol (e.g. "¢_x_") follows CommonMark 0.30 in rust
and 0.31 in python; a broken link inside an inline footnote is located at its
own line by rust, at the body's first line by python.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import nh3

from .config import SiteConfig
from .content import Article
from .errors import Problem, error
from .workers import in_chunks

if TYPE_CHECKING:  # markdown-it-py is imported when the python engine first renders: the rust engine seldom needs it
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

try:
    import markdown_it_pyrs
except ImportError:  # the rust engine is optional; "auto" falls back to python
    markdown_it_pyrs = None  # type: ignore[assignment]

WORDS_PER_MINUTE = 230
_NOT_RELATIVE = ("#", "/", "https://", "http://")  # links BodyRenderer.resolve leaves as they are
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
    links: tuple[str, ...] = ()  # site-relative targets its relative links looked up, found or not


def make_markdown(allow_html: bool) -> MarkdownIt:
    """The site's Markdown parser; one per build (it holds no per-article state)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": allow_html, "xhtmlOut": False, "highlight": highlight_code})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, permalink=True, permalinkSymbol="#")
    md.core.ruler.push("digest_links", _rewrite_links)
    return md


def pick_engine(setting: str) -> str:
    """The engine that renders: "python" or "rust" (``auto`` takes rust when it imports)."""
    if setting == "auto":
        return "python" if markdown_it_pyrs is None else "rust"
    return setting


BODY_FIELDS = ("path", "body", "body_line", "summary")
"""All that :meth:`BodyRenderer.render` reads of an article: the build cache renders a body again only when one of them changes."""


def body_inputs(article: Article) -> str:
    """The fields of *article* its rendered body depends on (``BODY_FIELDS``), as text to hash."""
    return repr(tuple(getattr(article, name) for name in BODY_FIELDS))


class BodyRenderer:
    """Renders article bodies for one site: rewrites article and file links.

    Reads only ``BODY_FIELDS`` of an article (and the site's settings and
    article URLs): an edit to any other field leaves its body as it was.
    """

    def __init__(self, config: SiteConfig, article_urls: dict[str, str]) -> None:
        self.config = config
        self.article_urls = article_urls  # "content/x/y.md" -> "/x/y/"
        self.engine = pick_engine(config.markdown_engine)
        self._md: MarkdownIt | None = None
        self.rust = RustFinisher(self) if self.engine == "rust" else None

    @property
    def md(self) -> MarkdownIt:
        """The python engine: made on first use, as the rust engine hands it only a few bodies."""
        if self._md is None:
            self._md = make_markdown(self.config.allow_html)
        return self._md

    def render(self, article: Article) -> tuple[RenderedBody, list[Problem]]:
        looked_up: set[str] = set()
        problems: list[Problem] = []
        body_html = self.rust.render(article, problems, looked_up) if self.rust else None
        if body_html is None:
            env: dict[str, Any] = {"renderer": self, "article": article, "problems": problems, "links": looked_up}
            body_html = self.md.render(article.body, env)
        if self.config.allow_html:
            body_html = sanitize_html(body_html)
        summary = article.summary or first_paragraph(body_html)
        minutes = max(1, round(len(article.body.split()) / WORDS_PER_MINUTE))
        return RenderedBody(html=body_html, summary=summary, minutes=minutes, links=tuple(sorted(looked_up))), problems

    def resolve(self, href: str, article: Article, line: int, problems: list[Problem], looked_up: set[str] | None = None) -> str | None:
        """The output URL for a relative link in *article*, or None to leave it.

        Each site-relative path looked up is added to *looked_up*, found or not.
        """
        if href.startswith(_NOT_RELATIVE):
            return None  # the common case, decided without urlsplit
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path or href.startswith(("/", "#")):
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), unquote(parts.path)))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if target.endswith((".md", ".markdown")):
            if looked_up is not None:
                looked_up.add(target)
            url = self.article_urls.get(target)
            if url is None:
                problems.append(error(article.path, line, f'link to "{href}": expected an article file, found no published article at {target}'))
                return None
            return self.site_path(url) + fragment
        if not target.startswith("content/"):
            problems.append(error(article.path, line, f'link to "{href}": expected a file at {target}, found none'))
            return None
        if looked_up is not None:
            looked_up.add(target)
        if not (self.config.root / target).is_file():
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
    looked_up: set[str] | None = state.env.get("links")
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
                new = renderer.resolve(value, article, line, problems, looked_up)
                if new is not None:
                    token.attrSet(attr, new)


# The rules of markdown-it-pyrs's "commonmark" preset less raw HTML, plus our extensions.
_RUST_RULES: list[Any] = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline",
    "table", "strikethrough", "footnote",
]  # fmt: skip
# What markdown-it-pyrs writes for the markup we finish. With raw HTML off the
# author's own "<" always arrives as "&lt;", so these only match the renderer's.
_RUST_FENCE = re.compile(r'<pre><code class="language-([^"]*)">([^<]*)</code></pre>\n')
_RUST_HEADING = re.compile(r"<h([2-4])>(.*?)</h\1>", re.S)
_RUST_LINK = re.compile(r'<(a href|img src)="(?!#|/|https?://)([^"]*)"')  # not those resolve leaves: _NOT_RELATIVE
_FOOTNOTE_REF = re.compile(r'<sup class="footnote-ref">.*?</sup>')
_RUST_FOOTNOTE_REF = re.compile(r'<sup class="footnote-ref"><a href="#fn(\d+)" id="fnref(\d+)">\[\d+\]</a></sup>')
_RUST_FOOTNOTE_BACKREF = re.compile(r'<a href="#fnref(\d+)" class="footnote-backref">')
_RUST_FOOTNOTE_ITEM = re.compile(r'<li id="fn(\d+)" class="footnote-item">\n')
_FOOTNOTES_START = '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
_FOOTNOTES_END = "</ol>\n</section>\n"
# Nodes whose first line markdown-it-py reports for the links inside them.
_LINE_BLOCKS = frozenset({"paragraph", "heading", "lheading", "tcell", "list_item"})


class RustFinisher:
    """The rust engine: markdown-it-pyrs HTML, finished to match the python engine's.

    markdown-it-pyrs takes no plugins written in Python, so the three things the
    python engine does with token hooks are done on its HTML: Pygments for fenced
    code, ids and permalinks on h2-h4 (same slugs as mdit-py-plugins' anchors),
    and article-link rewriting. Its syntax tree is read only when needed: for the
    line of a broken link, and to hand bodies with raw HTML (``allow_html``) to
    the python engine so that the author's own markup is never rewritten. A
    body that makes markdown-it-pyrs panic goes to the python engine too.
    """

    def __init__(self, renderer: BodyRenderer) -> None:
        assert markdown_it_pyrs is not None, "the rust engine needs markdown-it-pyrs"
        self.renderer = renderer
        self.allow_html = renderer.config.allow_html
        rules = _RUST_RULES + (["html_block", "html_inline"] if self.allow_html else [])
        self.md = markdown_it_pyrs.MarkdownIt("zero").enable_many(rules)

    def render(self, article: Article, problems: list[Problem], looked_up: set[str]) -> str | None:
        """The finished HTML of *article*'s body, or None for the python engine to render it."""
        body = article.body
        try:
            if self.allow_html and "<" in body and _has_raw_html(self.md.tree(body)):
                return None
            out = self.md.render(body, xhtml=False)
        except BaseException as exc:  # markdown-it-pyrs 0.4.0 panics on a few inputs, e.g. "^[\xa0]"
            if type(exc).__name__ != "PanicException":
                raise
            return None
        if 'href="' in out or 'src="' in out:
            out = self._rewrite_links(out, article, problems, looked_up)
        if '<pre><code class="' in out:
            out = _RUST_FENCE.sub(_highlight_fence, out)
        if "<h2>" in out or "<h3>" in out or "<h4>" in out:
            out = _add_anchors(out)
        if '<sup class="footnote-ref">' in out:
            out = _renumber_footnotes(out)
        if "<blockquote>\n</blockquote>" in out:
            out = out.replace("<blockquote>\n</blockquote>", "<blockquote></blockquote>")  # an empty quote, as markdown-it-py writes it
        return out

    def _rewrite_links(self, out: str, article: Article, problems: list[Problem], looked_up: set[str]) -> str:
        broken: list[tuple[str, int, Problem]] = []  # (url, its occurrence, problem) to locate
        seen: dict[str, int] = {}

        def rewrite(match: re.Match[str]) -> str:
            url = html.unescape(match[2])
            if url.startswith(_NOT_RELATIVE):
                return match[0]  # footnotes, permalinks, web links: the common cases, kept cheap
            occurrence = seen[url] = seen.get(url, -1) + 1
            found: list[Problem] = []
            new = self.renderer.resolve(url, article, 0, found, looked_up)
            broken.extend((url, occurrence, problem) for problem in found)
            return match[0] if new is None else f'<{match[1]}="{escape_html(new)}"'

        out = _RUST_LINK.sub(rewrite, out)
        if broken:
            lines = _link_lines(self.md.tree(article.body), article.body.encode("utf-8"))
            for url, occurrence, problem in broken:
                found_lines = lines.get(url, [])
                line = found_lines[occurrence] if occurrence < len(found_lines) else 0
                problems.append(replace(problem, line=article.body_line + line))
        return out


def _has_raw_html(tree: Any) -> bool:
    return any(node.name in ("html_block", "html_inline") for node in tree.walk())


def _link_lines(tree: Any, body: bytes) -> dict[str, list[int]]:
    """Each link and image URL's lines in the body (0-based), in document order."""
    lines: dict[str, list[int]] = {}

    def visit(node: Any, block_start: int | None) -> None:
        if node.name in _LINE_BLOCKS and node.srcmap is not None:
            block_start = node.srcmap[0]
        if node.name in ("link", "image", "autolink"):
            start = block_start if block_start is not None else node.srcmap[0] if node.srcmap else 0
            # Line breaks as markdown-it counts them: "\n", "\r\n" or a lone "\r".
            breaks = body.count(b"\n", 0, start) + body.count(b"\r", 0, start) - body.count(b"\r\n", 0, start)
            lines.setdefault(node.meta.get("url", ""), []).append(breaks)
        for child in node.children:
            visit(child, block_start)

    visit(tree, None)
    return lines


def _highlight_fence(match: re.Match[str]) -> str:
    lang = html.unescape(match[1])
    highlighted = highlight_code(html.unescape(match[2]), lang, "")
    # markdown-it-py adds a newline after a highlighter's own <pre>.
    return highlighted + "\n" if highlighted else match[0]


def _renumber_footnotes(out: str) -> str:
    """Number footnotes as mdit-py-plugins does: by first reference, repeats as "1:1".

    markdown-it-pyrs numbers them in the order they are defined and gives every
    reference its own number; the list is put in the new order too.
    """
    refs = sorted((int(ref), int(note)) for note, ref in _RUST_FOOTNOTE_REF.findall(out))
    number: dict[int, int] = {}  # markdown-it-pyrs's footnote number -> ours
    ref_name: dict[int, str] = {}  # markdown-it-pyrs's reference number -> ours ("2", "2:1")
    uses: dict[int, int] = {}
    for ref_number, note in refs:
        ours = number.setdefault(note, len(number) + 1)
        sub = uses[note] = uses.get(note, -1) + 1
        ref_name[ref_number] = f"{ours}:{sub}" if sub else str(ours)

    def renumber(match: re.Match[str]) -> str:
        ours, name = number[int(match[1])], ref_name[int(match[2])]
        return f'<sup class="footnote-ref"><a href="#fn{ours}" id="fnref{name}">[{name}]</a></sup>'

    out = _RUST_FOOTNOTE_REF.sub(renumber, out)
    start = out.find(_FOOTNOTES_START)
    if start < 0 or not out.endswith(_FOOTNOTES_END):
        return out
    start += len(_FOOTNOTES_START)
    items = [item for item in re.split(r'(?=<li id="fn\d+" class="footnote-item">\n)', out[start : -len(_FOOTNOTES_END)]) if item]

    def place(item: str) -> int:
        found = _RUST_FOOTNOTE_ITEM.match(item)
        return number.get(int(found[1]), len(number) + 1) if found else len(number) + 1

    notes = "".join(sorted(items, key=place))  # sorted() is stable: unnumbered notes keep their order
    notes = _RUST_FOOTNOTE_ITEM.sub(lambda m: f'<li id="fn{number.get(int(m[1]), int(m[1]))}" class="footnote-item">', notes)
    notes = _RUST_FOOTNOTE_BACKREF.sub(lambda m: f'<a href="#fnref{ref_name.get(int(m[1]), m[1])}" class="footnote-backref">', notes)
    return out[:start] + notes + _FOOTNOTES_END


# The rust engine's finishing mimics markdown-it-py and mdit-py-plugins to the byte. Their helpers
# are repeated here (tests/test_markdown.py checks them against the originals) so that a rebuild
# with the rust engine does not import markdown-it-py, which costs it a tenth of its time.
_NOT_SLUG = re.compile(r"[^\w\u4e00-\u9fff\- ]")


def escape_html(raw: str) -> str:
    """markdown-it-py's escapeHtml: ``&``, ``<``, ``>`` and ``"`` as entities."""
    return html.escape(raw, quote=False).replace('"', "&quot;")


def anchor_slug(title: str) -> str:
    """mdit-py-plugins' default heading slug (anchors plugin)."""
    return _NOT_SLUG.sub("", title.lower().replace(" ", "-"))


def unique_slug(slug: str, slugs: set[str]) -> str:
    """*slug*, or *slug*-1, -2 ... when taken on the page, as mdit-py-plugins numbers them; noted in *slugs*."""
    unique, number = slug, 1
    while unique in slugs:
        unique = f"{slug}-{number}"
        number += 1
    slugs.add(unique)
    return unique


def _add_anchors(out: str) -> str:
    """Ids and permalinks on h2-h4, as mdit-py-plugins' anchors_plugin makes them."""
    slugs: set[str] = set()

    def anchor(match: re.Match[str]) -> str:
        inner = match[2]
        # The title is the heading's text and code, without footnote marks or line breaks.
        title = html.unescape(_TAG.sub("", _FOOTNOTE_REF.sub("", inner))).replace("\n", "")
        slug = escape_html(unique_slug(anchor_slug(title), slugs))
        level = match[1]
        return f'<h{level} id="{slug}">{inner} <a class="header-anchor" href="#{slug}">#</a></h{level}>'

    return _RUST_HEADING.sub(anchor, out)


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
    parts = in_chunks(_render_chunk, (config, urls), articles, jobs, PARALLEL_MIN)
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


def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments markup for a fenced block, or '' to let markdown-it escape it (:mod:`digest.highlight`, imported with the first block)."""
    from .highlight import highlight_code as highlight

    return highlight(code, lang, attrs)


if __name__ == "__main__":
    from .highlight import pygments_css

    print(pygments_css(), end="")
