"""The memo is only a memo: a site built with the cache, edit after edit, is the site a clean build makes.

A small site goes through a random sequence of the edits an editor makes and
of option changes, each followed by a cached build into the same output
folder, some in this process and some in a new one (so the memo on disk, not
only in memory, is used). Every few steps the output is compared byte for
byte, ``.digest-manifest`` included, with a ``--no-cache`` build of a fresh
copy of the site, made in a new process.

The sequence is seeded; ``DIGEST_CACHE_SEED=<n> pytest tests/test_cache_equivalence.py``
tries another one (the seed is printed with any failure).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import EPOCH, REPO, page_file, parse
from sitekit import article_front, snapshot, write_article

from digest.errors import ContentError
from digest.memo import BUNDLED, Memo
from digest.output import MANIFEST
from digest.site import BuildOptions, BuildResult, build_site

SEED = int(os.environ.get("DIGEST_CACHE_SEED", "20261202"))
NEWS = "https://example.org/news/"
TAGS = ["chips", "courts", "energy", "open weights", "safety", "EU"]


@dataclass
class Site:
    """The site under edit, the options of its next build, and what was done to it."""

    root: Path
    out: Path
    rng: random.Random
    base_url: str | None = None
    relative: bool = False
    drafts: bool = False
    settings: dict[str, str] = field(default_factory=lambda: {"title": "Cache Digest", "per_page": "2", "base_url": "https://example.org/"})
    articles: list[str] = field(default_factory=list)  # content-relative paths of the articles (the draft included)
    made: int = 0  # a counter for new names
    log: list[str] = field(default_factory=list)
    builds: int = 0

    def options(self) -> list[str]:
        return [*(["--base-url", self.base_url] if self.base_url else []), *(["--relative"] if self.relative else []), *(["--drafts"] if self.drafts else [])]

    def write_settings(self) -> None:
        lines = [f"{key}: {value}" for key, value in self.settings.items()]
        lines += ["timezone: UTC", "topics:", "  policy:", "    name: Policy", "  research:", "    name: Research"]
        (self.root / "site.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def path(self, rel: str) -> Path:
        return self.root / "content" / rel

    def published(self) -> list[str]:
        return [rel for rel in self.articles if "draft: true" not in self.path(rel).read_text(encoding="utf-8")]

    def new_name(self, topic: str) -> str:
        self.made += 1
        return f"{topic}/story-{self.made}.md"


def run_build(site: Site, in_process: bool, expect_error: bool = False) -> str:
    """One cached build into the site's output; returns what was reported (the error text when one is expected)."""
    site.builds += 1
    if in_process:
        options = BuildOptions(source=site.root, output=site.out, base_url=site.base_url, relative=site.relative, include_drafts=site.drafts)
        if expect_error:
            with pytest.raises(ContentError) as caught:
                build_site(options)
            return str(caught.value) + "\n" + "\n".join(str(p) for p in caught.value.problems)
        result: BuildResult = build_site(options)
        return result.mode
    args = [sys.executable, str(REPO / "build.py"), "build", "--source", str(site.root), "--output", str(site.out), "--jobs", "1", *site.options()]
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    if expect_error:
        assert done.returncode == 1, f"expected a content error, got {done.returncode}: {done.stdout}{done.stderr}"
        return done.stderr
    assert done.returncode == 0, done.stderr
    return done.stdout


def fresh_build(site: Site, folder: Path) -> Path:
    """A --no-cache build of a fresh copy of the site, in a new process; returns its output folder."""
    source = folder / "src"
    shutil.copytree(site.root, source, ignore=shutil.ignore_patterns(".digest-cache"))
    out = folder / "out"
    args = [sys.executable, str(REPO / "build.py"), "build", "--source", str(source), "--output", str(out), "--no-cache", "--jobs", "1", *site.options()]
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert done.returncode == 0, done.stderr
    return out


def url_of(site: Site, rel: str) -> str:
    """The site-relative URL of an article (the permalink is /topic/slug/)."""
    return "/" + rel.removesuffix(".md") + "/"


def shown_page(site: Site, rel: str) -> Path:
    return page_file(site.out, url_of(site, rel))


# --- the edits: each changes the site (or the options), builds, and checks what a reader would see ---


