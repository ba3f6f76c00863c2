"""Stage 6, render: fill the Jinja2 templates for every planned page.

In: ``SiteConfig``, ``SiteIndex`` and the list of ``Page`` values. Out:
``{url_path: bytes}``; nothing touches the disk. Templates autoescape and use
``StrictUndefined``, so a typo in a template fails the build with the
template's name and line instead of rendering an empty string.

Each article's list entry (its "card") is rendered once and reused on every
list page it appears on.
"""

from __future__ import annotations

import hashlib
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
import markupsafe
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import Markup

from .cache import Dep
from .config import SiteConfig
from .content import Article
from .errors import TemplateError
from .index import Month, Outlet, SiteIndex, Story, Tag, Topic, Year
from .pages import MONTHS, Page

if TYPE_CHECKING:
    from .seo import PageMeta

BUNDLED = Path(__file__).resolve().parent.parent


def template_dirs(config: SiteConfig) -> list[Path]:
    """The site's own templates first, then the bundled ones."""
    return [d for d in (config.root / "templates", BUNDLED / "templates") if d.is_dir()]


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
        if "://" in url:
            return url
        return self.origin + self.path(url)


def find_static(config: SiteConfig, name: str) -> Path | None:
    """The file ``static/<name>`` is copied from: the site's own, else the bundled one."""
    for folder in (config.root / "static", BUNDLED / "static"):
        if (folder / name).is_file():
            return folder / name
    return None


def hashed_name(name: str, data: bytes) -> str:
    """``css/site.css`` -> ``css/site.1a2b3c4d5e.css``: a new name whenever the content changes."""
    digest = hashlib.sha256(data).hexdigest()[:10]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest}"


def hashed_static_copies(copies: dict[str, Path]) -> dict[str, Path]:
    """A content-hashed twin of every static file, so hosts may cache them for a year."""
    twins = {}
    for url, path in copies.items():
        if url.startswith("/static/"):
            twins["/static/" + hashed_name(url.removeprefix("/static/"), path.read_bytes())] = path
    return twins


def format_date(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def memoized_dates(format: Callable[[datetime], str]) -> Callable[[datetime], str]:
    """*format* remembering what it made for each moment: pages show the same dates many times.

    The key holds the zone and ``fold`` too, since two equal moments can be
    written differently in different zones.
    """
    made: dict[tuple[datetime, Any, int], str] = {}

    def memo(moment: datetime) -> str:
        if type(moment) is not datetime:
            return format(moment)
        key = (moment, moment.tzinfo, moment.fold)
        text = made.get(key)
        if text is None:
            text = made[key] = format(moment)
        return text

    return memo


_escape_inner: Callable[[str], str] = getattr(markupsafe, "_escape_inner", None) or (lambda text: str(markupsafe.escape(text)))


def escape_text(value: Any) -> str:
    """What ``markupsafe.escape`` returns, as a plain ``str`` rather than a ``Markup``.

    Compiled templates call ``escape`` only on what they output, and that
    output is only ever joined into a string (macros and ``{% set %}`` blocks
    wrap their joined buffers in ``Markup`` themselves), so the ``Markup``
    object ``escape`` makes for every ``{{ value }}`` is thrown away unused.
    """
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


class FastTemplate(jinja2.Template):
    """A template whose ``{{ value }}`` output is escaped by :func:`escape_text`."""

    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: Any, globals: Any, uptodate: Callable[[], bool] | None = None) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = escape_text  # the module the template was compiled into
        return template


class JoiningCodeGenerator(CodeGenerator):
    """Compiles each run of template output into one ``yield`` instead of one per piece.

    Jinja's top-level template code and blocks yield every piece of text and
    every ``{{ value }}`` on its own, and each yield climbs the chain of
    generators (page, base.html, includes) before the pieces are joined.
    Here a line such as ``<a href="{{ u }}">{{ t }}</a>`` becomes
    ``yield environment.concat(("<a href=\"", escape(u), "\">", escape(t), "</a>"))``:
    the same text, each value still on its own line of compiled code so that
    errors name the right template line. Output inside macros and
    ``{% set %}`` blocks (already collected in a list) and output that an
    ``{% extends %}`` may skip take Jinja's own path.
    """

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or frame.require_output_check:
            super().visit_Output(node, frame)
            return
        finalize = self._make_finalize()
        body: list[list[Any] | nodes.Expr] = []  # as in CodeGenerator.visit_Output: runs of constants, and nodes
        for child in node.nodes:
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):
                body.append(child)
                continue
            last = body[-1] if body else None
            if isinstance(last, list):
                last.append(const)
            else:
                body.append([const])
        if len(body) < 2:
            super().visit_Output(node, frame)
            return
        self.writeline("yield environment.concat((")
        self.indent()
        for item in body:
            if isinstance(item, list):
                self.writeline(self._output_const_repr(item) + ",")
            else:
                self.newline(item)
                self._output_child_pre(item, frame, finalize)
                self.visit(item, frame)
                self._output_child_post(item, frame, finalize)
                self.write(",")
        self.outdent()
        self.writeline("))")


