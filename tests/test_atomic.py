"""Atomic output: a failed, interrupted or killed build never damages the published site.

Kills are made deterministic by a small driver that runs the real CLI in a
subprocess and sends itself a signal at a chosen point of the write phase
(the Nth file written, or inside the final swap). No timing is involved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file
from sitekit import article_front, snapshot, write_article

from digest.errors import ContentError, UsageError
from digest.output import MANIFEST, check_output_dir, publish
from digest.site import BuildResult

DRIVER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from digest import output
    from digest.cli import main

    point, when, signame = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    calls = 0
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as at a terminal, even where the runner ignores it

    def hit(name):
        global calls
        if name == point:
            calls += 1
            if calls == when:
                os.kill(os.getpid(), getattr(signal, signame))

    def counting(method):
        def wrapped(self, *args):
            hit("file")
            if args[0] == "/" + output.MANIFEST:
                hit("manifest")
            return method(self, *args)
        return wrapped

    output.SiteWriter.write = counting(output.SiteWriter.write)
    output.SiteWriter.copy = counting(output.SiteWriter.copy)
    real_rename, real_exchange, real_swap, real_replace = os.rename, output._exchange, output.swap_in, os.replace

    def rename(a, b):
        hit("rename")
        real_rename(a, b)
        hit("renamed")

    def swap_in(staging, out):
        hit("swap")
        real_swap(staging, out)
        hit("swapped")

    def replace(a, b):
        if str(b).endswith(output.MANIFEST):
            hit("manifest")  # an update writes its manifest last
        real_replace(a, b)
        hit("replace")  # an update's commit: one rename per new file, then the manifest

    if point in ("rename", "renamed"):
        output._exchange = lambda a, b: False  # the portable two-rename swap
    output.os.rename = rename
    output.os.replace = replace
    output.swap_in = swap_in
    sys.exit(main(sys.argv[5:]))
    """
)


@pytest.fixture
def sample(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """tests/sites/basic built once into tmp/out, then edited so a rebuild adds, removes and changes pages."""
    site = copy_site("basic")
    build(site)
    out = tmp_path / "out"
    before = snapshot(out)
    assert len(before) > 80
    (site / "content/research/benchmarks.md").unlink()
    write_article(site, "research/brand-new.md", article_front("A brand new story", date="2026-03-20"))
    return site, out, before


def run_driver(tmp_path: Path, site: Path, out: Path, point: str, when: int, signame: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run a build that kills itself at the *when*-th *point*; ``--no-cache`` in *extra* makes it a fresh build."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    args = [sys.executable, str(driver), str(REPO), point, str(when), signame, "build", "-s", str(site), "-o", str(out), *extra]
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".digest-"))


@pytest.mark.parametrize(
    ("signame", "point", "when", "extra"),
    [
        ("SIGKILL", "file", 1, "--no-cache"),
        ("SIGKILL", "file", 60, "--no-cache"),
        ("SIGKILL", "manifest", 1, "--no-cache"),
        ("SIGINT", "file", 2, "--no-cache"),
        ("SIGTERM", "file", 60, "--no-cache"),
        ("SIGKILL", "file", 1, "--jobs=1"),  # an update: only changed files are staged, then moved into place
        ("SIGKILL", "file", 5, "--jobs=1"),
        ("SIGINT", "file", 2, "--jobs=1"),
    ],
)
def test_killed_while_writing_leaves_the_previous_site(
    sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult], tmp_path: Path, point: str, when: int, signame: str, extra: str
) -> None:
    site, out, before = sample
    done = run_driver(tmp_path, site, out, point, when, signame, extra)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    if signame == "SIGINT":
        assert done.returncode == 130
        assert "Interrupted; the previous output was left as it was." in done.stderr
    assert snapshot(out) == before
    if signame == "SIGINT":
        assert leftovers(out) == []  # cleaned up on the way out
    # The next build clears whatever a killed one left and publishes the new site.
    build(site)
    assert leftovers(out) == []
    after = snapshot(out)
    assert "research/brand-new/index.html" in after
    assert "research/benchmarks/index.html" not in after


def manifest_paths(files: dict[str, bytes]) -> list[str]:
    """The paths the manifest lists ("hash<TAB>path" lines), sorted."""
    return sorted(line.split("\t")[1] for line in files[MANIFEST].decode().splitlines())