def edit_body(site: Site, in_process: bool) -> None:
    rel = site.rng.choice(site.published())
    sentence = f"Body edit number {site.builds}."
    path = site.path(rel)
    path.write_text(path.read_text(encoding="utf-8") + f"\n{sentence}\n", encoding="utf-8")
    run_build(site, in_process)
    assert sentence in shown_page(site, rel).read_text(encoding="utf-8")


def edit_tags(site: Site, in_process: bool) -> None:
    rel = site.rng.choice(site.published())
    tags = site.rng.sample(TAGS, site.rng.randint(1, 3))
    path = site.path(rel)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines = [f"tags: [{', '.join(tags)}]" if line.startswith("tags:") else line for line in lines]
    path.write_text("\n".join(lines), encoding="utf-8")
    run_build(site, in_process)
    assert sorted(a.get_text() for a in parse(shown_page(site, rel)).select("a[rel=tag]")) == sorted(tags)


def edit_title(site: Site, in_process: bool) -> None:
    rel = site.rng.choice(site.published())
    title = f"Retitled at step {site.builds}"
    path = site.path(rel)
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(f'title: "{title}"' if line.startswith("title:") else line for line in lines), encoding="utf-8")
    run_build(site, in_process)
    assert parse(shown_page(site, rel)).h1.get_text() == title  # type: ignore[union-attr]


def add_article(site: Site, in_process: bool) -> None:
    rel = site.new_name(site.rng.choice(["policy", "research"]))
    day = site.rng.randint(1, 28)
    tags = ", ".join(site.rng.sample(TAGS, 2))
    write_article(site.root, rel, article_front(f"New story {site.made}", date=f"2026-04-{day:02d}", tags=f"[{tags}]"), f"Fresh body {site.made}.\n")
    site.articles.append(rel)
    run_build(site, in_process)
    assert shown_page(site, rel).is_file()


def delete_article(site: Site, in_process: bool) -> None:
    if len(site.published()) <= 2:
        return add_article(site, in_process)
    rel = site.rng.choice(site.published())
    site.path(rel).unlink()
    site.articles.remove(rel)
    run_build(site, in_process)
    assert not shown_page(site, rel).exists()


def rename_article(site: Site, in_process: bool) -> None:
    old = site.rng.choice(site.published())
    new = site.new_name(old.split("/")[0])
    site.path(old).rename(site.path(new))
    site.articles[site.articles.index(old)] = new
    run_build(site, in_process)
    assert shown_page(site, new).is_file() and not shown_page(site, old).exists()


def link_then_delete_target(site: Site, in_process: bool) -> None:
    """Link one article to another, delete the target (a content error that leaves the output), then drop the link."""
    source, target = site.rng.sample(site.published(), 2)
    path = site.path(source)
    before_link = path.read_text(encoding="utf-8")
    link = os.path.relpath(site.path(target), path.parent)
    path.write_text(before_link + f"\nSee also [the other story]({link}).\n", encoding="utf-8")
    run_build(site, in_process)
    hrefs = [str(a["href"]) for a in parse(shown_page(site, source)).select(".body a")]
    slug = url_of(site, target).rstrip("/").rsplit("/", 1)[-1]
    assert any(href.removesuffix("index.html").rstrip("/").endswith(slug) for href in hrefs), hrefs
    published = snapshot(site.out)
    kept = site.path(target).read_bytes()
    site.path(target).unlink()
    message = run_build(site, not in_process, expect_error=True)
    assert "no published article at" in message, message
    assert snapshot(site.out) == published, "a failed build changed the output"
    path.write_text(before_link, encoding="utf-8")  # the editor drops the link...
    if site.rng.random() < 0.5:
        site.path(target).write_bytes(kept)  # ...and may put the article back
    else:
        site.articles.remove(target)
    run_build(site, in_process)


def edit_settings(site: Site, in_process: bool) -> None:
    key = site.rng.choice(["title", "per_page", "base_url"])
    value = {
        "title": f"Cache Digest {site.builds}",
        "per_page": str(site.rng.randint(1, 4)),
        "base_url": site.rng.choice(["https://example.org/", "https://example.org/digest/", "https://news.example.net/"]),
    }[key]
    site.settings[key] = value
    site.write_settings()
    run_build(site, in_process)
    if key == "title":
        assert parse(site.out / "index.html").find("a", class_="site-title").get_text() == value  # type: ignore[union-attr]


