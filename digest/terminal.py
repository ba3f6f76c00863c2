"""Terminal output for the command line: problems, progress and summaries.

In: problems and stage names from the pipeline. Out: lines on stdout/stderr.
Colors only when the stream is a terminal, ``NO_COLOR`` is not set (or empty) and ``TERM`` is not ``dumb``; a
progress bar only on a terminal, plain lines otherwise, and only once a build
has taken more than a second (quick builds stay quiet).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from itertools import groupby
from typing import TextIO

from .errors import Problem, error, plural
from .options import BuildResult

# The stages a build reports, in order (see digest.site); drives the bar's length.
STAGES = ("reading articles", "rendering Markdown", "indexing", "planning pages", "rendering pages", "writing files")
PROGRESS_AFTER = 1.0  # seconds before any progress is shown
_LOCATED = re.compile(r"^(?P<path>[^:\n ]+):(?:(?P<line>\d+):)? (?P<message>.*)$", re.S)  # the line may be missing
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ufffe\uffff]")  # a line break too: a message is one line, never a CI log's command


def format_problems(problems: Sequence[Problem], color: bool = False) -> list[str]:
    """``path:line: severity: message`` lines, grouped by file, a blank line between files."""
    lines: list[str] = []
    for _, group in groupby(sorted(problems), key=lambda p: p.path):
        if lines:
            lines.append("")
        for problem in group:
            text = escape_controls(str(problem))
            if color:
                code = "31" if problem.is_error else "33"
                text = text.replace(f": {problem.severity.value}:", f": \033[1;{code}m{problem.severity.value}\033[0m:", 1)
            lines.append(text)
    return lines


def escape_controls(text: str) -> str:
    """*text* with control characters (line breaks included) written as escapes, so that no message from an article can drive
    the terminal or forge a line of the log."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def count_text(problems: Sequence[Problem]) -> str:
    """'2 errors, 1 warning in 2 files'."""
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    files = len({p.path for p in problems})
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(files, 'file')}" if problems else "no errors, no warnings"


def some_of(names: list[str]) -> str:
    """The first five of *names*, and how many more, for a message."""
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def located_problem(text: str) -> Problem:
    """An error message such as a TemplateError's ``path:line: message`` as a Problem."""
    match = _LOCATED.match(text)
    return error(match["path"], int(match["line"] or 0), match["message"]) if match else error("", 0, text)


def problems_json(problems: Sequence[Problem], encoding: str | None = "utf-8") -> str:
    """The problems as a JSON array of {path, line, severity, message} objects; other than UTF-8 *encoding*, as \\u escapes."""
    utf8 = (encoding or "").lower().replace("-", "").replace("_", "") == "utf8"
    return json.dumps([asdict(p) for p in sorted(problems)], indent=2, ensure_ascii=not utf8)


class Reporter:
    """What one command prints: ``quiet`` keeps only errors, ``verbose`` adds stage timings."""

    def __init__(self, quiet: bool = False, verbose: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.tty = bool(getattr(self.err, "isatty", lambda: False)())
        self.color = self.tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"  # https://no-color.org: set and not empty
        self.bar_shown = False
        self.begin()

    def begin(self) -> None:
        """Start timing a new build (the dev server builds many times)."""
        self.started = self.stage_started = time.perf_counter()
        self.stage = ""

    def problems(self, problems: Sequence[Problem]) -> None:
        for line in format_problems([p for p in problems if p.is_error or not self.quiet], self.color):
            print(line, file=self.err)

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def detail(self, text: str) -> None:
        if self.verbose:
            print(text, file=self.err, flush=True)

    def progress(self, stage: str) -> None:
        """Called as each build stage starts."""
        now = time.perf_counter()
        if self.stage:
            self.detail(f"  {self.stage}: {now - self.stage_started:.2f} s")
        self.stage, self.stage_started = stage, now
        if self.quiet or self.verbose or now - self.started < PROGRESS_AFTER:
            return
        if not self.tty:
            print(f"{stage}…", file=self.err, flush=True)
            return
        done = STAGES.index(stage) if stage in STAGES else 0
        filled = 24 * done // len(STAGES)  # of a bar 24 wide
        print(f"\r\033[K[{'#' * filled}{'-' * (24 - filled)}] {done}/{len(STAGES)} {stage}…", end="", file=self.err, flush=True)
        self.bar_shown = True

    def finish(self) -> None:
        """End the progress display (clear the bar) and report the last stage's time."""
        if self.stage:
            self.detail(f"  {self.stage}: {time.perf_counter() - self.stage_started:.2f} s")
            self.stage = ""
        if self.bar_shown:
            print("\r\033[K", end="", file=self.err, flush=True)
            self.bar_shown = False


def summary(result: BuildResult) -> str:
    """The line a build ends with: what was built, what was held back, how long it took, where it went."""
    made = f"{plural(result.articles, 'article')} into {plural(result.pages, 'page')} ({plural(result.files, 'file')}"
    line = {"unchanged": f"Nothing changed: {made}) up to date", "update": f"Built {made}, {result.written:,} rendered)"}.get(result.mode, f"Built {made})")
    return f"{line}{held_text(result.held_back)} in {result.seconds:.2f} s -> {result.output}"


def held_text(held_back: dict[str, int]) -> str:
    """ "; held back: 1 draft, 2 future" for the articles the publish filter kept out, or ""."""
    held = [plural(n, name[:-1] if name.endswith("s") else name, name) for name, n in held_back.items() if n]
    return "; held back: " + ", ".join(held) if held else ""


def reader_gone() -> None:
    """After a BrokenPipeError: stdout's reader went away (``| head``); point stdout at nothing, so that flushing it at exit does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
