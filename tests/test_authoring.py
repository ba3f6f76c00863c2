"""Authoring verbs and rules: new, check (--strict, --format json), clean, drafts, future dates, expiry, terminal output."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file, parse

from digest.cli import main
from digest.errors import error, warning
from digest.site import BuildResult
from digest.terminal import Reporter, format_problems


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- drafts, future dates, expiry -------------------------------------------------


def listed_links(out: Path, url: str) -> set[str]:
    return {a["href"] for a in parse(page_file(out, url)).select("main a[href]")}  # type: ignore[misc]


def test_drafts_and_future_articles_are_left_out_unless_asked(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("authoring")
    build(site)
    out = tmp_path / "out"
    assert not page_file(out, "/research/unfinished-draft/").exists()
    assert not page_file(out, "/research/scheduled-story/").exists()
    assert "/digest/research/unfinished-draft/" not in listed_links(out, "/topics/research/")

    build(site, include_drafts=True, include_future=True)
    assert page_file(out, "/research/unfinished-draft/").exists()
    assert page_file(out, "/research/scheduled-story/").exists()
    assert {"/digest/research/unfinished-draft/", "/digest/research/scheduled-story/"} <= listed_links(out, "/topics/research/")


def test_a_mistyped_year_in_an_update_or_correction_and_a_source_listed_twice_are_warnings(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    site = copy_site("authoring")
    article = site / "content/policy/eu-rules.md"
    text = article.read_text(encoding="utf-8").replace("date: 2026-03-02\n", "date: 2026-03-02\nupdated: 2126-03-04\n")
    text = text.replace("    official: true\n", "    official: true\n  - https://example.eu/press/rules\n", 1)
    text = text.replace("summary:", "corrections:\n  - date: 2126-03-05\n    text: A date a century out.\nsummary:")
    article.write_text(text, encoding="utf-8")
    result = build(site)
    assert [re.sub(r"today \(\d{4}-\d\d-\d\d\)", "today", str(w)) for w in result.warnings if "eu-rules" in w.path] == [
        "content/policy/eu-rules.md:4: warning: updated: expected a date no later than today, found 2126-03-04",
        "content/policy/eu-rules.md:10: warning: sources: expected each source once, found https://example.eu/press/rules again (first on line 7)",
        "content/policy/eu-rules.md:13: warning: corrections: expected a date no later than today, found 2126-03-05",
    ]
    page = parse(page_file(tmp_path / "out", "/policy/eu-rules/"))
    assert [a["href"] for a in page.select(".sources > li > a")] == ["https://example.eu/press/rules"]  # type: ignore[misc]


def test_an_expired_article_leaves_lists_but_keeps_its_page_marked_expired(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    build(copy_site("authoring"))
    out = tmp_path / "out"
    for url in ("/", "/topics/policy/", "/tags/eu/", "/archive/2026/01/", "/sources/consult-example-eu/"):
        links = listed_links(out, url)
        assert "/digest/policy/old-deadline/" not in links, url
    # Not yet expired: still listed.
    assert "/digest/policy/open-consultation/" in listed_links(out, "/topics/policy/")
    page = parse(page_file(out, "/policy/old-deadline/"))
    note = page.select_one(".expired-note")
    assert note is not None and "expired on Jan 10, 2026" in note.get_text(" ", strip=True)
    assert page.select_one(".expired-note time")["datetime"].startswith("2026-01-10")  # type: ignore[index]
    assert parse(page_file(out, "/policy/open-consultation/")).select_one(".expired-note") is None
    # Every link on the expired page still resolves.
    for a in page.select("main a[href^='/digest/']"):
        assert page_file(out, str(a["href"]).removeprefix("/digest")).exists(), a["href"]


def test_expires_before_the_date_is_an_error(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    article = site / "content/policy/old-deadline.md"
    article.write_text(article.read_text().replace("expires: 2026-01-10", "expires: 2025-12-31"))
    code, _, err = run_cli(["check", "--source", str(site)], capsys)
    assert code == 1
    assert "content/policy/old-deadline.md:4: error: expires: expected a date after the publication date 2026-01-05, found 2025-12-31" in err


# --- new ------------------------------------------------------------------------


def test_new_writes_a_valid_draft_and_never_overwrites(
    copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = copy_site("authoring")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1779573600")  # 2026-05-23T22:00Z: already the 24th in Paris
    args = ["new", 'Lab ships "Atlas": a model', "--topic", "research", "--tags", "agents, Atlas", "--source", "https://lab.example/atlas", "--site", str(site)]
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    path = site / "content/research/lab-ships-atlas-a-model.md"
    assert out.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert "date: 2026-05-24\n" in text and "draft: true\n" in text
    assert "topic:" not in text  # its folder names the topic: moved to another folder, it moves topic
    assert 'title: "Lab ships \\"Atlas\\": a model"' in text

    # Valid front matter: a check with drafts included finds no error, only the body still to write.
    code, out, _ = run_cli(["check", "--drafts", "--format", "json", "--source", str(site)], capsys)
    assert code == 0
    assert json.loads(out) == [
        {
            "path": "content/research/lab-ships-atlas-a-model.md",
            "line": 13,
            "severity": "warning",
            "message": '"Write the story here." is the placeholder written by `new`; replace it with the story',
        }
    ]
    # It is a draft: a normal build leaves it out; with --drafts it is published with its tags and source.
    code, out, _ = run_cli(["build", "--drafts", "--source", str(site), "--output", str(site.parent / "out")], capsys)
    page = parse(page_file(site.parent / "out", "/research/lab-ships-atlas-a-model/"))
    assert page.h1 is not None and page.h1.get_text() == 'Lab ships "Atlas": a model'
    assert [a.get_text() for a in page.select("a[rel=tag]")] == ["agents", "Atlas"]
    assert page.select_one("ol.sources a")["href"] == "https://lab.example/atlas"  # type: ignore[index]

    before = path.read_bytes()
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "already exists" in err
    assert path.read_bytes() == before
    # A topic "folder" that is a file: a usage error naming the file it could not write, not an internal error.
    (site / "content/research").rename(site / "research-aside")
    (site / "content/research").write_text("not a folder", encoding="utf-8")
    code, _, err = run_cli([*args[:1], "Another story", *args[2:]], capsys)
    assert code == 2 and f"{site}/content/research/another-story.md: cannot write the file (File exists)" in err


def test_new_refuses_a_topic_not_in_site_yaml(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    code, _, err = run_cli(["new", "Anything", "--topic", "polcy", "--site", str(site)], capsys)
    assert code == 2 and 'did you mean "policy"' in err
    assert not (site / "content/polcy").exists()


def test_a_site_folder_that_is_not_there_is_a_usage_error_for_every_command(
    copy_site: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --source (or new's --site) says which folder is missing, not that content/ has no articles; nothing is made."""
    missing, a_file = tmp_path / "typo-site", copy_site("authoring") / "site.yaml"
    for folder, found in ((missing, "found nothing there"), (a_file, "found a file")):
        for args in (
            ["build", "-s", str(folder)],
            ["check", "-s", str(folder)],
            ["edition", "-s", str(folder)],
            ["new", "A story", "-t", "policy", "-s", str(folder)],
        ):
            code, _, err = run_cli(args, capsys)
            assert code == 2 and f"{folder}: expected a site folder" in err and found in err and "internal error" not in err, (args, err)
    assert not missing.exists()


