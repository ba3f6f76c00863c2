"""The site's language: template labels from a translation table, dates and month names from Babel, text direction.

The table for ``language`` is the bundled one (``digest/labels/<lang>.yaml``, keyed by the English label) with
site.yaml's ``labels`` over it; English needs none. A label is written in a template as ``{{ _("English text") }}``,
or ``{{ _("{count} stories", count=n) }}`` with values to fill in. Every label a template writes that the table lacks
is a warning at the template's line (:func:`missing_labels`), so a translator sees what is left to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_datetime, get_month_names
from jinja2 import Environment, TemplateSyntaxError, nodes
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from .config import SiteConfig, setting_lines
from .errors import Problem, warning
from .memo import BUNDLED

LABELS = Path(__file__).resolve().parent / "labels"


def primary(language: str) -> str:
    return language.split("-")[0].lower()


@cache
def bundled_table(language: str) -> dict[str, str]:
    """The bundled labels of *language* (``pt-BR`` falls back to ``pt``), or {}."""
    for name in (language.lower(), primary(language)):
        path = LABELS / f"{name}.yaml"
        if path.is_file():
            table = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return {str(key): str(value) for key, value in table.items()}
    return {}


def label_table(config: SiteConfig) -> dict[str, str]:
    """English label -> the text shown, for the site's language."""
    bundled = {} if primary(config.language) == "en" else bundled_table(config.language)
    return bundled | dict(config.labels)


class Translator:
    """``_(label, **values)``: *label* in the site's language, its ``{name}`` placeholders filled from *values*."""

    def __init__(self, config: SiteConfig) -> None:
        self.table = label_table(config)

    def __call__(self, label: str, **values: Any) -> str:
        text = self.table.get(label, label)
        try:
            return text.format(**values) if values else text
        except (KeyError, IndexError) as exc:  # a template's mistake, said at its line by the render stage
            given = ", ".join(values) or "none"
            raise ValueError(f'the label "{label}" needs a value for {{{exc.args[0]}}}, given {given}') from None


translator = cache(Translator)  # the site's Translator, made once per settings (feeds ask for it once an entry)


class Labels(Extension):
    """Translates ``_("literal")`` when a template is compiled: the call becomes the string it gives, so a page pays
    nothing for its labels. Calls with values or a computed label stay calls to the ``_`` global. Safe to cache:
    compiled templates are kept by the site's settings (``CompiledTemplates``), which hold ``language`` and ``labels``."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        translate: Translator = self.environment.globals["_"]  # type: ignore[assignment]
        tokens = list(stream)  # a template's tokens: a few thousand at most
        at = 0
        while at < len(tokens):
            token = tokens[at]
            call = [t.type for t in tokens[at + 1 : at + 4]] == ["lparen", "string", "rparen"]
            if token.type == "name" and token.value == "_" and call and not (at and tokens[at - 1].type == "dot"):  # not x._()
                yield Token(token.lineno, "string", translate(tokens[at + 2].value))
                at += 4
            else:
                yield token
                at += 1


@cache
def babel_locale(language: str) -> Locale:
    """Babel's locale for a language tag; English when Babel does not know it (load_site warns)."""
    try:
        return Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@cache
def og_locale(language: str) -> str:
    """OpenGraph's ``language_TERRITORY`` for a language tag: its own territory, else the likeliest (``en`` -> ``en_US``)."""
    try:
        locale = Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return language.replace("-", "_")
    likely = str(get_global("likely_subtags").get(locale.language, "")).split("_")
    territory = locale.territory or (likely[-1] if len(likely) > 1 and likely[-1].isupper() else "")
    return f"{locale.language}_{territory}" if territory else locale.language


def date_formatter(config: SiteConfig) -> Callable[[datetime], str]:
    """A date as the site's language writes it: English "May 7, 2026" (medium), others in full ("7 mai 2026"), since the
    medium form of many (Arabic among them) is digits only."""
    if config.language.lower() in ("en", "en-us"):  # Babel's own answer, five times faster: a large site formats thousands of dates
        return lambda moment: f"{moment:%b} {moment.day}, {moment.year}"
    locale = babel_locale(config.language)
    form = "medium" if primary(config.language) == "en" else "long"
    return lambda moment: format_date(moment, format=form, locale=locale)


