#!/usr/bin/env python3
"""Time an edit under ``serve``, as a browser sees it: ``python bench/serve.py --n 10000``.

Generates the synthetic site (bench/synth.py), starts ``build.py serve`` on a
free port of 127.0.0.1 and waits for its first build. Then, --runs times, it
appends a sentence to one article's body and polls that article's page until
the sentence is served, and prints the median time from the save to the page::

    scenario=serve-edit-body n=<N> pause_s=<p> median_s=<x>

--pause sets the time between the page showing an edit and the next save:
the search index is made once saves pause for a second, so a pause of a few
seconds times a save that comes while it is being made.

Only the loopback address is used; polling is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from run import compile_generator  # noqa: E402
from synth import article_text, make_site  # noqa: E402

POLL_SECONDS = 0.01
GIVE_UP_SECONDS = 120.0


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def wait_for(url: str, text: str, give_up: float) -> float:
    """Seconds until *text* appears in the page at *url* (polled), or raise after *give_up* seconds."""
    started = time.perf_counter()
    while time.perf_counter() - started < give_up:
        try:
            if text in fetch(url):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"gave up after {give_up:.0f} s waiting for {text!r} at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the synthetic site (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed edits; the median is printed (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between a page showing an edit and the next save (default 0.5)")
    args = parser.parse_args()
    compile_generator()
    with tempfile.TemporaryDirectory(prefix="digest-bench-serve-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        make_site(site, args.n, args.seed, share_images=False)  # an edit redraws no image: keep the first build short
        rel, _ = article_text(args.n, args.n // 2, args.seed)
        path = site / rel
        slug = path.stem
        command = [sys.executable, str(REPO / "build.py"), "serve", "--source", str(site), "--port", "0"]
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1800000000"}
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            assert server.stdout is not None
            base = ""
            for line in server.stdout:  # "Serving http://127.0.0.1:PORT/ (Ctrl-C to stop)" once the first build is served
                found = re.search(r"Serving (http://127\.0\.0\.1:\d+/)", line)
                if found:
                    base = found[1]
                    break
            if not base:
                raise SystemExit("serve did not start")
            topic = path.parent.name
            url = f"{base}{topic}/{slug}/"
            times = []
            for number in range(args.runs):
                marker = f"Edit number {number} for the benchmark."
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(f"\n{marker}\n")
                times.append(wait_for(url, marker, GIVE_UP_SECONDS))
                time.sleep(args.pause)  # a longer pause lets the search index be under way when the next save comes
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"scenario=serve-edit-body n={args.n} pause_s={args.pause} median_s={statistics.median(times):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
