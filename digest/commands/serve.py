"""``serve``: read the command line and run :mod:`digest.preview`; Ctrl-C or SIGTERM stops it and removes its temporary folder."""

from __future__ import annotations

import argparse
import signal
import sys

from ..cli import add_site_options
from ..terminal import Reporter
from .build import options_from

NAME = "serve"
HELP = "serve the site locally, rebuilding and reloading the browser on every change"


def port_number(text: str) -> int:
    """``--port``'s value: 0 to 65535, checked before the site is built."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f'expected a port from 0 to 65535, found "{text}"')
    return int(text)


def host_address(text: str) -> str:
    """``--host``'s value: an empty one (an unset ``$HOST``) would listen on every network, so it is said outright."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected an address such as 127.0.0.1, found nothing (to listen on every network, say 0.0.0.0)")
    return text.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_options(parser, output="ignored: serve builds into a temporary folder of its own")
    parser.add_argument("--port", "-p", type=port_number, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    parser.add_argument("--host", type=host_address, default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")


def run(args: argparse.Namespace) -> int:
    if args.output is not None:
        print("note: serve builds into a temporary folder; --output is ignored", file=sys.stderr)
    # SIGTERM stops the server cleanly (digest.cli); SIGINT too, because a shell may start a background job with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from ..preview import run_preview

        run_preview(options_from(args), args.host, args.port, Reporter(args.quiet, args.verbose))
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port} ({exc.strerror or exc})", file=sys.stderr)
        return 2
    return 0
