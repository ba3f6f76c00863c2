#!/usr/bin/env python3
"""Benchmark the build on a synthetic site: ``python bench/run.py --n 10000``.

Generates a deterministic site of N articles (bench/synth.py) in a temporary
folder, then times each scenario as the median of --runs builds, each in a
fresh process (``python build.py``), and prints one line per scenario::

    scenario=<name> n=<N> median_s=<x> cpu_s=<c> peak_mib=<y> pages=<z>

``cpu_s`` is the median CPU time of the build and every process it waited for (workers, Pagefind's binary):
steadier than the wall time on a shared machine. ``peak_mib`` is the largest resident set of any one process of the build (the
main process or a worker), ``pages`` the HTML pages in the site. Pages per
second of the scenario go to stderr, and so does a gauge of the machine's
speed before and after (:func:`machine_speed`). Before every timed run of an
incremental scenario, an untimed build brings the output and cache up to date;
before a cold run, the last output and cache are moved aside (``--delete``:
deleted; see :meth:`Runner.reset`). The generator's modules are byte-compiled
first (``compileall``). The site has the settings a new user gets, share
images included; ``cold-no-images`` is the same cold build with
``share_images: false``, and ``cold-no-search`` with ``search: false``
(its difference from ``cold`` is what the search index costs).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from synth import article_text, make_site  # noqa: E402

SCENARIOS = ("cold", "cold-no-images", "cold-no-search", "nochange", "edit-body", "edit-tags", "add-article", "edit-template")


def run_build(site: Path, extra: list[str], build_py: Path = REPO / "build.py") -> tuple[float, float, str, float]:
    """(seconds, peak MiB of any one process, stdout, CPU seconds) of one build in a fresh process."""
    command = [sys.executable, str(build_py), "build", "--source", str(site), *extra]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1800000000", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # rusage covers the build and its workers
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(f"build failed ({proc.returncode}):\n{err.read().decode()}")
        text = out.read().decode()
    peak = usage.ru_maxrss / 1024
    return seconds, peak, text, usage.ru_utime + usage.ru_stime


class Runner:
    def __init__(self, site: Path, n: int, seed: int, extra: list[str], trash: Path | None = None) -> None:
        self.site = site
        self.n = n
        self.seed = seed
        self.extra = extra
        self.counter = 0
        self.trash = trash  # where reset() moves the last output and cache; None: it deletes them

    def build(self) -> tuple[float, float, str, float]:
        return run_build(self.site, self.extra)

    def reset(self) -> None:
        """Take away the output and the cache before a cold build.

        They are moved aside into *trash* rather than deleted: on an ext4
        without a journal (as on this machine), the kernel keeps freshly freed
        inodes from being reused for a few minutes, and each new file then
        steps over them one by one. After deleting the 27,000 files and
        folders of a 10,000-article site, creating them again took up to ten
        times as long, which would time the benchmark's own cleanup rather
        than the build.
        """
        for name in ("_site", ".digest-cache"):
            if self.trash is None:
                shutil.rmtree(self.site / name, ignore_errors=True)
            elif (self.site / name).exists():
                self.trash.mkdir(parents=True, exist_ok=True)
                os.rename(self.site / name, self.trash / f"{name}-{len(list(self.trash.iterdir()))}")

    def share_images(self, on: bool) -> None:
        """Turn the site's share images on (the default a new user gets) or off."""
        self.setting("share_images", on)

    def setting(self, key: str, on: bool) -> None:
        """Set a true/false setting of site.yaml."""
        path = self.site / "site.yaml"
        text = path.read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^{key}: .*\n", "", text) + f"{key}: {str(on).lower()}\n"
        path.write_text(text, encoding="utf-8")

    def edit_body(self) -> None:
        self.counter += 1
        path = self.site / article_text(self.n, self.n // 2, self.seed)[0]
        text = path.read_text(encoding="utf-8")
        path.write_text(text + f"\nA late paragraph, edit number {self.counter}.\n", encoding="utf-8")

    def edit_tags(self) -> None:
        self.counter += 1
        path = self.site / article_text(self.n, self.n // 3, self.seed)[0]
        text = path.read_text(encoding="utf-8")
        tags = ["Tag 000", "Tag 007", f"Tag {100 + self.counter % 50:03d}"]
        path.write_text(re.sub(r"(?m)^tags: .*$", f"tags: [{', '.join(tags)}]", text, count=1), encoding="utf-8")

    def add_article(self) -> None:
        self.counter += 1
        index = self.n + self.counter
        rel, text = article_text(self.n, index, self.seed)
        path = self.site / rel.replace("article-", "added-")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit_template(self) -> None:
        self.counter += 1
        target = self.site / "templates" / "_card.html"
        target.parent.mkdir(exist_ok=True)
        text = (REPO / "templates" / "_card.html").read_text(encoding="utf-8")
        target.write_text(f"{{# edit {self.counter} #}}\n" + text.replace("card-title", f"card-title edit-{self.counter}"), encoding="utf-8")


def timed_run(runner: Runner, scenario: str) -> tuple[float, float, str, float]:
    """One timed build of *scenario*: from nothing for "cold", else after an untimed build and the scenario's edit."""
    setup: dict[str, Callable[[], None]] = {
        "nochange": lambda: None,
        "edit-body": runner.edit_body,
        "edit-tags": runner.edit_tags,
        "add-article": runner.add_article,
        "edit-template": runner.edit_template,
    }
    if scenario == "cold-no-images":  # the same cold build with share_images: false
        runner.reset()
        runner.share_images(False)
        try:
            return runner.build()
        finally:
            runner.share_images(True)
    if scenario == "cold-no-search":  # the same cold build with search: false: the difference is what indexing costs
        runner.reset()
        runner.setting("search", False)
        try:
            return runner.build()
        finally:
            runner.setting("search", True)
    if scenario == "cold":
        runner.reset()
    else:
        runner.build()  # untimed: bring output and cache up to date
        setup[scenario]()
    return runner.build()


def measure(runner: Runner, scenario: str, runs: int) -> tuple[float, float, float, int]:
    """(median seconds, median CPU seconds, largest peak MiB, pages) of *runs* timed runs of *scenario*."""
    times: list[float] = []
    cpus: list[float] = []
    peaks: list[float] = []
    out = ""
    for _ in range(runs):
        seconds, peak, out, cpu = timed_run(runner, scenario)
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
    match = re.search(r"([\d,]+) pages", out)
    pages = int(match.group(1).replace(",", "")) if match else 0
    return statistics.median(times), statistics.median(cpus), max(peaks), pages


def compile_generator(checkout: Path = REPO) -> None:
    """Byte-compile the generator in *checkout* before timing it.

    As an installed package is (and as Python does by itself unless
    PYTHONDONTWRITEBYTECODE is set), so start-up is not timed as compilation.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "digest")], check=True)


def machine_speed() -> float:
    """Seconds a fixed pure-Python loop takes here, median of 3: this machine's speed drifts by half within an hour.

    Printed before and after the scenarios (to stderr), so that figures taken at
    different times can be put side by side.
    """
    times = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(5_000_000):
            total += step
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="articles in the synthetic site (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per scenario; the median is printed (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic site (default 1)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="ARG", help="extra argument passed to every build.py run (repeatable)")
    parser.add_argument("--no-share-images", dest="share_images", action="store_false", help="generate the site with share_images: false")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="run only these scenarios (repeatable)")
    parser.add_argument("--keep", type=Path, default=None, help="generate the site here and keep it, instead of a temporary folder")
    parser.add_argument(
        "--delete", action="store_true", help="delete the last output and cache before each cold build instead of moving them aside (see Runner.reset)"
    )
    args = parser.parse_args()
    extra: list[str] = args.build_arg
    compile_generator()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        site = args.keep or Path(tmp) / "site"
        if site.exists():
            shutil.rmtree(site)
        site.mkdir(parents=True)
        make_site(site, args.n, args.seed, args.share_images)
        trash = site.parent / f".{site.name}-trash"  # beside the site: moving into it is a rename
        runner = Runner(site, args.n, args.seed, extra, None if args.delete else trash)
        print(f"  machine: a fixed loop took {machine_speed():.3f} s before the scenarios", file=sys.stderr, flush=True)
        for scenario in args.scenario or SCENARIOS:
            median, cpu, peak, pages = measure(runner, scenario, args.runs)
            print(f"scenario={scenario} n={args.n} median_s={median:.3f} cpu_s={cpu:.2f} peak_mib={peak:.0f} pages={pages}", flush=True)
            print(f"  {scenario}: {pages / median:.0f} pages/s", file=sys.stderr, flush=True)
        print(f"  machine: a fixed loop took {machine_speed():.3f} s after them", file=sys.stderr, flush=True)
        shutil.rmtree(trash, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
