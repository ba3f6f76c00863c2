"""``check``: validate the whole site, templates included, without writing anything.

Runs every stage a build runs, rendering pages in memory only. ``--strict``
makes warnings errors (for CI); ``--format json`` prints the problems as JSON
objects (path, line, severity, message) for editors and CI annotations.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..cli import add_site_options
from ..errors import ContentError, Problem, Severity, TemplateError
from ..site import load_site, render_site_files
from ..terminal import count_text, located_problem, problems_json
from .build import options_from, reporter_from

NAME = "check"
HELP = "check every article, link, image, setting and template without writing anything"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser)
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1 on any warning), for CI")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="print problems as text lines (default) or as a JSON array")


def find_problems(args: argparse.Namespace) -> tuple[int, list[Problem]]:
    """(articles checked, every problem found) for the site the arguments name."""
    try:
        site = load_site(options_from(args))
    except ContentError as exc:
        return 0, list(exc.problems)
    try:
        render_site_files(site)
    except TemplateError as exc:
        return len(site.articles), [*site.warnings, located_problem(str(exc))]
    return len(site.articles), list(site.warnings)


def run(args: argparse.Namespace) -> int:
    count, problems = find_problems(args)
    if args.strict:
        problems = [replace(p, severity=Severity.ERROR) for p in problems]
    problems.sort()
    failed = any(p.is_error for p in problems)
    if args.format == "json":
        print(problems_json(problems))
        return 1 if failed else 0
    report = reporter_from(args)
    report.problems(problems)
    if failed:
        print(f"Check failed: {count_text(problems)}", file=report.err)
        return 1
    report.info(f"Checked {count} articles: {count_text(problems)}")
    return 0
