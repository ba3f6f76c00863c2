"""``edition``: where one edition's page and email copies are, and what the email holds, so an editor can check it before sending."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import date
from pathlib import Path

from ..cli import add_site_options
from ..errors import UsageError
from .build import options_from

NAME = "edition"
HELP = "show where an edition's page and email copies are, with its stories and size"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-03-30, found {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser, output="the built site to find the edition's files in (default: site.yaml's output_dir)")
    parser.add_argument("--date", type=_day, default=None, metavar="YYYY-MM-DD", help="the edition of this day, or of its week (default: the latest)")
    parser.add_argument("--weekly", action="store_true", help="the weekly edition instead of the daily one")


def run(args: argparse.Namespace) -> int:
    from ..editions import EMAIL_LIMIT, EmailRenderer, edition_key
    from ..output import url_to_relpath
    from ..site import load_site

    site = load_site(options_from(args))
    config = site.config
    kind = "weekly" if args.weekly else "daily"
    if kind not in config.editions:
        raise UsageError(f'the site publishes no {kind} editions; add {kind} to "editions" in site.yaml (it lists [{", ".join(config.editions)}])')
    listed = [e for e in site.editions if e.kind == kind]
    if not listed:
        raise UsageError(f"there is no {kind} edition yet: the site has no published articles")
    key = listed[0].key if args.date is None else edition_key(kind, args.date)[0]
    edition = next((e for e in listed if e.key == key), None)
    if edition is None:  # only for a --date: the latest is listed
        period = "that day" if kind == "daily" else "that week"
        nearest = min(listed, key=lambda e: (abs(e.first - args.date), e.first)).first.isoformat()
        raise UsageError(
            f"there is no {kind} edition for {args.date.isoformat()}: no article was published {period} in the site's time zone ({config.timezone});"
            f" the nearest is --date {nearest}, the latest --date {listed[0].first.isoformat()}"
        )
    email = EmailRenderer(config).render(edition)
    output = config.output_folder(args.output)
    page, html, text = (output / url_to_relpath(url) for url in (edition.url, edition.email_html, edition.email_text))
    print(f"{edition.title} — {edition.counts}")
    print(f"  page        {page}")
    shown = "every story" if email.shown == edition.story_count else f"{email.shown} stories, the rest linked on the web"
    print(f"  email.html  {html}  ({size(len(email.html))} of at most {size(EMAIL_LIMIT)}; {shown})")
    print(f"  email.txt   {text}  ({size(len(email.text))})")
    for group in edition.topics:
        for item in group.stories:
            print(f"  - {group.topic.name}: {item.article.title}" + (f" ({item.count} reports)" if item.count > 1 else ""))
    if not all(path.is_file() for path in (page, html, text)):
        same = ["--source", shlex.quote(str(args.source))] + [flag for flag, on in (("--drafts", args.drafts), ("--future", args.future)) if on]
        same += ["--output", shlex.quote(str(args.output))] if args.output else []  # the build that makes this edition, into this folder
        program = "python3 build.py" if sys.argv[0].endswith(".py") else f"{Path(sys.argv[0]).name} build"  # the installed command: digest build
        print(f"note: not all of these files are built yet; run `{program} {' '.join(same)}` first")
    return 0


def size(count: int) -> str:
    return f"{count / 1000:.1f} KB"
