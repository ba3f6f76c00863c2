"""``check``: run every stage a build runs, rendering pages in memory only, and report every problem; nothing is written."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..cli import add_site_options
from ..errors import ContentError, Problem, Severity, TemplateError, plural, warning
from ..terminal import Reporter, count_text, held_text, located_problem, problems_json, reader_gone
from .build import options_from
from .new import PLACEHOLDER_BODY, PLACEHOLDER_SOURCE

if TYPE_CHECKING:
    from ..schema import Article
    from ..stories import Story

NAME = "check"
HELP = "check every article, link, image, setting and template without writing anything"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser, output="the folder a build would write, checked to be one it may replace (default: site.yaml's output_dir)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1 on any warning), for CI")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="print problems as text lines (default) or as a JSON array")
    parser.add_argument(
        "--stories", action="store_true", help="also print every story with several reports: id, headline, reports, and the likeness that joined them"
    )


def find_problems(args: argparse.Namespace) -> tuple[int, list[Problem], dict[str, int]]:
    """(articles checked, every problem found, the articles held back) for the site the arguments name; with ``--stories``,
    the stories are printed."""
    from ..memo import NO_MEMO, Memo
    from ..site import load_site, output_refusal, plan_outputs, render_outputs  # the pipeline, loaded only when a command needs it

    options = options_from(args)
    refused = [found] if (found := output_refusal(options)) is not None else []  # the folder a build would write
    with contextlib.closing(Memo(options.source, read_only=True) if options.cache else NO_MEMO) as memo:  # the last build's, if any
        try:
            site = load_site(options, memo)
        except ContentError as exc:
            return 0, refused + list(exc.problems), {}
        if args.stories:  # beside a JSON report on stdout, on stderr
            print(stories_text(site.index.stories), file=sys.stderr if args.format == "json" else sys.stdout)
        problems = [*refused, *site.warnings, *find_placeholders(site.config.root, site.articles)]
        try:  # every page, feed and email rendered (a template's error shows only then) and dropped; share images use no template
            for _ in render_outputs(site, sorted(plan_outputs(site).keys() - site.copies.keys() - site.cards.keys()), options.jobs):
                pass
        except ContentError as exc:  # every page's template mistakes
            problems += exc.problems
        except TemplateError as exc:  # a feed's or an edition email's
            problems.append(located_problem(str(exc)))
    return len(site.articles), problems, site.held_back


def stories_text(stories: tuple[Story, ...]) -> str:
    """Each story of several reports, for an editor to confirm a found one or pin it with a ``story:`` id."""
    lines: list[str] = []
    for story in (s for s in stories if len(s.articles) > 1):
        how = "found by likeness" if not any(a.story == story.slug for a in story.articles) else "story: id" + (" + likeness" if story.found else "")
        lines.append(f"{story.slug}: {story.title} ({len(story.articles)} reports, {how})")
        lines += [f"  {a.date:%Y-%m-%d} {a.path}" + (f" [story: {a.story}]" if a.story else "") for a in story.timeline]
        lines += [f"  joined {one} + {other} at {score:.2f}" for one, other, score in story.joins]
    return "\n".join(lines) if lines else "No story has several reports."


def find_placeholders(root: Path, articles: list[Article]) -> list[Problem]:
    """Text that ``new`` writes for the editor to replace, left in an article that would be published."""
    problems: list[Problem] = []
    placeholder = re.compile(re.escape(PLACEHOLDER_SOURCE) + r"(?![^\s,\]'\"])")  # the URL itself, not a longer one of example.com
    for article in articles:
        lines = (root / article.path).read_text(encoding="utf-8-sig").split("\n")
        for number, line in enumerate(lines, start=1):
            if number < article.body_line and placeholder.search(line):
                problems.append(
                    warning(article.path, number, f"sources: {PLACEHOLDER_SOURCE} is the placeholder written by `new`; replace it with the story's source")
                )
            elif number >= article.body_line and line.strip() == PLACEHOLDER_BODY:
                problems.append(warning(article.path, number, f'"{PLACEHOLDER_BODY}" is the placeholder written by `new`; replace it with the story'))
    return problems


def run(args: argparse.Namespace) -> int:
    count, problems, held_back = find_problems(args)
    if args.strict:
        problems = [replace(p, severity=Severity.ERROR) for p in problems]
    failed = any(p.is_error for p in problems)
    try:
        if args.format == "json":
            print(problems_json(problems, sys.stdout.encoding))  # valid JSON on a console that cannot write UTF-8 too
        else:
            report = Reporter(args.quiet, args.verbose)
            report.problems(problems)
            if failed:
                print(f"Check failed: {count_text(problems)}", file=report.err)
            else:
                held = f" ({held})" if (held := held_text(held_back).removeprefix("; ")) else ""
                report.info(f"Checked {plural(count, 'article')}{held}: {count_text(problems)}")
    except BrokenPipeError:  # the reader stopped reading (`check | head`): the verdict stands, for `set -o pipefail`
        reader_gone()
    return 1 if failed else 0
