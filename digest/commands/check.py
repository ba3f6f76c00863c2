"""``check``: validate the whole site without writing anything."""

from __future__ import annotations

import argparse

from ..cli import add_site_options, print_problems
from ..site import load_site
from .build import options_from

NAME = "check"
HELP = "check every article and setting without writing anything"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser)


def run(args: argparse.Namespace) -> int:
    site = load_site(options_from(args))
    print_problems(site.warnings)
    print(f"Checked {len(site.articles)} articles: no errors, {len(site.warnings)} warning{'s' if len(site.warnings) != 1 else ''}")
    return 0
