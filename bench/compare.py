#!/usr/bin/env python3
"""Compare the working tree with another revision, alternating: ``python bench/compare.py --base HEAD~3 --n 10000``.

This machine's speed drifts by 10-20% within minutes, so figures taken at
different times cannot be compared. This checks out *--base* into a temporary
git worktree, generates the synthetic site twice (one copy, with its own
cache, for each side), and times each scenario in turns: base, ours, base,
ours... (each run in a fresh process, after an untimed build that brings the
output and cache up to date, as ``bench/run.py`` does). It prints one line
per scenario::

    scenario=<name> n=<N> base_s=<median> ours_s=<median> ratio=<ours/base>
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
from synth import make_site  # noqa: E402


class Side(bench.Runner):
    """One side of the comparison: a copy of the site built by one checkout of the generator."""

    def __init__(self, generator: Path, site: Path, n: int, seed: int, extra: list[str]) -> None:
        super().__init__(site, n, seed, extra, site.parent / f"trash-{site.name}")
        self.generator = generator

    def build(self) -> tuple[float, float, str, float]:
        return bench.run_build(self.site, self.extra, self.generator / "build.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with (e.g. main, HEAD~2, a commit)")
    parser.add_argument("--n", type=int, default=1000, help="articles in the synthetic site (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per scenario and side; medians are printed (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-share-images", dest="share_images", action="store_false", help="generate the site with share_images: false")
    parser.add_argument("--scenario", action="append", choices=bench.SCENARIOS, help="run only these scenarios (repeatable)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="ARG", help="extra argument passed to every build.py run (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-compare-") as tmp:
        root = Path(tmp)
        base = root / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            for checkout in (base, REPO):
                bench.compile_generator(checkout)
            (root / "site-base").mkdir()
            make_site(root / "site-base", args.n, args.seed, args.share_images)
            shutil.copytree(root / "site-base", root / "site-ours")
            sides = [Side(base, root / "site-base", args.n, args.seed, args.build_arg), Side(REPO, root / "site-ours", args.n, args.seed, args.build_arg)]
            for scenario in args.scenario or bench.SCENARIOS:
                times: list[list[float]] = [[], []]
                for _ in range(args.runs):
                    for number, side in enumerate(sides):
                        times[number].append(bench.timed_run(side, scenario)[0])
                medians = [statistics.median(t) for t in times]
                print(f"scenario={scenario} n={args.n} base_s={medians[0]:.3f} ours_s={medians[1]:.3f} ratio={medians[1] / medians[0]:.3f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
