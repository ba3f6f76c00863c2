"""Problems and errors shared by every stage.

A stage never raises on bad *content*: it collects :class:`Problem` values so
that one run reports everything. A :class:`DigestError` ends a run; the CLI
prints it as plain lines, never as a traceback (unless ``--debug``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as ``path:line``."""

    path: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity.value}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(path: str, line: int, message: str) -> Problem:
    return Problem(path, line, Severity.ERROR, message)


def warning(path: str, line: int, message: str) -> Problem:
    return Problem(path, line, Severity.WARNING, message)


class DigestError(Exception):
    """Base of every error the generator reports to a person."""

    exit_code = 1


def plural(count: int, word: str, many: str = "") -> str:
    """'1 article', '2 articles', '1,000 errors': every count the user reads is written this way."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


class ContentError(DigestError):
    """The site's content or settings have errors; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(f"{plural(errors, 'error')}; nothing was written")


class UsageError(DigestError):
    """The command line or the site folder cannot be used as given."""

    exit_code = 2


class TemplateError(DigestError):
    """A template failed to compile or render."""


def unknown_keys(path: str, line: int, where: str, keys: Iterable[object], known: list[str]) -> list[Problem]:
    """A warning for each of *keys* (of a mapping in the input) not in *known*, with the closest known key."""
    unknown = [key for key in keys if key not in known]
    return [warning(path, line, f'{where}: unknown key "{key}"{did_you_mean(str(key), known)}; it is ignored') for key in unknown]


def did_you_mean(word: str, choices: list[str], known_as: dict[str, str] | None = None) -> str:
    """Return ' (did you mean "x"?)' for the closest choice, or ''. Case, "_" and "-" do not count (``baseURL`` is
    ``base_url``), and *known_as* names the choice a word means elsewhere (other generators' ``paginate``: ``per_page``)."""
    import difflib

    def folded(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    same = {folded(choice): choice for choice in choices} | {folded(other): choice for other, choice in (known_as or {}).items()}
    close = [same[folded(word)]] if folded(word) in same else difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