# --- check ------------------------------------------------------------------------


def add_problems(site: Path) -> None:
    """A warning (topic missing from site.yaml, unknown field) and two errors (missing article and image)."""
    (site / "content/hardware").mkdir()
    (site / "content/hardware/chips.md").write_text(
        "---\ntitle: Chips\ndate: 2026-03-03\ntags: [chips]\nsources: [https://chips.example/]\nconfidence: 70\nauthr: Desk\n---\nAbout chips.\n"
    )
    broken = site / "content/policy/eu-rules.md"
    broken.write_text(
        broken.read_text().replace(
            "See also [the benchmark explainer](../research/benchmarks.md).",
            "See also [the missing one](../research/nope.md).\n\n![chart](chart.png)",
        )
    )


def test_check_writes_nothing_and_passes_a_clean_site(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    code, out, _ = run_cli(["check", "--strict", "--source", str(site)], capsys)
    assert code == 0 and "Checked 4 articles (held back: 1 draft, 1 future, 1 expired): no errors, no warnings" in out  # as build says
    assert not (site / "_site").exists()


def test_check_warnings_pass_unless_strict(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    add_problems(site)
    (site / "content/policy/eu-rules.md").write_text((site / "content/policy/eu-rules.md").read_text().replace("![chart](chart.png)", ""))
    (site / "content/policy/eu-rules.md").write_text(
        (site / "content/policy/eu-rules.md").read_text().replace("../research/nope.md", "../research/benchmarks.md")
    )
    code, _, err = run_cli(["check", "--source", str(site)], capsys)
    assert code == 0
    assert 'content/hardware/chips.md:1: warning: topic "hardware" is not listed under "topics" in site.yaml' in err
    assert 'content/hardware/chips.md:7: warning: unknown field "authr" (did you mean "author"?)' in err
    code, _, err = run_cli(["check", "--strict", "--source", str(site)], capsys)
    assert code == 1
    assert 'content/hardware/chips.md:7: error: unknown field "authr"' in err


def test_check_json_lists_every_problem_with_path_line_and_severity(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    add_problems(site)
    code, out, _ = run_cli(["check", "--format", "json", "--source", str(site)], capsys)
    assert code == 1
    problems = json.loads(out)
    assert all(set(p) == {"path", "line", "severity", "message"} for p in problems)
    found = {(p["path"], p["line"], p["severity"]) for p in problems}
    assert ("content/policy/eu-rules.md", 13, "error") in found  # the link to a missing article
    assert ("content/policy/eu-rules.md", 15, "error") in found  # the missing image
    assert ("content/hardware/chips.md", 7, "warning") in found
    messages = " ".join(p["message"] for p in problems)
    assert "no published article at content/research/nope.md" in messages
    assert "expected a file at content/policy/chart.png" in messages

    code, out, _ = run_cli(["check", "--format", "json", "--strict", "--source", str(site)], capsys)
    assert {p["severity"] for p in json.loads(out)} == {"error"}


def test_check_json_is_an_empty_list_for_a_clean_site(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["check", "--format", "json", "--source", str(copy_site("authoring"))], capsys)
    assert code == 0 and json.loads(out) == []


def test_check_reports_a_template_error_with_its_line(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    (site / "templates").mkdir()
    (site / "templates/404.html").write_text('{% extends "base.html" %}\n{% block main %}\n{{ no_such_thing }}\n{% endblock %}\n')
    code, out, _ = run_cli(["check", "--format", "json", "--source", str(site)], capsys)
    assert code == 1
    [problem] = json.loads(out)
    assert problem["path"].endswith("templates/404.html") and problem["line"] == 3


def test_check_reads_the_last_builds_memo_and_writes_nothing(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from digest.memo import CACHE_DIR, DB_NAME

    site = copy_site("authoring")
    build(site)
    database = site / CACHE_DIR / DB_NAME

    def files() -> dict[str, bytes]:
        return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file() and "_site" not in p.parts}

    before = files()
    assert run_cli(["check", "--source", str(site)], capsys)[0] == 0
    assert files() == before
    with sqlite3.connect(database) as db:  # a memo another version of the generator left: not used, and not emptied either
        db.execute("UPDATE meta SET value = ? WHERE name = 'version'", (b"another version",))
    db.close()
    before = files()
    rows = sqlite3.connect(database).execute("SELECT COUNT(*) FROM memo").fetchone()[0]
    assert rows > 0
    code, out, _ = run_cli(["check", "--source", str(site)], capsys)
    assert code == 0 and out.startswith("Checked ")
    assert files() == before


# --- clean ----------------------------------------------------------------------


def test_clean_removes_the_output_and_the_cache(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    assert run_cli(["build", "--source", str(site)], capsys)[0] == 0
    (site / ".digest-cache").mkdir(exist_ok=True)  # the build may already have made it (share images)
    (site / ".digest-cache/entry").write_text("x")
    assert (site / "_site/index.html").exists()
    code, out, _ = run_cli(["clean", "--source", str(site)], capsys)
    assert code == 0 and "Removed" in out
    assert not (site / "_site").exists() and not (site / ".digest-cache").exists()
    assert (site / "content/policy/eu-rules.md").exists()


# --- terminal output -----------------------------------------------------------------


def test_problems_are_grouped_by_file_and_plain_without_a_terminal() -> None:
    problems = [warning("b.md", 3, "two"), error("a.md", 9, "one"), warning("a.md", 2, "zero")]
    lines = format_problems(problems)
    assert lines == ["a.md:2: warning: zero", "a.md:9: error: one", "", "b.md:3: warning: two"]
    assert "\033[" in "".join(format_problems(problems, color=True))


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colors_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Reporter(err=FakeTerminal()).color
    assert not Reporter(err=io.StringIO()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Reporter(err=FakeTerminal()).color
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no-color.org says it asks nothing
    monkeypatch.setenv("TERM", "xterm")
    assert Reporter(err=FakeTerminal()).color
    monkeypatch.setenv("TERM", "dumb")
    assert not Reporter(err=FakeTerminal()).color


def test_progress_shows_only_for_slow_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.1, 0.2, 1.5, 1.6, 1.7, 1.8])
    monkeypatch.setattr("digest.terminal.time.perf_counter", lambda: next(clock))
    err = FakeTerminal()
    report = Reporter(err=err)  # t=0
    report.progress("reading articles")  # t=0.1: too soon, nothing shown
    assert err.getvalue() == ""
    report.progress("rendering pages")  # t=0.2
    report.progress("writing files")  # t=1.5: a bar
    assert "[" in err.getvalue() and "writing files" in err.getvalue()
    report.finish()
    assert err.getvalue().endswith("\r\033[K")  # the bar is cleared


def test_quiet_and_verbose(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    site = copy_site("authoring")
    code, out, err = run_cli(["build", "--quiet", "--source", str(site), "--output", str(tmp_path / "q")], capsys)
    assert code == 0 and out == "" and err == ""
    code, out, err = run_cli(["build", "--verbose", "--source", str(site), "--output", str(tmp_path / "v")], capsys)
    assert code == 0 and "Built 4 articles" in out
    assert "rendering pages:" in err and "writing files:" in err


def test_check_strict_fails_on_placeholders_left_by_new(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    site = copy_site("authoring")
    code, _, err = run_cli(["new", "Half written", "--topic", "policy", "--site", str(site)], capsys)
    assert code == 0 and "placeholder" in err
    path = site / "content/policy/half-written.md"
    path.write_text(path.read_text().replace("draft: true", "draft: false"))
    code, _, err = run_cli(["check", "--strict", "--source", str(site)], capsys)
    assert code == 1
    assert "content/policy/half-written.md:6: error: sources: https://example.com/ is the placeholder written by `new`" in err
    assert "content/policy/half-written.md:13: error:" in err
    # A real source at example.com is no placeholder.
    path.write_text(path.read_text().replace("https://example.com/", "https://example.com/products/beta-ends").replace("Write the story here.", "Done."))
    code, _, err = run_cli(["check", "--strict", "--source", str(site)], capsys)
    assert code == 0 and "placeholder" not in err


def test_the_summary_says_what_was_built_reused_and_held_back(copy_site: Callable[[str], Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    site = copy_site("authoring")
    args = ["build", "--source", str(site), "--output", str(tmp_path / "out")]
    held = "held back: 1 draft, 1 future, 1 expired"
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    assert re.fullmatch(rf"Built 4 articles into (\d+) pages \((\d+) files\); {held} in \d+\.\d\d s -> {re.escape(str(tmp_path / 'out'))}\n", out), out
    code, again, _ = run_cli(args, capsys)
    assert again.startswith("Nothing changed: 4 articles into ") and f"up to date; {held} in " in again, again
    tags = tmp_path / "out/tags/index.html"
    tags.unlink()  # a published file deleted by hand in a top-level folder: no longer "up to date", and put back
    code, again, _ = run_cli(args, capsys)
    assert again.startswith("Built 4 articles") and ", 1 rendered)" in again and tags.is_file(), again
    article = site / "content/policy/eu-rules.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    code, updated, _ = run_cli(args, capsys)
    found = re.match(r"Built 4 articles into \d+ pages \((\d+) files, (\d+) rendered\); ", updated)
    assert found is not None, updated
    assert 0 < int(found.group(2)) < int(found.group(1))


def test_check_json_is_valid_json_on_a_console_that_cannot_write_utf8(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("authoring")
    (site / "content/policy/ünï 日本.md").write_text("---\ntitle: x\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}  # a Windows console, a CI runner with another locale
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "--format", "json", "-s", str(site)], capture_output=True, env=env)
    assert done.returncode == 1 and "content/policy/ünï 日本.md" in {p["path"] for p in json.loads(done.stdout)}


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from digest.commands import check

    def run(args: object) -> int:
        raise ModuleNotFoundError("No module named 'slugify'", name="slugify")

    monkeypatch.setattr(check, "run", run)
    code, _, err = run_cli(["check"], capsys)
    assert code == 2 and 'the package that provides "slugify" is not installed: run python3 -m pip install -r requirements.txt' in err


def test_options_before_the_command_are_told_to_go_after_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-q", "build"])
    assert exited.value.code == 2 and 'expected the command first, found "build" after options: write' in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["build", "--bogus"])
    assert exited.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
