"""``clean``: remove the output folder and the build cache."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

NAME = "clean"
HELP = "remove the output folder and the build cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", "-s", type=Path, default=Path("."), metavar="DIR", help="site folder (default: the current folder)")
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="DIR", help="output folder to remove (default: site.yaml's output_dir)")
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing")


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..errors import ContentError, UsageError
    from ..memo import CACHE_DIR
    from ..options import BuildOptions
    from ..output import check_output_dir, output_lock, remove_output
    from ..site import output_refusal

    config, _ = load_config(args.source)
    output = config.output_folder(args.output)
    try:
        if (refused := output_refusal(BuildOptions(args.source, args.output))) is not None:  # site.yaml's output_dir: at its line
            raise ContentError([refused])
        check_output_dir(output, config.root)
    except UsageError as exc:
        raise UsageError(str(exc).replace("refusing to replace", "refusing to remove")) from None
    cache = config.root / CACHE_DIR
    waiting = lambda: print(f"Waiting for the build into {output} to finish…", file=sys.stderr, flush=True)  # noqa: E731
    with output_lock(output, waiting):  # never while a build publishes: it would report a site half removed
        target = output.resolve()  # a link to the folder (_site -> /var/www/digest): the folder, which the build writes
        removed = [f"{output} (the folder it links to, {target})" if output.is_symlink() else str(output)] if remove_output(target) else []
        if cache.is_dir() and not cache.is_symlink():
            shutil.rmtree(cache, ignore_errors=True)  # a build still reading it may add and drop files meanwhile
            removed.append(str(cache))
    if left := [str(path) for path in (target, cache) if path.exists() and not path.is_symlink()]:
        print(f"error: could not remove everything in {' and '.join(left)} (a file without write permission?)", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"Removed {' and '.join(removed)}" if removed else f"Nothing to remove at {output}")
    return 0