COMPILED_NAMES = "__digest2_%s.cache"  # compiled templates' file names; a new name whenever the code generated changes


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that notes which site entities the templates read.

    Compiled templates read every ``obj.attr`` and ``obj[key]`` through
    ``getattr``/``getitem``; for topics, tags, outlets, stories, months and
    years these note a :class:`~digest.cache.Dep` in :attr:`deps`, so the
    build cache knows what else a page depends on besides its context.
    """

    deps: set[Dep]
    template_class = FastTemplate
    code_generator_class = JoiningCodeGenerator

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ChainMap over the environment's.

        Every render, include and import copies or compares these, and a
        ChainMap does that key by key in Python. The catch, which Jinja's
        documentation already asks of us, is that globals must not change
        once templates are loaded: the renderer sets them all first.
        """
        return {**self.globals, **d} if d else dict(self.globals)

    def getattr(self, obj: Any, attribute: str) -> Any:
        make = _ENTITY_REFS.get(type(obj))
        if make is not None:
            self.deps.add((make(obj), attribute in DEEP_ATTRIBUTES))
        try:  # what jinja2.Environment.getattr does, without a second call
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        make = _ENTITY_REFS.get(type(obj))
        if make is not None:
            self.deps.add((make(obj), argument in DEEP_ATTRIBUTES))
        try:  # what jinja2.Environment.getitem tries first, without a second call
            return obj[argument]
        except (AttributeError, TypeError, LookupError):
            return super().getitem(obj, argument)


DEEP_ATTRIBUTES = frozenset({"articles", "months", "count"})  # what depends on an entity's article list


def entity_ref(value: Any) -> str | None:
    """``"tag:gpu"`` for a Tag and so on; None for anything that is not an index entity."""
    make = _ENTITY_REFS.get(type(value))
    return make(value) if make is not None else None


_ENTITY_REFS: dict[type, Callable[[Any], str]] = {
    Topic: lambda t: f"topic:{t.slug}",
    Tag: lambda t: f"tag:{t.key}",
    Outlet: lambda o: f"outlet:{o.host}",
    Story: lambda s: f"story:{s.slug}",
    Month: lambda m: f"month:{m.year:04d}-{m.month:02d}",
    Year: lambda y: f"year:{y.year:04d}",
}


def make_environment(config: SiteConfig, compiled: Path | None = None) -> RecordingEnvironment:
    """The site's Jinja environment; *compiled* is a folder to keep compiled templates in between builds."""
    env = RecordingEnvironment(
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled), COMPILED_NAMES) if compiled is not None else None,
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(config)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one build reads each template once
    )
    urls = SiteUrls(config)
    env.filters["url"] = urls.path
    env.filters["abs_url"] = urls.absolute
    env.filters["date"] = memoized_dates(format_date)
    env.filters["isodate"] = memoized_dates(lambda moment: moment.isoformat())
    env.globals["site"] = config
    env.globals["month_names"] = MONTHS
    hashed: dict[str, str] = {}  # read and hash each static file once per build

    def asset(name: str) -> str:
        if name not in hashed:
            hashed[name] = urls.path("/static/" + asset_name(config, name))
        return hashed[name]

    env.globals["asset"] = asset
    env.filters["jsonld"] = script_json
    env.deps = set()
    return env


def asset_name(config: SiteConfig, name: str) -> str:
    """The content-hashed name of a static file (the plain name if it does not exist)."""
    found = find_static(config, name)
    return hashed_name(name, found.read_bytes()) if found else name


def render_site(config: SiteConfig, index: SiteIndex, pages: list[Page]) -> dict[str, bytes]:
    """Render every page; raises TemplateError naming the template and line."""
    renderer = PageRenderer(config, index)
    return {page.url: renderer.render(page)[0] for page in pages}


