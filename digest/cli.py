"""Command line: ``python build.py [build|check|clean|serve|new|edition] [options]``.

Parses arguments and dispatches to one module per verb in
``digest.commands``. Exit codes: 0 success, 1 content errors, 2 usage errors.
A content problem never prints a traceback; ``--debug`` shows one for bugs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ContentError, DigestError, did_you_mean
from .terminal import Reporter, reader_gone


def worker_count(text: str) -> int:
    """``--jobs``: a whole number of worker processes, 1 or more."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f'expected a number of worker processes, 1 or more, found "{text}"')
    return int(text)


def add_site_options(parser: argparse.ArgumentParser, output: str = "write the site here instead of site.yaml's output_dir") -> None:
    parser.add_argument(
        "--source", "-s", type=Path, default=Path("."), metavar="DIR", help="site folder with site.yaml and content/ (default: the current folder)"
    )
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="DIR", help=output)
    parser.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
    parser.add_argument("--future", action="store_true", help="include articles dated in the future")
    parser.add_argument(
        "--jobs",
        "-j",
        type=worker_count,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes for reading articles and rendering Markdown and pages (default: the number of cores)",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    loudness.add_argument("--verbose", "-v", action="store_true", help="also print how long each stage took")


def main(argv: Sequence[str] | None = None) -> int:
    from .commands import build, check, clean, edition, new, serve

    parser = argparse.ArgumentParser(description="Build an AI news digest site from Markdown articles.")
    verbs = parser.add_subparsers(dest="verb", metavar="{build,check,clean,serve,new,edition}")
    for module in (build, check, clean, serve, new, edition):
        sub = verbs.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in verbs.choices:  # a verb mistyped: not build's argument
        parser.error(f'expected a command ({", ".join(verbs.choices)}), found "{args_list[0]}"{did_you_mean(args_list[0], list(verbs.choices))}')
    if not args_list or args_list[0] not in {*verbs.choices, "-h", "--help"}:
        args_list.insert(0, "build")
    args, extra = parser.parse_known_args(args_list)
    if misplaced := [word for word in extra if word in verbs.choices]:  # "-q build": options before the command
        parser.error(f'expected the command first, found "{misplaced[0]}" after options: write {parser.prog} {misplaced[0]} [options]')
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    run: Callable[[argparse.Namespace], int] = args.run
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop (timeout, a cancelled CI job) cleans up as Ctrl-C does
    try:
        return run(args)
    except ContentError as exc:
        Reporter().problems(exc.problems)
        print(f"{args.verb.capitalize()} failed: {exc}", file=sys.stderr)
        return exc.exit_code
    except DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted; the previous output was left as it was.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`build | head`): nothing more to say
        reader_gone()
        return 0
    except ModuleNotFoundError as exc:
        if args.debug:
            traceback.print_exc()
        print(f'error: the package that provides "{exc.name}" is not installed: run python3 -m pip install -r requirements.txt', file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        else:
            print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", file=sys.stderr)
        return 1