def toggle_base_url(site: Site, in_process: bool) -> None:
    site.base_url = None if site.base_url else NEWS
    run_build(site, in_process)
    if site.base_url and not site.relative:
        assert parse(site.out / "index.html").find("a", class_="site-title")["href"] == "/news/"  # type: ignore[index]


def toggle_relative(site: Site, in_process: bool) -> None:
    site.relative = not site.relative
    run_build(site, in_process)
    href = str(parse(page_file(site.out, url_of(site, site.published()[0]))).find("a", class_="site-title")["href"])  # type: ignore[index]
    assert href.startswith("../") == site.relative, href


def toggle_drafts(site: Site, in_process: bool) -> None:
    site.drafts = not site.drafts
    run_build(site, in_process)
    assert shown_page(site, "policy/draft-story.md").exists() == site.drafts


def edit_template(site: Site, in_process: bool) -> None:
    footer = site.root / "templates" / "_footer.html"
    marker = f"Footer of step {site.builds}"
    text = (BUNDLED / "templates" / "_footer.html").read_text(encoding="utf-8")
    footer.write_text(text.replace("</footer>", f'<p class="marker">{marker}</p>\n</footer>'), encoding="utf-8")
    run_build(site, in_process)
    for page in (site.out / "index.html", shown_page(site, site.published()[-1])):
        assert parse(page).select_one(".site-footer .marker").get_text() == marker  # type: ignore[union-attr]


def touch_template(site: Site, in_process: bool) -> None:
    """A template saved without a change: its stamp changes, its bytes do not."""
    footer = site.root / "templates" / "_footer.html"
    footer.write_bytes(footer.read_bytes())
    before = snapshot(site.out)
    run_build(site, in_process)
    assert snapshot(site.out) == before


def add_static_file(site: Site, in_process: bool) -> None:
    site.made += 1
    name = f"notes-{site.made}.txt"
    (site.root / "static").mkdir(exist_ok=True)
    (site.root / "static" / name).write_text(f"notes {site.made}\n", encoding="utf-8")
    run_build(site, in_process)
    assert (site.out / "static" / name).read_text(encoding="utf-8") == f"notes {site.made}\n"


def change_static_file(site: Site, in_process: bool) -> None:
    """Rewrite a static file at once with other bytes of the same size, or delete it."""
    files = sorted((site.root / "static").glob("notes-*.txt")) if (site.root / "static").is_dir() else []
    if not files:
        return add_static_file(site, in_process)
    path = site.rng.choice(files)
    if site.rng.random() < 0.5:
        path.write_text(path.read_text(encoding="utf-8").upper(), encoding="utf-8")
        run_build(site, in_process)
        assert (site.out / "static" / path.name).read_bytes() == path.read_bytes()
    else:
        path.unlink()
        run_build(site, in_process)
        assert not (site.out / "static" / path.name).exists()


def edit_page(site: Site, in_process: bool) -> None:
    """Write or rewrite a standalone page; its nav order puts it in every page's footer."""
    pages = site.root / "content" / "pages"
    pages.mkdir(exist_ok=True)
    name = site.rng.choice(["about", "standards"])
    title = f"Page {name} {site.builds}"
    (pages / f"{name}.md").write_text(f"---\ntitle: {title}\nnav: {site.rng.randint(1, 3)}\n---\nText {site.builds}.\n", encoding="utf-8")
    run_build(site, in_process)
    assert title in {a.get_text() for a in parse(site.out / "index.html").select(".site-info a")}


def add_correction(site: Site, in_process: bool) -> None:
    rel = site.rng.choice(site.published())
    path = site.path(rel)
    text = path.read_text(encoding="utf-8")
    if "corrections:" not in text:
        path.write_text(
            text.replace("\n---\n", f'\ncorrections:\n  - date: 2026-05-{site.rng.randint(1, 28):02d}\n    text: "Fixed at {site.builds}."\n---\n', 1),
            encoding="utf-8",
        )
    else:
        path.write_text(text.replace("corrections:\n", f'corrections:\n  - date: 2026-05-29\n    text: "Again at {site.builds}."\n', 1), encoding="utf-8")
    run_build(site, in_process)
    assert parse(shown_page(site, rel)).select_one("aside.corrections") is not None


