"""Stage 6, render: fill the Jinja2 templates for every planned page.

In: ``SiteConfig``, ``SiteIndex`` and the list of ``Page`` values. Out:
``{url_path: bytes}``; nothing touches the disk. Templates autoescape and use
``StrictUndefined``, so a typo in a template fails the build with the
template's name and line instead of rendering an empty string.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jinja2
from jinja2 import nodes
from markupsafe import Markup

from .config import SiteConfig
from .errors import Problem, TemplateError, did_you_mean, warning
from .i18n import Labels, date_formatter, date_pattern, month_names, og_locale, translator
from .index import Ref, SiteIndex
from .memo import BUNDLED, Memo, hash_of
from .pages import Page
from .schema import Article, text_direction


def site_templates(config: SiteConfig) -> Path:
    """The folder of the site's own templates, which override the bundled ones of the same name."""
    return config.root / "templates"


def template_dirs(config: SiteConfig) -> list[Path]:
    """The site's own templates first, then the bundled ones."""
    return [d for d in (site_templates(config), BUNDLED / "templates") if d.is_dir()]


class SiteUrls:
    """Turns site-relative paths ("/tags/x/") into links; the one place URLs are made."""

    def __init__(self, config: SiteConfig) -> None:
        self.base_path = config.base_path
        parts = urlsplit(config.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def path(self, url: str) -> str:
        return self.base_path + url.lstrip("/")

    def absolute(self, url: str) -> str:
        """An absolute URL; URLs that already have a scheme are returned unchanged."""
        return url if "://" in url else self.origin + self.path(url)


def find_static(config: SiteConfig, name: str) -> Path | None:
    """The file ``static/<name>`` is copied from: the site's own, else the bundled one."""
    return next((folder / name for folder in (config.root / "static", BUNDLED / "static") if (folder / name).is_file()), None)


def hashed_name(name: str, data: bytes) -> str:
    """``css/site.css`` -> ``css/site.1a2b3c4d5e.css``: a new name whenever the content changes."""
    digest = hashlib.sha256(data).hexdigest()[:10]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest}"


def hashed_static_copies(copies: dict[str, Path]) -> dict[str, Path]:
    """A content-hashed twin of every static file, so hosts may cache them for a year."""
    return {"/static/" + hashed_name(url.removeprefix("/static/"), path.read_bytes()): path for url, path in copies.items() if url.startswith("/static/")}


def memoized_dates(format: Callable[[datetime], str]) -> Callable[[datetime], str]:
    """*format*, remembered by moment, zone and ``fold`` (equal moments read differently in other zones): pages show the same dates often."""

    @cache
    def by_key(moment: datetime, zone: Any, fold: int) -> str:
        return format(moment)

    return lambda moment: by_key(moment, moment.tzinfo, moment.fold) if type(moment) is datetime else format(moment)


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process for all the builds it runs (the dev server's); Jinja checks each against its source.

    Jinja folds filters of constants (``"/tags/" | url``) into the compiled code, so it is kept per site settings.
    """

    compiled: ClassVar[dict[tuple[str, str], bytes]] = {}  # (settings, template) -> code, for the life of the process

    def __init__(self, config: SiteConfig) -> None:
        self.settings = repr(config)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        found = self.compiled.get((self.settings, bucket.key))
        if found is not None:
            bucket.bytecode_from_string(found)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[(self.settings, bucket.key)] = bucket.bytecode_to_string()

    @classmethod
    def recall(cls, config: SiteConfig, memo: Memo) -> None:
        """Take the templates an earlier build of these settings compiled from *memo*: a build that renders a few pages
        would spend more on compiling them than on the pages. Before rendering, so that forked workers have them too."""
        settings = repr(config)
        for name, code in (memo.get("templates", hash_of(settings)) or {}).items():
            cls.compiled.setdefault((settings, name), code)

    @classmethod
    def remember(cls, config: SiteConfig, memo: Memo) -> None:
        """Keep the templates this process compiled for these settings in *memo* (those compiled by workers are not)."""
        settings = repr(config)
        mine = {name: code for (made_for, name), code in cls.compiled.items() if made_for == settings}
        if mine and memo.get("templates", hash_of(settings)) != mine:
            memo.put("templates", hash_of(settings), mine)


def make_environment(config: SiteConfig) -> jinja2.Environment:
    """The site's Jinja environment: autoescaping, and an error for any undefined name."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(  # "bundled/x.html" is always the bundled x.html, so that a site's x.html can extend it
            [jinja2.FileSystemLoader(template_dirs(config)), jinja2.PrefixLoader({"bundled": jinja2.FileSystemLoader(BUNDLED / "templates")})]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one build reads each template once
        bytecode_cache=CompiledTemplates(config),
        extensions=[Labels],  # _("literal") translated as templates compile
    )
    urls = SiteUrls(config)
    env.filters["url"] = urls.path
    env.filters["abs_url"] = urls.absolute
    shown, zone, patterned = date_formatter(config), config.tz, date_pattern(config)
    day = memoized_dates(lambda moment: shown(moment.astimezone(zone)))  # the day in the site's zone, as the archive has it
    env.filters["date"] = lambda moment, pattern=None: day(moment) if pattern is None else patterned(moment, pattern)
    env.filters["isodate"] = memoized_dates(lambda moment: moment.isoformat())
    env.globals["site"] = config
    env.globals["month_names"] = month_names(config)
    env.globals["_"] = translator(config)  # a template's label in the site's language (digest.i18n)
    env.globals["site_dir"] = text_direction(config.language)
    from .seo import script_json  # here: seo imports this module

    env.globals["asset"] = cache(lambda name: urls.path("/static/" + asset_name(config, name)))  # read and hash each static file once per build
    env.filters["jsonld"] = script_json
    env.filters["og_locale"] = og_locale
    return env


