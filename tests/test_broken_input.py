"""Broken input: hostile YAML, odd encodings and sizes, and site folders that cannot be read.

Every case ends in a built site or in ContentError/UsageError whose problems
say ``path:line``; never a traceback, a hang, or a crash of the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file, parse
from sitekit import article_front, snapshot, write_article

from digest.errors import ContentError
from digest.site import BuildOptions, BuildResult, load_site, plan_outputs, render_outputs


def errors_of(caught: pytest.ExceptionInfo[ContentError]) -> list[str]:
    return [str(p) for p in caught.value.problems if p.is_error]


def billion_laughs() -> str:
    lines = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"lol{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\ntags: *l9"


@pytest.mark.parametrize(
    ("front", "line", "expected"),
    [
        (article_front() + "\ntitle: Again", 7, 'duplicate key "title" (first given on line 2)'),
        (article_front() + "\n" + billion_laughs(), 12, "YAML expands to more than"),
        (article_front() + "\nextra: " + "[" * 100_000 + "]" * 100_000, 7, "nested too deeply"),
        (article_front() + "\nextra:\n" + "".join("  " * n + f"k{n}:\n" for n in range(1, 60)), 39, "nested too deeply"),
        (article_front() + "\nextra: &loop [*loop]", 7, "alias to itself"),
        (article_front() + "\nwhy_it_matters:\n\t- tabbed", 8, "(a tab: YAML indents with spaces only)"),
        ("title: [unclosed\n" + article_front().split("\n", 1)[1], 2, "a flow sequence that starts on this line (found on line 3)"),
    ],
    ids=["duplicate-key", "billion-laughs", "deep-flow", "deep-block", "recursive-alias", "tab-indent", "syntax"],
)
def test_bad_yaml_fails_fast_with_a_located_error(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], front: str, line: int, expected: str
) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/bad.md", front)
    with pytest.raises(ContentError) as caught:
        build(site)
    errors = errors_of(caught)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"content/policy/bad.md:{line}: error:"), errors[0]
    assert expected in errors[0]


def test_deep_yaml_does_not_crash_the_interpreter(tmp_path: Path) -> None:
    """libyaml composes recursively: without the streaming depth check this segfaults."""
    site = tmp_path / "site"
    write_article(site, "policy/deep.md", article_front() + "\nextra: " + "[" * 200_000 + "]" * 200_000)
    (site / "site.yaml").write_text("title: Deep\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "-s", str(site)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "content/policy/deep.md:7: error: YAML is nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr


def test_deep_site_yaml_is_an_error(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_text("title: x\ntopics: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["site.yaml:2: error: YAML is nested too deeply (more than 32 levels)"]


def test_a_site_yaml_that_is_not_utf8_is_an_error_at_the_line_of_the_byte(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_bytes(b"title: Minimal\ndescription: Caf\xe9 news\n")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["site.yaml:2: error: expected UTF-8 text, found the byte 0xe9 that is not valid UTF-8"]


def test_bom_crlf_and_only_front_matter_build(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    text = "---\r\n" + article_front("Windows file").replace("\n", "\r\n") + "\r\n---\r\nFirst line.\r\n\r\nSecond paragraph.\r\n"
    (site / "content/policy/windows.md").write_bytes("\ufeff".encode() + text.encode("utf-8"))
    (site / "content/policy/bare.md").write_text("---\n" + article_front("Front matter only") + "\n---\n", encoding="utf-8")
    (site / "content/policy/bare-no-newline.md").write_text("---\n" + article_front("No final newline", slug="nn") + "\n---", encoding="utf-8")
    result = build(site)
    assert result.articles == 5
    out = tmp_path / "out"
    windows = parse(page_file(out, "/policy/windows/"))
    assert windows.h1 is not None and windows.h1.get_text() == "Windows file"
    assert [p.get_text() for p in windows.select(".body p")] == ["First line.", "Second paragraph."]
    assert "\r" not in page_file(out, "/policy/windows/").read_text(encoding="utf-8")
    assert page_file(out, "/policy/bare/").is_file() and page_file(out, "/policy/nn/").is_file()


def test_crlf_errors_point_at_the_right_line(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    text = "\ufeff---\r\n" + article_front(confidence="200").replace("\n", "\r\n") + "\r\n---\r\nBody\r\n"
    (site / "content/policy/bad.md").write_bytes(text.encode("utf-8"))
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["content/policy/bad.md:6: error: confidence: expected a score from 0 to 100, found 200"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "content/policy/bad.md:1: error: expected front matter starting with '---' on line 1, found an empty file"),
        (b"   \n\n", "content/policy/bad.md:1: error: expected front matter starting with '---' on line 1, found an empty file"),
        (b"---\ntitle: x\n", "content/policy/bad.md:1: error: front matter opened with '---' on line 1 is never closed by a '---' line"),
        (b"---\n---\n", 'content/policy/bad.md:1: error: missing required field "title"'),
        (b"---\n- a list\n---\n", "content/policy/bad.md:2: error: expected a mapping of keys to values, found a list"),
        (b"---\ntitle: caf\xe9\n---\n", "content/policy/bad.md:2: error: expected UTF-8 text, found the byte 0xe9 that is not valid UTF-8"),
        (b"\x00\x01\x02", "content/policy/bad.md:1: error: expected front matter starting with '---' on line 1"),
    ],
    ids=["empty", "blank", "unclosed", "empty-front-matter", "list", "latin-1", "binary"],
)
def test_empty_and_malformed_files(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], content: bytes, expected: str) -> None:
    site = copy_site("minimal")
    (site / "content/policy/bad.md").write_bytes(content)
    with pytest.raises(ContentError) as caught:
        build(site)
    assert any(line.startswith(expected) for line in errors_of(caught)), errors_of(caught)


def test_a_10_mb_body_is_refused_quickly(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/huge.md", article_front("Huge"), "A paragraph with [a link](https://example.com/).\n\n" * 200_000)
    assert (site / "content/policy/huge.md").stat().st_size > 10_000_000
    with pytest.raises(ContentError) as caught:
        build(site)
    size = (site / "content/policy/huge.md").stat().st_size
    assert errors_of(caught) == [f"content/policy/huge.md: error: expected an article of at most 2,000,000 bytes, found {size:,} (split it, or link to a file)"]


def test_a_long_body_under_the_limit_builds(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    paragraph = "Plain words of a very long report that keeps going for a while. " * 20 + "\n\n"
    write_article(site, "policy/long.md", article_front("Long"), paragraph * 1200)
    assert (site / "content/policy/long.md").stat().st_size > 1_500_000
    build(site)
    body = parse(page_file(tmp_path / "out", "/policy/long/")).select(".body p")
    assert len(body) == 1200


def test_an_article_with_500_tags_renders_every_tag_page_when_the_site_allows_them(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    with (site / "site.yaml").open("a", encoding="utf-8") as settings:
        settings.write("max_tags: 500\n")
    tags = ", ".join(f"tag number {n}" for n in range(500))
    write_article(site, "policy/tags.md", article_front("Tagged", tags=f"[{tags}]"))
    loaded = load_site(BuildOptions(source=site))
    assert len(loaded.index.tags) == 500 + 2
    files = dict(render_outputs(loaded, plan_outputs(loaded).keys() - loaded.copies.keys()))
    assert "/tags/tag-number-499/" in files
    article = files["/policy/tags/"].decode("utf-8")
    assert article.count('rel="tag"') == 500


def test_more_tags_than_max_tags_is_an_error_at_the_tags_line(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    tags = ", ".join(f"tag {n}" for n in range(10_000))
    write_article(site, "policy/tags.md", article_front("Tagged", tags=f"[{tags}]"))
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["content/policy/tags.md:4: error: tags: expected at most 100 tags (max_tags in site.yaml), found 10000"]


def test_content_that_is_a_file(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    for child in sorted((site / "content").rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    (site / "content").rmdir()
    (site / "content").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["content: error: expected content/ to be a folder, found a file"]


def test_a_missing_content_folder(tmp_path: Path, build: Callable[..., BuildResult]) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site/site.yaml").write_text("title: Empty\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(tmp_path / "site")
    assert errors_of(caught) == ["content: error: expected a content/ folder with article files, found none"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_an_article_or_a_file_does_not_hang(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    os.mkfifo(site / "content/policy/pipe.md")
    os.mkfifo(site / "content/policy/pipe.png")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == [
        "content/policy/pipe.md: error: expected a regular file, found a special file (a pipe, socket or device)",
        "content/policy/pipe.png: error: expected a regular file, found a special file (a pipe, socket or device)",
    ]


def test_a_folder_named_like_an_article_is_not_read(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    (site / "content/policy/folder.md").mkdir()
    assert build(site).articles == 2


def test_symlink_loops(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    policy = site / "content/policy"
    os.symlink("b.md", policy / "a.md")
    os.symlink("a.md", policy / "b.md")
    os.symlink("loop.png", policy / "loop.png")
    os.symlink("..", policy / "up")  # a folder link back up: never followed
    with pytest.raises(ContentError) as caught:
        build(site)
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "content/policy/a.md: error: cannot read the file (Too many levels of symbolic links)",
        "content/policy/b.md: error: cannot read the file (Too many levels of symbolic links)",
        "content/policy/loop.png: error: cannot read the file (Too many levels of symbolic links)",
        "content/policy/up: warning: is a symbolic link to a folder; links to folders are not followed",
    ]


def test_symlinks_out_of_the_site_are_refused(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not publish", encoding="utf-8")
    write_article(tmp_path, "outside.md", article_front("Outside"))
    os.symlink(secret, site / "content/policy/leak.txt")
    os.symlink(tmp_path / "content/outside.md", site / "content/policy/outside.md")
    os.symlink(site / "content/policy/first-story.md", site / "content/policy/inside.md")  # inside content/: fine
    (site / ".git").mkdir()
    (site / ".git/config").write_text("[remote] token = secret", encoding="utf-8")
    (site / ".env").write_text("TOKEN=secret", encoding="utf-8")
    os.symlink("../../.git/config", site / "content/policy/config.txt")  # inside the site, but hidden
    os.symlink("../../.env", site / "content/policy/env.txt")
    os.symlink("../../site.yaml", site / "content/policy/settings.txt")  # inside the site, but not in content/
    with pytest.raises(ContentError) as caught:
        build(site)
    refused = (
        "error: expected a file inside content/ with no hidden name on its path, found a symbolic link to a file elsewhere (link only to files under content/)"
    )
    assert errors_of(caught) == [f"content/policy/{name}: {refused}" for name in ("config.txt", "env.txt", "leak.txt", "outside.md", "settings.txt")]
    assert not (tmp_path / "out").exists()


def test_unreadable_files(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root (CI runs as root), so unreadability is simulated."""
    site = copy_site("minimal")
    (site / "content/policy/photo.png").write_bytes(b"\x89PNG")
    real_access = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if str(path).endswith(("first-story.md", "photo.png")):
            return False
        return real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == [
        "content/policy/first-story.md: error: cannot read the file (permission denied)",
        "content/policy/photo.png: error: cannot read the file (permission denied)",
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_files_for_real(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    target = site / "content/policy/first-story.md"
    target.chmod(0)
    try:
        with pytest.raises(ContentError) as caught:
            build(site)
    finally:
        target.chmod(0o644)
    assert errors_of(caught) == ["content/policy/first-story.md: error: cannot read the file (permission denied)"]


@pytest.mark.parametrize("name", ["a:b.png", "con.png", "NUL.txt", "tab\there.txt"])
def test_content_files_with_unsafe_names(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], name: str) -> None:
    site = copy_site("minimal")
    (site / "content/policy" / name).write_bytes(b"x")
    with pytest.raises(ContentError) as caught:
        build(site)
    errors = errors_of(caught)
    assert len(errors) == 1 and errors[0].startswith(f"content/policy/{name}: error: expected a file name usable in a URL")


@pytest.mark.parametrize(
    ("name", "kind"), [("page.html", "a .html file"), ("logo.svg", "a .svg file"), ("_headers", "a file without a type"), ("run.js", "a .js file")]
)
def test_content_publishes_media_and_documents_only(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], name: str, kind: str) -> None:
    site = copy_site("minimal")
    (site / "content" / name).write_text("<script>alert(1)</script>", encoding="utf-8")
    (site / "content/policy/chart.png").write_bytes(b"\x89PNG")  # media: published
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == [
        f"content/{name}: error: expected an image, PDF, audio, video, text or data file, found {kind}, which content/ does not publish; move it to static/ (served under /static/) or root/ (at the top of the site)"
    ]