def toggle_language(site: Site, in_process: bool) -> None:
    site.settings["language"] = "en" if site.settings.get("language") == "ar" else "ar"
    site.write_settings()
    run_build(site, in_process)
    assert parse(site.out / "index.html").html["dir"] == ("rtl" if site.settings["language"] == "ar" else "ltr")  # type: ignore[index]


EDITS: list[Callable[[Site, bool], None]] = [
    edit_page,
    add_correction,
    toggle_language,
    edit_body,
    edit_tags,
    edit_title,
    add_article,
    delete_article,
    rename_article,
    link_then_delete_target,
    edit_settings,
    toggle_base_url,
    toggle_relative,
    toggle_drafts,
    edit_template,
    touch_template,
    add_static_file,
    change_static_file,
]


def make_site(root: Path, out: Path, rng: random.Random) -> Site:
    site = Site(root, out, rng)
    root.mkdir(parents=True)
    site.write_settings()
    for n, (topic, day, tags) in enumerate(
        [("policy", 3, "[EU, courts]"), ("policy", 5, "[safety]"), ("research", 4, "[chips, EU]"), ("research", 6, "[energy]")]
    ):
        rel = f"{topic}/story-{n}.md"
        write_article(root, rel, article_front(f"Story {n}", date=f"2026-03-{day:02d}", tags=tags), f"Body of story {n}.\n\nA second paragraph.\n")
        site.articles.append(rel)
    write_article(root, "policy/draft-story.md", article_front("A draft", draft="true"), "Not yet.\n")
    site.articles.append("policy/draft-story.md")
    (root / "templates").mkdir()
    shutil.copy(BUNDLED / "templates" / "_footer.html", root / "templates" / "_footer.html")
    site.made = 10
    return site


def compare(site: Site, fresh: Path, manifests: list[str]) -> None:
    """The cached output must equal the fresh one; a manifest that differs is noted (and fails the test at the end)."""
    cached, clean = snapshot(site.out), snapshot(fresh)
    steps = "\n  ".join(site.log)
    context = f"seed {SEED}, after:\n  {steps}"
    assert sorted(cached) == sorted(clean), (
        f"files differ: only cached {sorted(cached.keys() - clean.keys())}, only fresh {sorted(clean.keys() - cached.keys())}; {context}"
    )
    different = sorted(name for name in cached if name != MANIFEST and cached[name] != clean[name])
    assert different == [], f"{context}\nfiles whose bytes differ: {different}"
    if cached[MANIFEST] != clean[MANIFEST]:
        manifests.append(f"after step {len(site.log)} ({site.log[-1]})")


