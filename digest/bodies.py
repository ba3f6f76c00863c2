"""Stage 3 with the memo: every article's rendered body, reused while its text, settings and links are unchanged.

In: the published articles (and the Markdown of those parsed in this build). Out: bodies, their hashes, the memo
keys of HTML left unread, and problems. :mod:`digest.markdown` renders; this decides what needs rendering.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote, urlsplit

from .config import SiteConfig
from .content import read_body
from .errors import Problem, warning
from .markdown import BodyRenderer, RenderedBody, Unpublished, render_bodies
from .memo import Memo, hash_of, hash_value
from .schema import Article


def render_bodies_memo(
    config: SiteConfig, articles: list[Article], texts: dict[str, str], memo: Memo, jobs: int, urls: dict[str, str]
) -> tuple[dict[str, RenderedBody], dict[str, bytes], dict[str, bytes], list[Problem]]:
    """Every article's rendered body, its hash, the memo keys of HTML not loaded yet, and the problems rendering found.

    A body is memoised by its article file's hash, the Markdown settings and the base path, and reused only while
    its relative links lead where they did (*urls*: the URL of each article and standalone page by its file).
    Its HTML is kept apart ("body-html"), read only for what is rendered (:func:`digest.site.load_html`).
    *texts*: the Markdown of the articles parsed in this build; other bodies are read again.
    """
    settings = hash_of("body", config.markdown_engine, str(config.allow_html), config.base_path)
    keys = {a.path: hash_of(settings, a.hash or hash_value(a)) for a in articles}
    found = memo.get_many("body", keys.values())
    bodies: dict[str, RenderedBody] = {}
    targets: dict[str, tuple[tuple[str, str], ...]] = {}  # where the relative links of each body lead
    unloaded: dict[str, bytes] = {}
    problems: list[Problem] = []
    todo: list[Article] = []
    for article in articles:
        stored = found.get(keys[article.path])
        if stored is not None and stored[2] == link_targets(config, urls, stored[0].links):
            bodies[article.path], more, targets[article.path] = stored
            problems.extend(more)
            unloaded[article.path] = keys[article.path]
        else:
            todo.append(article)
    if todo:
        todo_texts = {a.path: texts[a.path] if a.path in texts else read_body(config, a) for a in todo}
        made, more = render_bodies(config, todo, todo_texts, jobs, urls)
        problems.extend(more)
        for article in todo:
            body = bodies[article.path] = made[article.path]
            links = targets[article.path] = link_targets(config, urls, body.links)
            memo.put("body", keys[article.path], (replace(body, html=""), tuple(p for p in more if p.path == article.path), links))
            memo.put("body-html", keys[article.path], body.html)
    memo.keep("body-html", unloaded.values())
    return bodies, {path: hash_of(keys[path], repr(targets[path])) for path in bodies}, unloaded, problems


def check_unpublished_links(config: SiteConfig, unpublished: list[tuple[Unpublished, str]], urls: dict[str, str]) -> list[Problem]:
    """The link problems of files whose front matter has errors, so that one run reports both."""
    if not unpublished:
        return []
    renderer = BodyRenderer(config, urls)
    return [problem for source, text in unpublished for problem in renderer.render(source, text)[1]]


def link_targets(config: SiteConfig, urls: dict[str, str], links: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Where each relative link target of a body leads now: an article's URL, "file", or "" for nowhere."""
    return tuple((target, urls.get(target, "") if target.endswith((".md", ".markdown")) else "file" * (config.root / target).is_file()) for target in links)


def check_site_paths(config: SiteConfig, articles: list[Article], bodies: dict[str, RenderedBody], known: set[str]) -> list[Problem]:
    """A warning for each body link to a site path (``/about/``, ``/img/x.png``) that no page or file of the site is at: an
    old address of a migrated archive, or a typo. (A warning: the host may serve more than the site.)"""
    base = config.base_path.rstrip("/")
    problems: list[Problem] = []
    for article in articles:
        for href, line in bodies[article.path].site_links:
            path = unquote(urlsplit(href).path)
            path = path.removeprefix(base) if base and (path == base or path.startswith(base + "/")) else path
            if not {path, path + "/", path.removesuffix("index.html"), path or "/"} & known:
                problems.append(warning(article.path, line, f'link to "{href}": expected a page or file of this site, found none at {path or "/"}'))
    return problems
