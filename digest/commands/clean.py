"""``clean``: remove the output folder and the build cache."""

from __future__ import annotations

import argparse
import shutil
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
    from ..memo import CACHE_DIR
    from ..output import check_output_dir, remove_output

    config, _ = load_config(args.source)
    output = config.output_folder(args.output)
    check_output_dir(output, config.root)
    removed = [str(output)] if remove_output(output) else []
    cache = config.root / CACHE_DIR
    if cache.is_dir() and not cache.is_symlink():
        shutil.rmtree(cache)
        removed.append(str(cache))
    if not args.quiet:
        print(f"Removed {' and '.join(removed)}" if removed else f"Nothing to remove at {output}")
    return 0