def test_cached_builds_after_random_edits_equal_a_clean_build_in_a_new_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    rng = random.Random(SEED)
    site = make_site(tmp_path / "site", tmp_path / "out", rng)
    run_build(site, in_process=False)
    edits = EDITS[:]
    rng.shuffle(edits)  # every kind of edit once, in a random order, then a few more at random
    edits += rng.choices(EDITS, k=1)
    manifests: list[str] = []
    checkpoints = {len(edits) // 2, len(edits)}
    for step, edit in enumerate(edits, start=1):
        in_process = rng.random() < 0.6  # a new process costs half a second: some of the builds, not all
        site.log.append(f"{edit.__name__} ({'in process' if in_process else 'new process'})")
        edit(site, in_process)
        if step in checkpoints:
            compare(site, fresh_build(site, tmp_path / f"fresh-{step}"), manifests)
    # The manifest of a --no-cache build of the same folder, to tell "cached" from "another copy".
    same = build_site(
        BuildOptions(source=site.root, output=tmp_path / "same", base_url=site.base_url, relative=site.relative, include_drafts=site.drafts, cache=False)
    )
    assert (same.output / MANIFEST).read_bytes() == (site.out / MANIFEST).read_bytes(), (
        "the cached build's manifest differs from a clean build's of the same folder"
    )
    assert manifests == [], f"seed {SEED}: every other file is equal, but .digest-manifest differs from a fresh copy's {manifests}"


def test_an_immediate_edit_of_the_same_size_is_seen(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    """Two writes within one tick of a coarse clock keep the file's size and time: the memo must not trust such a stamp."""
    site = copy_site("minimal")
    article = site / "content/policy/second-story.md"
    out = tmp_path / "out"
    for word in ("alpha", "gamma", "delta"):
        text = article.read_text(encoding="utf-8").replace("Second body.", f"Second body {word}.")
        article.write_text(text, encoding="utf-8")
        written = article.stat()
        build_site(BuildOptions(source=site, output=out))
        # The same size and modification time, as a file system with one-second times would show.
        article.write_text(text.replace(word, word[::-1]), encoding="utf-8")
        os.utime(article, ns=(written.st_atime_ns, written.st_mtime_ns))
        assert article.stat().st_size == written.st_size
        for in_process in (True, False):
            if in_process:
                build_site(BuildOptions(source=site, output=out))
            else:
                done = subprocess.run([sys.executable, str(REPO / "build.py"), "-q", "-s", str(site), "-o", str(out)], capture_output=True, text=True)
                assert done.returncode == 0, done.stderr
            body = parse(page_file(out, "/policy/second-story/")).select_one(".body").get_text()  # type: ignore[union-attr]
            assert f"Second body {word[::-1]}." in body, (word, in_process, body)
        article.write_text(article.read_text(encoding="utf-8").replace(f"Second body {word[::-1]}.", "Second body."), encoding="utf-8")


def test_a_template_edit_is_seen_by_a_new_process_that_finds_the_template_compiled_in_the_memo(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    """The memo keeps compiled templates by the site's settings (render.CompiledTemplates); an edited template is compiled anew."""
    site, out = copy_site("minimal"), tmp_path / "out"
    footer = site / "templates" / "_footer.html"
    footer.parent.mkdir(exist_ok=True)
    original = (BUNDLED / "templates" / "_footer.html").read_text(encoding="utf-8")
    for step, word in enumerate(["first", "second", "third"]):
        footer.write_text(original.replace("</footer>", f'<p class="marker">{word}</p>\n</footer>'), encoding="utf-8")
        article = site / "content/policy/second-story.md"  # a body edit: only the article's page is rendered
        article.write_text(article.read_text(encoding="utf-8") + f"\nEdit {step}.\n", encoding="utf-8")
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "-q", "-s", str(site), "-o", str(out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        for page in (out / "index.html", page_file(out, "/policy/second-story/")):
            assert parse(page).select_one(".site-footer .marker").get_text() == word  # type: ignore[union-attr]


def test_the_feed_of_an_empty_topic_follows_the_sites_newest_article(copy_site: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the random test (seed 3): an empty feed's <updated> is the site's newest change, an input its hash must declare."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = copy_site("minimal")  # the research topic is in site.yaml and has no article
    build_site(BuildOptions(source=site, output=tmp_path / "out"))
    write_article(site, "policy/newer.md", article_front("A newer story", date="2026-04-09"))
    cached = build_site(BuildOptions(source=site, output=tmp_path / "out")).output
    fresh = build_site(BuildOptions(source=site, output=tmp_path / "fresh", cache=False)).output
    for name in ("topics/research/feed.xml", "topics/research/feed.json"):
        assert (cached / name).read_text(encoding="utf-8") == (fresh / name).read_text(encoding="utf-8"), name
    assert "<updated>2026-04-09T00:00:00+00:00</updated>" in (fresh / "topics/research/feed.xml").read_text(encoding="utf-8")


def test_a_cache_folder_that_cannot_be_made_only_makes_the_build_slower(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    """A site folder where .digest-cache cannot be made (read-only, or a file of that name): the build publishes, says so, exits 0."""
    site = copy_site("minimal")
    (site / ".digest-cache").write_text("not a folder", encoding="utf-8")
    for _ in range(2):  # the second build finds no memo either, and still succeeds
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(tmp_path / "out")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Built "), done.stdout
    fresh = build_site(BuildOptions(source=site, output=tmp_path / "fresh", cache=False)).output
    assert snapshot(tmp_path / "out") == snapshot(fresh)


def test_a_memo_without_a_file_keeps_in_memory_only_what_the_last_build_used(tmp_path: Path) -> None:
    """serve keeps one memo for hours: with no file to write, each build still drops from memory what it did not use."""
    (tmp_path / ".digest-cache").write_text("not a folder", encoding="utf-8")
    memo = Memo(tmp_path)
    memo.put("stage", b"old", "value of an earlier build")
    memo.save()
    memo.put("stage", b"new", "value of this build")
    memo.save()
    assert memo.get("stage", b"new") == "value of this build"
    memo.save()  # the second build used only b"new"
    assert memo.get("stage", b"old") is None
    assert memo.get("stage", b"new") == "value of this build"