def test_editor_and_system_leftovers_are_neither_published_nor_errors(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    litter = ["policy/first-story.md~", "policy/#first-story.md#", "policy/.#first-story.md", "policy/.first-story.md.swp", "Thumbs.db", "policy/desktop.ini"]
    for name in litter:
        (site / "content" / name).write_text("leftover", encoding="utf-8")
    out = build(site).output
    assert not [name for name in litter if (out / name.removeprefix("policy/")).exists() or (out / name).exists()]


def test_articles_under_names_starting_with_an_underscore_are_skipped_with_a_warning(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult]
) -> None:
    site = copy_site("minimal")
    story = (site / "content/policy/first-story.md").read_text(encoding="utf-8")
    for name in ("_posts/2026-03-05-a.md", "_posts/b.md", "policy/_c.md", "policy/_index.md"):
        (site / "content" / name).parent.mkdir(exist_ok=True)
        (site / "content" / name).write_text(story.replace("A first story", name), encoding="utf-8")
    result = build(site)
    assert result.articles == 2
    assert sorted(str(w) for w in result.warnings) == [
        "content/_posts: warning: skipped with its 2 article files: a name starting with _ is never published; rename it",
        "content/policy/_c.md: warning: skipped: a name starting with _ is never published; rename it",
    ]  # Hugo's _index.md (a section's page, no article) silently


def test_an_article_named_in_capitals_is_told_to_rename_not_to_move(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "content/policy/LOUD.MD").write_text("---\ntitle: Loud\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ['content/policy/LOUD.MD: error: expected an article file to end in ".md", found ".MD"; rename it']


def test_content_cannot_replace_the_sites_own_static_files(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "content/static/css").mkdir(parents=True)
    (site / "content/static/css/site.css").write_text("body { display: none }", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == [
        "content/static/css/site.css: error: expected no file under content/static/, found one: /static/css/site.css belongs to static/ (the site's own files); move it there"
    ]


def test_cli_never_shows_a_traceback_for_broken_sites(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/bad.md", article_front() + "\n" + billion_laughs())
    os.symlink("x.md", site / "content/policy/x.md")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "content/policy/bad.md:12: error: YAML expands to more than" in done.stderr
    assert "content/policy/x.md: error: cannot read the file" in done.stderr
    assert not out.exists() and snapshot(tmp_path / "out") == {}


def test_site_yaml_that_is_a_folder(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").unlink()
    (site / "site.yaml").mkdir()
    with pytest.raises(ContentError) as caught:
        build(site)
    assert errors_of(caught) == ["site.yaml: error: expected site.yaml to be a file, found a folder or a special file"]