class PageRenderer:
    """Fills the templates of one site, page by page, noting what each page read."""

    def __init__(self, config: SiteConfig, index: SiteIndex, compiled: Path | None = None) -> None:
        self.env = env = make_environment(config, compiled)
        env.globals["nav_topics"] = index.topics
        env.globals["topic_of"] = index.topic_of
        urls = SiteUrls(config)
        last: list[Any] = [None, None]  # the page last described, and its PageMeta

        def page_meta(page: Page) -> PageMeta:
            if last[0] is not page:  # _meta.html and list.html both ask
                last[:] = page, describe_page(config, index, page, urls)
            meta: PageMeta = last[1]
            return meta

        env.globals["page_meta"] = page_meta
        articles = {a.path: a for a in index.articles + index.expired}
        self.cards = Cards(env, articles)
        env.globals["cards"] = self.cards
        env.globals["links"] = Cards(env, articles, "_link.html", "")
        env.globals["fragment"] = Fragments(env)

    def render(self, page: Page) -> tuple[bytes, frozenset[Dep]]:
        """The page's bytes and the entities (beyond its context) its templates read."""
        deps: set[Dep] = set()
        self.env.deps = deps
        template = _template(self.env, page.template)
        html = _call(template.render, page.template, page=page, **page.context)
        return html.encode("utf-8"), frozenset(deps)


class Cards(Mapping[str, Markup]):
    """Each article's list entry, rendered once when a page first shows it.

    What a card's template reads is noted on every page that shows the card,
    and the card itself counts as a dependency on its article (a ``card:``
    dependency) unless *dep_prefix* is empty. ``links`` is the same for the
    one-line entries of ``link_list`` (``_link.html``): pages that show
    those already name the articles in their context.
    """

    def __init__(self, env: RecordingEnvironment, articles: dict[str, Article], template: str = "_card.html", dep_prefix: str = "card:") -> None:
        self.env = env
        self.articles = articles
        self.template = template
        self.dep_prefix = dep_prefix
        self.made: dict[str, tuple[Markup, frozenset[Dep]]] = {}

    def __getitem__(self, path: str) -> Markup:
        made = self.made.get(path)
        if made is None:
            article = self.articles[path]
            outer = self.env.deps
            self.env.deps = deps = {(f"{self.dep_prefix}{path}", False)} if self.dep_prefix else set()
            try:
                html = Markup(_call(_template(self.env, self.template).render, self.template, article=article))
            finally:
                self.env.deps = outer
            made = self.made[path] = (html, frozenset(deps))
        if made[1]:
            self.env.deps |= made[1]
        return made[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.articles)

    def __len__(self) -> int:
        return len(self.articles)


class Fragments:
    """``fragment(name, **args)`` for templates: a part shared by many pages, rendered once.

    The template *name* sees only *args* and the site-wide globals (``site``,
    ``nav_topics``, ...), never the page, so what it makes depends on *args*
    alone and is rendered once per set of arguments and kept. As with cards,
    what it read is noted on every page that shows it.
    """

    def __init__(self, env: RecordingEnvironment) -> None:
        self.env = env
        self.made: dict[tuple[str, tuple[tuple[str, Any], ...]], tuple[Markup, frozenset[Dep]]] = {}

    def __call__(self, name: str, **args: Any) -> Markup:
        key: tuple[str, tuple[tuple[str, Any], ...]] | None = (name, tuple(sorted(args.items())))
        made = None
        try:
            made = self.made.get(key)  # type: ignore[arg-type]
        except TypeError:  # an argument that cannot be a key: render it every time
            key = None
        if made is None:
            outer = self.env.deps
            deps: set[Dep] = set()
            self.env.deps = deps
            try:
                html = Markup(_call(_template(self.env, name).render, name, **args))
            finally:
                self.env.deps = outer
            made = (html, frozenset(deps))
            if key is not None:
                self.made[key] = made
        self.env.deps |= made[1]
        return made[0]


def describe_page(config: SiteConfig, index: SiteIndex, page: Page, urls: SiteUrls | None = None) -> PageMeta:
    from .seo import page_meta

    return page_meta(config, urls or SiteUrls(config), index, page)


def script_json(value: Any) -> Markup:
    from .seo import script_json as dump

    return dump(value)


def _template(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_shown(exc.filename or name)}:{exc.lineno}: template error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"templates/{name}: template not found (looked in {', '.join(str(d) for d in env.loader.searchpath)})") from exc  # type: ignore[union-attr]


def _call(render: Callable[..., str], name: str, **context: Any) -> str:
    try:
        return render(**context)
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_shown(exc.filename or name)}:{exc.lineno}: template error: {exc.message}") from exc
    except Exception as exc:  # a template bug: report where it is, not a traceback
        where = f"templates/{name}"
        for frame in reversed(traceback.extract_tb(sys.exc_info()[2])):
            if frame.filename.endswith((".html", ".xml", ".json", ".txt")):
                where = f"{_shown(frame.filename)}:{frame.lineno}"
                break
        raise TemplateError(f"{where}: template error: {exc}") from exc


def _shown(filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(BUNDLED).as_posix()
    except ValueError:
        return path.as_posix()
