"""``build``: build the site into its output folder (the default verb)."""

from __future__ import annotations

import argparse
import time

from ..cli import add_site_options
from ..options import BuildOptions
from ..terminal import Reporter, summary

NAME = "build"
HELP = "build the site (the default when no verb is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser)
    parser.add_argument("--base-url", default=None, metavar="URL", help="publish at this URL for this build only (previews), instead of site.yaml's base_url")
    parser.add_argument("--relative", action="store_true", help="make internal links relative, so the output folder also works opened from disk")
    parser.add_argument("--no-cache", dest="cache", action="store_false", help="build everything from scratch, without reading or writing the build cache")


def options_from(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        source=args.source,
        output=args.output,
        include_drafts=args.drafts,
        include_future=args.future,
        base_url=getattr(args, "base_url", None),
        relative=getattr(args, "relative", False),
        jobs=max(1, args.jobs),
        cache=getattr(args, "cache", True),
    )


def run(args: argparse.Namespace) -> int:
    from ..state import inputs_state, unchanged_build

    report = Reporter(args.quiet, args.verbose)
    options = options_from(args)
    try:
        # Nothing changed: answered before the pipeline's modules are even imported.
        started = time.perf_counter()
        state = inputs_state(options) if options.cache else None
        result = unchanged_build(options, state, started) if state is not None else None
        if result is None:
            from ..site import build_site

            result = build_site(options, report.progress, state=state)
    finally:
        report.finish()
    report.problems(result.warnings)
    report.info(summary(result))
    return 0