def block_problems(config: SiteConfig) -> list[Problem]:
    """A warning for each block a site template defines outside any other block that no template it extends has: Jinja
    drops what such a block holds without a word (a misspelt ``{% block article_heder %}``)."""
    folder, env, problems = site_templates(config), make_environment(config), []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".xml", ".txt")) if folder.is_dir() else ():
        own = _parsed(env, path)
        tree, parents, known = own, [], set()
        while tree is not None and (extends := tree.find(nodes.Extends)) is not None:
            parent = extends.template.value if isinstance(extends.template, nodes.Const) else None
            if not isinstance(parent, str) or parent in parents:  # a name worked out as a page renders, or a loop (its own error)
                tree = None
            else:
                parents.append(parent)
                try:
                    tree = _parsed(env, None, env.loader.get_source(env, parent)[0]) if env.loader else None
                except jinja2.TemplateNotFound:  # an error when a page renders
                    tree = None
                known |= {block.name for block in tree.find_all(nodes.Block)} if tree else set()
        for block in _outer_blocks(own) if own and parents and tree else ():  # only when the whole chain was read
            if block.name not in known:
                choices = sorted(known)
                said = f'block "{block.name}" is in no template this one extends ({", ".join(parents)}), so what it holds is never shown'
                where = f"templates/{path.relative_to(folder).as_posix()}"
                problems.append(warning(where, block.lineno, f"{said}; their blocks: {', '.join(choices)}{did_you_mean(block.name, choices)}"))
    return problems


def _parsed(env: jinja2.Environment, path: Path | None, source: str = "") -> nodes.Template | None:
    """A template's syntax tree; None for one that cannot be read or parsed, whose error a page reports."""
    try:
        return env.parse(path.read_text(encoding="utf-8") if path else source)
    except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
        return None


def _outer_blocks(node: nodes.Node) -> Iterator[nodes.Block]:
    """The blocks in *node* that no other block holds: those a child template puts in its parent's place."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Block):
            yield child
        else:
            yield from _outer_blocks(child)


def asset_name(config: SiteConfig, name: str) -> str:
    """The content-hashed name of a static file; a name no file has is the calling template's error (a typo would ship a 404)."""
    found = find_static(config, name)
    if found is None:
        raise jinja2.TemplateRuntimeError(f"asset({name!r}): no such file in the site's static/ or the bundled one")
    return hashed_name(name, found.read_bytes())


def nav_refs(index: SiteIndex) -> tuple[Ref, ...]:
    """The topics every page's navigation shows: names and links, never their articles."""
    return tuple(index.ref(t) for t in index.topics)