@pytest.mark.parametrize(("point", "when"), [("swap", 1), ("swapped", 1), ("rename", 1), ("renamed", 2)])
def test_killed_during_the_swap_leaves_one_whole_site(
    sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult], tmp_path: Path, point: str, when: int
) -> None:
    site, out, before = sample
    done = run_driver(tmp_path, site, out, point, when, "SIGKILL", "--no-cache")
    assert done.returncode == -signal.SIGKILL
    current = snapshot(out)
    if point in ("swap", "rename"):
        assert current == before
    else:  # the new site was already in place
        assert "research/brand-new/index.html" in current and "research/benchmarks/index.html" not in current
        assert manifest_paths(current) == sorted(k for k in current if k != MANIFEST)
    build(site)
    assert leftovers(out) == []


@pytest.mark.parametrize(("point", "when"), [("replace", 1), ("replace", 6), ("manifest", 1)])
def test_an_update_killed_while_moving_its_files_in_is_repaired_by_the_next_build(
    sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult], tmp_path: Path, point: str, when: int
) -> None:
    """An update moves its staged files into place one by one, then writes the manifest; a kill there is repaired by the next build."""
    site, out, _before = sample
    done = run_driver(tmp_path, site, out, point, when, "SIGKILL", "--jobs=1")
    assert done.returncode == -signal.SIGKILL
    build(site)
    assert leftovers(out) == []
    clean = build(site, output=tmp_path / "clean", cache=False)
    assert snapshot(out) == snapshot(clean.output)


def test_ctrl_c_between_the_two_renames_puts_the_old_site_back(sample: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    site, out, before = sample
    done = run_driver(tmp_path, site, out, "rename", 2, "SIGINT", "--no-cache")
    assert done.returncode == 130
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_build_killed_between_the_two_renames_gets_the_old_site_back(sample: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    """Without renameat2 the swap is two renames; a kill between them leaves the old site retired."""
    site, out, before = sample
    done = run_driver(tmp_path, site, out, "renamed", 1, "SIGKILL", "--no-cache")
    assert done.returncode == -signal.SIGKILL
    assert not out.exists()
    # The next build, even one that fails on content, must not throw that copy away...
    write_article(site, "research/broken.md", "title: [")
    failed = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(out)], capture_output=True, text=True)
    assert failed.returncode == 1
    retired = [p for p in out.parent.iterdir() if p.name.startswith(".digest-retired-")]
    assert len(retired) == 1 and snapshot(retired[0]) == before
    # ...and a successful one puts it back before replacing it.
    (site / "content/research/broken.md").unlink()
    made = bytes(16)
    publish(out, [("/x/", b"new")], {}, {"/x/": made})
    assert snapshot(out) == {"x/index.html": b"new", MANIFEST: f"{made.hex()}\tx/index.html\n".encode()}
    assert leftovers(out) == []