def date_pattern(config: SiteConfig) -> Callable[[datetime, str], str]:
    """A moment in the site's zone written by a pattern, the ``date`` filter's argument: a CLDR pattern in the site's
    language (``"d MMMM y"``, ``"EEE HH:mm"``) or, when it has a ``%``, a ``strftime`` one (``"%Y-%m-%d"``)."""
    locale, zone = babel_locale(config.language), config.tz
    return lambda moment, pattern: moment.astimezone(zone).strftime(pattern) if "%" in pattern else format_datetime(moment, pattern, tzinfo=zone, locale=locale)


def month_names(config: SiteConfig) -> tuple[str, ...]:
    """January to December in the site's language, as a heading names them."""
    names = get_month_names("wide", context="stand-alone", locale=babel_locale(config.language))
    return tuple(names[number] for number in range(1, 13))


def language_problems(config: SiteConfig, templates: list[Path]) -> list[Problem]:
    """Warnings for a language Babel does not know and for every template label the table lacks, at ``template:line``."""
    if primary(config.language) == "en":
        return []
    problems: list[Problem] = []
    written = setting_lines(config)
    line = written.get("language", 0)
    try:
        Locale.parse(config.language, sep="-")
    except (UnknownLocaleError, ValueError):
        problems.append(warning(config.path, line, f'language: Babel knows no locale "{config.language}"; dates are written in English'))
    table = label_table(config)
    if not table:
        hint = f"; add labels: to site.yaml, or a digest/labels/{primary(config.language)}.yaml"
        return [*problems, warning(config.path, line, f'language: no translation table for "{config.language}", labels are shown in English{hint}')]
    used: dict[str, Path] = {}  # "templates/<name>" -> the file: the site's own hides the bundled one, unless it extends it
    for folder in templates:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".txt", ".xml") and p.is_file()):
            name = path.relative_to(folder).as_posix()
            own = used.get(f"templates/{name}")
            if own is None:
                used[f"templates/{name}"] = path
            elif f"bundled/{name}" in own.read_text(encoding="utf-8", errors="replace"):  # the site's extends the bundled one
                used[f"templates/bundled/{name}"] = path
    env = Environment()  # without Labels: the templates' _() calls as written
    english = "it is shown in English (add it to labels: in site.yaml)"
    bundled: dict[str, None] = {}  # the bundled templates' labels the table lacks: one warning, not one per line of files the site has not
    for shown, path in used.items():
        for at, label in template_labels(env, path):
            if label in table:
                continue
            if path.is_relative_to(BUNDLED):
                bundled[label] = None
            else:
                problems.append(warning(shown, at, f'no "{config.language}" translation for the label "{label}"; {english}'))
    if bundled:
        shown = ", ".join(f'"{label}"' for label in list(bundled)[:3]) + (f" and {len(bundled) - 3} more" if len(bundled) > 3 else "")
        every = "every label is a key of the generator's digest/labels/ar.yaml, to copy under labels: and translate"
        where = written.get("labels", line)  # else the language's line
        problems.append(
            warning(
                config.path,
                where,
                f'labels: {len(bundled)} labels of the bundled templates have no "{config.language}" translation and are shown in English: {shown}; {every}',
            )
        )
    return problems


def template_labels(env: Environment, path: Path) -> Iterator[tuple[int, str]]:
    """Every literal label of ``_()`` in a template, with its line (both branches of ``_("a" if x else "b")``); none for a
    template that cannot be read or parsed, whose error the render stage reports at its line."""
    try:
        tree = env.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TemplateSyntaxError):
        return
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args:
            arg = call.args[0]
            for const in (arg.expr1, arg.expr2) if isinstance(arg, nodes.CondExpr) else (arg,):
                if isinstance(const, nodes.Const) and isinstance(const.value, str):
                    yield call.lineno, const.value