class PageRenderer:
    """Fills the templates of one site, page by page.

    No site-wide global (``cards``, ``fragment()``, ...) shows an article the page's context does not name: a page depends on that and site-wide values only.
    """

    def __init__(self, config: SiteConfig, index: SiteIndex, nav_links: tuple[Any, ...] = ()) -> None:
        from .seo import PageMeta, page_meta  # here: seo imports this module

        self.env = env = make_environment(config)
        env.globals["nav_pages"] = nav_links  # standalone pages linked from the footer (digest.editorial)
        topics = nav_refs(index)
        env.globals["nav_topics"] = topics
        env.globals["topic_of"] = {t.slug: t for t in topics}
        urls = SiteUrls(config)
        last: list[tuple[Page, PageMeta]] = []  # the page last described, and its PageMeta

        def describe(page: Page) -> PageMeta:
            if not last or last[0][0] is not page:  # _meta.html and list.html both ask
                last[:] = [(page, page_meta(config, urls, page))]
            return last[0][1]

        env.globals["page_meta"] = describe
        articles = {a.path: a for a in index.articles + index.expired}

        def article(path: str) -> Any:
            if path not in articles:  # not a KeyError, which Jinja would turn into "has no attribute"
                given = f"the article itself ({path.title!r})" if isinstance(path, Article) else repr(path)[:80]
                raise jinja2.TemplateRuntimeError(f"cards[...] and links[...] take a listed article's path (article.path), not {given}")
            return articles[path]

        # Each article's list entry and one-line link, made once for all the pages that show it.
        env.globals["cards"] = Kept(lambda path: fill_template(env, "_card.html", article=article(path)))
        env.globals["links"] = Kept(lambda path: fill_template(env, "_link.html", article=article(path)))
        env.globals["fragment"] = Fragments(env)

    def render(self, page: Page) -> bytes:
        return fill_template(self.env, page.template, page=page, **page.context).encode("utf-8")


class Kept(dict[Any, Markup]):
    """Markup made once per key and reused on every page that shows it."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        self.make = make

    def __missing__(self, key: Any) -> Markup:
        made = self[key] = Markup(self.make(key))
        return made


class Fragments:
    """``fragment(name, **args)`` for templates: a part shared by many pages, rendered once per set of *args*.

    The template sees only *args* and the site-wide globals, never the page, so what it makes depends on *args* alone.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.made = Kept(lambda key: fill_template(env, key[0], **dict(key[1])))

    def __call__(self, name: str, **args: Any) -> Markup:
        self.env.get_template(name)  # a missing one is the calling template's error, at its line
        try:
            return self.made[name, tuple(sorted(args.items()))]
        except TypeError:  # an argument that cannot be a key: render it every time
            return Markup(fill_template(self.env, name, **args))


def fill_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Template *name* filled with *context*; a template bug is a ``TemplateError`` naming its file and line, not a traceback."""
    try:
        try:
            template = env.get_template(name)
        except jinja2.TemplateNotFound as exc:  # only the page's own template: a missing include is a template error below
            raise TemplateError(f"templates/{name}: template not found in the site's templates/ or the bundled ones") from exc
        return template.render(**context)
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(_syntax_error(exc, name)) from exc
    except Exception as exc:
        where, problem = f"templates/{name}", str(exc)
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".html", ".xml", ".json", ".txt")):
                where = f"{_shown(frame.filename)}:{frame.lineno}"
                break
        if isinstance(exc, jinja2.TemplateNotFound):
            problem = f"template {exc.name!r} not found in the site's templates/ or the bundled ones"
        elif isinstance(exc, RecursionError):
            itself = where.partition(":")[0].rpartition("templates/")[2]
            how = "extends, includes or renders itself (cards[...] and fragment(...) render templates too)"
            problem = f'the template {how}; to build on the bundled {itself}, write {{% extends "bundled/{itself}" %}}'
        raise TemplateError(f"{where}: template error: {problem}") from exc


def syntax_errors(config: SiteConfig) -> set[str]:
    """Each template that cannot be compiled, as ``fill_template`` says it: looked for once a page failed, as one such
    mistake (in a macro file, say) fails every page before another can show."""
    env, found = make_environment(config), set()
    for name in env.list_templates(extensions=("html", "xml", "txt")):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            found.add(_syntax_error(exc, name))
        except UnicodeDecodeError as exc:
            found.add(f"templates/{name}: template error: {exc}")
    return found


def _syntax_error(exc: jinja2.TemplateSyntaxError, name: str) -> str:
    return f"{_shown(exc.filename or name)}:{exc.lineno}: template error: {exc.message}"


def _shown(filename: str) -> str:
    path = Path(filename)
    return path.resolve().relative_to(BUNDLED).as_posix() if path.resolve().is_relative_to(BUNDLED) else path.as_posix()
