"""Standalone pages: ``content/pages/*.md`` (About, Editorial standards, ...) rendered at ``/<slug>/``.

In: ``SiteConfig`` and the URLs of the published articles and pages by file (for links from a page). Out: a
:class:`~digest.pages.Page` per file, with its rendered body, and every problem at ``path:line``. Not articles: no topic, tags or feeds.
A page with ``nav: N`` is linked from every page's footer, in the order of N.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import SiteConfig, setting_lines
from .errors import Problem, error, warning
from .i18n import translator
from .markdown import BodyRenderer, Unpublished
from .pages import Crumb, Page
from .slugs import make_slug
from .stories import markdown_files, read_note_file

PAGES_FOLDER = "pages"  # content/pages/: reserved, never a topic
PAGE_FIELDS = {"title": "Title of the page.", "description": "One sentence for meta tags.", "nav": "Footer link order (a whole number); none: not linked."}


@dataclass(frozen=True)
class NavLink:
    name: str
    url: str


def load_standalone_pages(config: SiteConfig, urls: dict[str, str]) -> tuple[list[Page], tuple[NavLink, ...], list[Problem]]:
    """Every page under ``content/pages/``, sorted by file name; the footer links of those with ``nav``; the problems.

    *urls*: the URL of each article and standalone page by its file, which a page's links may name.
    """
    renderer = BodyRenderer(config, urls)
    problems: list[Problem] = []
    made = [loaded for path in page_files(config) if (loaded := _load_page(config, renderer, path, problems)) is not None]
    links = [(nav, page.url, NavLink(page.title, page.url)) for page, nav in made if nav is not None]
    return [page for page, _ in made], tuple(link for *_, link in sorted(links, key=lambda item: item[:2])), problems


def page_files(config: SiteConfig) -> list[Path]:
    """The Markdown files of ``content/pages/``, sorted."""
    return markdown_files(config.root / "content" / PAGES_FOLDER)


def page_urls(config: SiteConfig) -> dict[str, str]:
    """Each standalone page's file (``content/pages/about.md``) -> its URL, so that articles and pages link to it by its file."""
    return {f"content/{PAGES_FOLDER}/{path.name}": f"/{slug}/" for path in page_files(config) if (slug := make_slug(path.stem))}


def _load_page(config: SiteConfig, renderer: BodyRenderer, path: Path, problems: list[Problem]) -> tuple[Page, int | None] | None:
    read = read_note_file(config, path, PAGE_FIELDS, "it is ignored", problems)
    if read is None:
        return None
    shown, values, text, body_line = read
    slug = make_slug(path.stem)
    if not slug:
        problems.append(error(shown, 1, f'expected a file name with letters or digits to make the URL, found "{path.name}"'))
    if "title" not in values or not slug:
        return None
    body, more = renderer.render(Unpublished(shown, body_line), text)
    problems += more
    context = {"content": body.html, "source_path": shown}
    home = Crumb(translator(config)("Headlines"), "/")
    page = Page(f"/{slug}/", "page.html", values["title"], values.get("description") or body.summary, context, (home,))
    return page, values.get("nav")


def check_site_links(config: SiteConfig, urls: set[str]) -> list[Problem]:
    """A site path among site.yaml's editorial links that no page or copied file has: a warning at the key's line."""
    named = [("standards_url", config.standards_url), ("corrections_policy_url", config.corrections_policy_url)]
    named += [(f'header_links: "{label}"', url) for label, url in config.header_links]
    named += [(f'footer_links: "{label}"', url) for label, url in config.footer_links]
    named += [(f"authors: {author.key}.{field}", url) for author in config.authors for field, url in (("url", author.url), ("image", author.image))]
    missing = [(key, url) for key, url in named if url.startswith("/") and url.split("#")[0].split("?")[0] not in urls]
    if not missing:
        return []
    line_of = setting_lines(config)
    return [
        warning(config.path, line_of.get(key.split(":")[0], 0), f"{key}: expected a page or file of the site at {url}, found none; the link leads nowhere")
        for key, url in missing
    ]
