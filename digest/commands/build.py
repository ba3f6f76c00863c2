"""``build``: build the site into its output folder (the default verb)."""

from __future__ import annotations

import argparse

from ..cli import add_site_options, print_problems
from ..site import BuildOptions, build_site

NAME = "build"
HELP = "build the site (the default when no verb is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser)


def options_from(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(source=args.source, output=args.output, include_drafts=args.drafts, include_future=args.future)


def run(args: argparse.Namespace) -> int:
    result = build_site(options_from(args))
    print_problems(result.warnings)
    print(f"Built {result.articles} articles into {result.pages} pages ({result.files} files) in {result.seconds:.2f} s -> {result.output}")
    return 0