def test_content_error_leaves_the_previous_site(sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult]) -> None:
    site, out, before = sample
    write_article(site, "policy/bad.md", article_front(confidence="many"))
    with pytest.raises(ContentError):
        build(site)
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_first_build_that_fails_on_content_writes_nothing_at_all(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    """The error says "nothing was written": not the output, and not a cache in the site folder either."""
    site = copy_site("minimal")
    write_article(site, "policy/bad.md", article_front(confidence="many"))
    before = snapshot(tmp_path)
    with pytest.raises(ContentError) as caught:
        build(site)
    assert "nothing was written" in str(caught.value)
    assert sorted(set(snapshot(tmp_path)) - set(before)) == []


def test_template_exception_leaves_the_previous_site(sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult]) -> None:
    site, out, before = sample
    (site / "templates").mkdir()
    article = (REPO / "templates/article.html").read_text(encoding="utf-8")
    (site / "templates/article.html").write_text(article.replace("<h1>{{ article.title }}</h1>", "<h1>{{ article.title }}{{ 1 // 0 }}</h1>"), encoding="utf-8")
    listing = (REPO / "templates/list.html").read_text(encoding="utf-8")
    (site / "templates/list.html").write_text(listing.replace("{{ page.title }}", "{{ no_such_name }}", 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    # Both mistakes in one run, each once however many pages they broke.
    assert [(Path(p.path).name, p.message) for p in caught.value.problems] == [
        ("article.html", "template error: integer division or modulo by zero"),
        ("list.html", "template error: 'no_such_name' is undefined"),
    ]
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_template_exception_in_page_workers_stops_the_build(
    sample: tuple[Path, Path, dict[str, bytes]], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages rendered in forked workers (with the writing held back to a few batches): an error ends the build, no hang."""
    import digest.site

    monkeypatch.setattr(digest.site, "PARALLEL_PAGES", 1)
    site, out, before = sample
    (site / "templates").mkdir()
    article = (REPO / "templates/article.html").read_text(encoding="utf-8")
    failing = "<h1>{{ article.title }}{{ 1 // 0 if article.path.endswith('brand-new.md') else '' }}</h1>"
    (site / "templates/article.html").write_text(article.replace("<h1>{{ article.title }}</h1>", failing), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site, jobs=2, cache=False)
    assert [p.message for p in caught.value.problems] == ["template error: integer division or modulo by zero"]
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_failed_copy_leaves_the_previous_site(sample: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    _, out, before = sample
    with pytest.raises(UsageError) as caught:
        publish(out, [("/a/", b"a")], {"/gone.png": tmp_path / "does-not-exist.png"}, {"/a/": bytes(16), "/gone.png": bytes(16)})
    assert "cannot copy" in str(caught.value)
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_removed_and_renamed_articles_disappear(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    (site / "content/policy/chart.png").write_bytes(b"\x89PNG")
    build(site)
    out = tmp_path / "out"
    assert page_file(out, "/policy/second-story/").is_file() and (out / "policy/chart.png").is_file()
    (site / "content/policy/second-story.md").rename(site / "content/policy/renamed-story.md")
    (site / "content/policy/chart.png").unlink()
    build(site)
    files = snapshot(out)
    assert "policy/renamed-story/index.html" in files
    assert not any(name.startswith(("policy/second-story", "policy/chart")) for name in files)
    assert manifest_paths(files) == sorted(k for k in files if k != MANIFEST)


def test_files_put_in_the_output_by_hand_are_not_lost(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    build(site)
    out = tmp_path / "out"
    (out / "CNAME").write_text("news.example.org\n", encoding="utf-8")
    (out / "policy/notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        build(site)
    assert "CNAME, policy/notes.txt" in str(caught.value) and "root/" in str(caught.value)
    assert (out / "CNAME").read_text(encoding="utf-8") == "news.example.org\n"
    # The documented way: keep such files in root/, copied as they are on every build (hidden ones too).
    (out / "CNAME").unlink()
    (out / "policy/notes.txt").unlink()
    host_files = {"CNAME": "news.example.org\n", "_headers": "/static/*\n  Cache-Control: immutable\n", "_redirects": "/old/ /new/ 301\n", "ads.txt": "x\n"}
    host_files |= {".well-known/security.txt": "Contact: mailto:desk@example.org\n", "google0123.html": "google-site-verification: google0123.html\n"}
    for name, text in host_files.items():
        (site / "root" / name).parent.mkdir(parents=True, exist_ok=True)
        (site / "root" / name).write_text(text, encoding="utf-8")
    build(site)
    assert {name: (out / name).read_text(encoding="utf-8") for name in host_files} == host_files
    build(site)  # and the next build accepts its own files
    # content/ (an editor's) cannot publish over root/ (the owner's).
    (site / "content/ads.txt").write_text("elsewhere.example, 1\n", encoding="utf-8")
    (site / "content/CNAME").write_text("elsewhere.example\n", encoding="utf-8")
    with pytest.raises(ContentError) as failed:
        build(site)
    assert [str(p) for p in failed.value.problems] == [
        "content/CNAME: error: expected an image, PDF, audio, video, text or data file, found a file without a type, which content/ "
        "does not publish; move it to static/ (served under /static/) or root/ (at the top of the site)",
        "content/ads.txt: error: expected /ads.txt in one place, found it in content/ and in root/, whose file is published; delete one",
    ]
    (site / "root/.digest-manifest").write_text("00\t../x\n", encoding="utf-8")  # the build's own file: an error, not an internal one
    with pytest.raises(ContentError) as failed:
        build(site)
    assert "root/.digest-manifest: error: expected no file of this name in root/, found one: the build writes it; delete it" in map(str, failed.value.problems)


def test_a_folder_the_build_did_not_make_is_refused(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.odt").write_bytes(b"years of work")
    with pytest.raises(UsageError) as caught:
        build(site, output=documents)
    assert "thesis.odt" in str(caught.value)
    assert snapshot(documents) == {"thesis.odt": b"years of work"}
    empty = tmp_path / "empty"
    empty.mkdir()
    build(site, output=empty)
    assert page_file(empty, "/").is_file()


def test_clean_refuses_a_folder_with_foreign_files(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site = copy_site("minimal")
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "keep.txt").write_text("keep", encoding="utf-8")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "clean", "-s", str(site), "-o", str(documents)], capture_output=True, text=True)
    assert done.returncode == 2 and "keep.txt" in done.stderr and "refusing to remove" in done.stderr
    assert (documents / "keep.txt").is_file()


def test_clean_waits_for_a_build_that_is_publishing(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    import time

    from digest.memo import CACHE_DIR
    from digest.output import output_lock

    site = copy_site("minimal")
    out = build(site).output
    log = tmp_path / "stderr.txt"
    with output_lock(out, lambda: None), log.open("w") as stderr:  # held as a build holds it while it publishes
        clean = subprocess.Popen([sys.executable, str(REPO / "build.py"), "clean", "-s", str(site), "-o", str(out)], stdout=subprocess.PIPE, stderr=stderr)
        wait_for_text(log, "Waiting for the build", clean)
        time.sleep(0.3)
        assert clean.poll() is None and (out / "index.html").is_file(), "clean did not wait"
    stdout, _ = clean.communicate(timeout=60)
    assert clean.returncode == 0 and f"Waiting for the build into {out.resolve()} to finish" in log.read_text()
    assert stdout.startswith(b"Removed") and not out.exists() and not (site / CACHE_DIR).exists()


@pytest.mark.parametrize("where", ["source", "parent", "root", "home", "content", "static", "templates", "cache", "file"])
def test_dangerous_output_folders_are_refused(copy_site: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    site = copy_site("minimal")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (site / "a-file").write_text("x", encoding="utf-8")
    output = {
        "source": site,
        "parent": tmp_path,
        "root": Path("/"),
        "home": home,
        "content": site / "content/policy/out",
        "static": site / "static",
        "templates": site / "templates/x",
        "cache": site / ".digest-cache",
        "file": site / "a-file",
    }[where]
    before = snapshot(tmp_path)
    with pytest.raises(UsageError):
        check_output_dir(output, site)
    done = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(output)], capture_output=True, text=True, env={**os.environ, "HOME": str(home)}
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: "), done.stderr  # after any progress lines of a slow build
    assert snapshot(tmp_path) == before


def test_a_dangerous_output_dir_in_site_yaml_is_an_error_at_its_line(
    copy_site: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from digest.cli import main

    site = copy_site("minimal")
    for value, says in (("..", "it contains the site's own files"), (".digest-cache", "inside the site's .digest-cache/ folder")):
        (site / "site.yaml").write_text(f"title: Minimal\noutput_dir: {value}\n", encoding="utf-8")
        before = snapshot(tmp_path)
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site)], capture_output=True, text=True)
        assert done.returncode == 1 and done.stderr.startswith("site.yaml:2: error: output_dir: refusing") and says in done.stderr, done.stderr
        assert snapshot(tmp_path) == before
        checked = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "-s", str(site)], capture_output=True, text=True)
        assert checked.returncode == 1 and "site.yaml:2: error: output_dir: refusing" in checked.stderr, checked.stderr  # check sees it too
        assert main(["clean", "-s", str(site)]) == 1 and "site.yaml:2: error: output_dir: refusing" in capsys.readouterr().err  # and clean
        assert snapshot(tmp_path) == before
    (tmp_path / "a-file").write_text("x", encoding="utf-8")  # given on the command line, a usage error, for check as for build
    checked = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "-s", str(site), "-o", str(tmp_path / "a-file")], capture_output=True, text=True)
    assert checked.returncode == 2 and "exists and is not a folder" in checked.stderr, checked.stderr


def test_a_second_build_into_the_same_folder_waits_for_the_first(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    import time

    from digest.output import output_lock

    site = copy_site("minimal")
    out = tmp_path / "out"
    waited: list[bool] = []
    # This test holds the output's lock as a first build would, while a second build runs in another process.
    log = tmp_path / "stderr.txt"
    with output_lock(out, lambda: waited.append(True)), log.open("w") as stderr:
        second = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(out)], stdout=subprocess.DEVNULL, stderr=stderr)
        wait_for_text(log, "Waiting for another build", second)
        time.sleep(0.3)
        assert second.poll() is None, "the second build did not wait"
        assert not out.exists(), "the second build wrote while the first held the folder"
    second.wait(timeout=60)
    assert second.returncode == 0, log.read_text()
    assert f"Waiting for another build into {out.resolve()} to finish" in log.read_text()
    assert (out / "index.html").is_file() and not waited


def wait_for_text(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    """Until *process* has written *text* to *log* (it waits at a lock), or fail once it ends or 60 s pass."""
    import time

    deadline = time.monotonic() + 60
    while text not in log.read_text(encoding="utf-8"):
        assert process.poll() is None and time.monotonic() < deadline, f"never said {text!r}: {log.read_text(encoding='utf-8')}"
        time.sleep(0.05)


def test_an_output_whose_manifest_was_deleted_is_refused_with_the_likely_cause(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    site = copy_site("minimal")
    out = build(site).output
    (out / MANIFEST).unlink()
    with pytest.raises(UsageError) as caught:
        build(site)
    assert f"but no {MANIFEST}, the record of what the last build wrote; if they are a build's, delete the folder (rm -r {out})" in str(caught.value)
    assert (out / "index.html").is_file()


def test_a_folder_where_a_page_goes_is_named_in_the_output_folder_with_what_to_do(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    site = copy_site("minimal")
    out = build(site).output
    page = out / "policy/first-story/index.html"
    page.unlink()
    page.mkdir()  # in the way of the page the next build writes there
    other = site / "content/policy/second-story.md"
    other.write_text(other.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")  # a build past the no-change check
    with pytest.raises(UsageError) as caught:
        build(site)
    assert str(caught.value) == f"cannot write {page} (Is a directory); a folder or file is in the way there: delete it; the previous output was left as it was"
    page.rmdir()
    build(site)
    assert page.is_file()


def test_an_output_that_cannot_be_written_is_a_usage_error_not_an_internal_one(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site = copy_site("minimal")
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(tmp_path / "a-file/out")], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "cannot write" in done.stderr and "the previous output was left as it was" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_leftovers_of_a_killed_build_are_removed_when_the_folder_name_has_glob_characters(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    site, out = copy_site("minimal"), tmp_path / "site [draft]*"
    (tmp_path / f".digest-staging-{out.name}-123").mkdir()  # as a build killed while writing leaves it
    build(site, output=out)
    assert leftovers(out) == []
    assert (out / "index.html").is_file()


def test_an_update_never_removes_a_file_outside_the_output_that_a_manifest_names(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    """The output folder may come from a cache, a branch or a copy: its manifest is no licence to delete anything elsewhere."""
    site = copy_site("minimal")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious\n", encoding="utf-8")
    out = build(site).output
    (out / "tags" / "elsewhere").symlink_to(victim)  # a link inside the output, to a folder outside it
    lines = ["00\t../victim/notes.txt", f"00\t{victim / 'notes.txt'}", "00\ttags/elsewhere/notes.txt", "00\t.", "00\t./../victim"]
    with (out / ".digest-manifest").open("a", encoding="utf-8") as manifest:
        manifest.write("".join(line + "\n" for line in lines))
    build(site)  # an update: it removes the files of the last manifest that it no longer makes
    assert (victim / "notes.txt").read_text(encoding="utf-8") == "precious\n"
    assert "victim" not in (out / ".digest-manifest").read_text(encoding="utf-8")


def test_clean_removes_the_folder_a_linked_output_leads_to(copy_site: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from digest.cli import main

    site = copy_site("minimal")
    (tmp_path / "www").mkdir()
    (site / "_site").symlink_to(tmp_path / "www")  # _site -> /var/www/digest, as a server may have it
    assert main(["build", "-q", "-s", str(site)]) == 0 and (tmp_path / "www/index.html").is_file()
    assert main(["clean", "-s", str(site)]) == 0
    assert not (tmp_path / "www").exists() and f"the folder it links to, {tmp_path / 'www'}" in capsys.readouterr().out
    assert main(["build", "-q", "-s", str(site)]) == 0 and (tmp_path / "www/index.html").is_file()  # built there again
    (site / "sub").mkdir()
    other = f"{site}/sub/../out"  # a path with "..", no link: named as given
    assert main(["build", "-q", "-s", str(site), "-o", other]) == 0 and main(["clean", "-s", str(site), "-o", other]) == 0
    assert capsys.readouterr().out.startswith(f"Removed {other} and ")


def test_an_update_makes_again_the_files_changed_since_the_last_build(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    """A hand-edited or emptied output file is not the build's any more: the next build that runs writes it again."""
    site = copy_site("minimal")
    out = build(site).output
    before = {name: (out / name).read_bytes() for name in ("index.html", "feed.xml", "robots.txt")}
    (out / "index.html").write_text("hacked", encoding="utf-8")
    (out / "feed.xml").write_bytes(b"")
    (out / "robots.txt").unlink()  # so that the no-change check, which looks at the folders alone, lets the build run
    build(site)
    assert {name: (out / name).read_bytes() for name in before} == before
