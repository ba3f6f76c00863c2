"""Incremental builds: after any sequence of edits, the output equals a clean build's, byte for byte.

A hypothesis state machine edits a small site (bodies, tags, titles, dates,
topics, stories, drafts, links between articles, assets, templates and
site.yaml; adds, deletes and renames articles) and after every step builds it
twice: incrementally into one folder, through the cache, and from nothing into
another with the cache off. The two folders must hold the same files with the
same bytes. Other tests check what the cache may skip and that a damaged cache
is ignored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sitekit import snapshot

from digest.errors import ContentError
from digest.site import BuildOptions, BuildResult, build_site

EPOCH = "1800000000"  # 2027-01-15: SOURCE_DATE_EPOCH, so "now" is the same in both builds
TOPICS = ("policy", "research", "business")
TAGS = ("chips", "open weights", "safety", "eu ai act", "robotics", "GPUs")
WORDS = ("model", "lab", "court", "chip", "release", "policy", "agent", "benchmark", "grant", "data")


def front(n: int, **over: str) -> dict[str, str]:
    fields = {
        "title": f'"Story number {n}"',
        "date": f"2026-0{1 + n % 9}-1{n % 10}T0{n % 10}:00:00Z",
        "tags": "[" + ", ".join(TAGS[(n + k) % len(TAGS)] for k in range(1 + n % 3)) + "]",
        "sources": f"[https://outlet{n % 3}.example.com/{n}]",
        "confidence": str(40 + n),
        "summary": f'"Summary of story {n}."',
    }
    fields.update(over)
    return fields


def render_front(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in fields.items() if v != "")


class SiteEdits(RuleBasedStateMachine):
    """A site that is edited step by step and checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(os.environ["DIGEST_PROPERTY_TMP"]) / f"run-{id(self)}-{os.urandom(3).hex()}"
        self.site = self.root / "site"
        self.articles: dict[str, tuple[dict[str, str], str]] = {}  # rel path -> (front, body)
        self.counter = 0

    @initialize()
    def make_site(self) -> None:
        self.site.mkdir(parents=True)
        (self.site / "site.yaml").write_text(
            "title: Property Digest\nbase_url: https://example.org/\ntimezone: UTC\nper_page: 3\nrelated_count: 2\nfeed_items: 3\nshare_images: false\n"
            "topics:\n  policy:\n    name: Policy\n  research:\n    name: Research\n",
            encoding="utf-8",
        )
        for n in range(6):
            self._write(f"{TOPICS[n % 3]}/story-{n}.md", front(n), self._body(n))
        self.counter = 6

    def _body(self, n: int, extra: str = "") -> str:
        words = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(12))
        return f"Lead paragraph {n}: {words}.\n\n## Details\n\nMore {words}.\n{extra}"

    def _write(self, rel: str, fields: dict[str, str], body: str) -> None:
        path = self.site / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{render_front(fields)}\n---\n{body}", encoding="utf-8")
        self.articles[rel] = (fields, body)

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.articles)))

    @rule(data=st.data(), text=st.sampled_from(WORDS))
    def edit_body(self, data: st.DataObject, text: str) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            self._write(rel, fields, body + f"\nA new line about the {text}.\n")

    @rule(data=st.data(), tags=st.lists(st.sampled_from(TAGS), min_size=0, max_size=3, unique=True))
    def edit_tags(self, data: st.DataObject, tags: list[str]) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            self._write(rel, {**fields, "tags": "[" + ", ".join(tags) + "]"}, body)

    @rule(data=st.data(), word=st.sampled_from(WORDS))
    def edit_title(self, data: st.DataObject, word: str) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            self._write(rel, {**fields, "title": f'"A {word} story"'}, body)

    @rule(data=st.data(), month=st.integers(1, 12), future=st.booleans())
    def edit_date(self, data: st.DataObject, month: int, future: bool) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            year = 2028 if future else 2025
            self._write(rel, {**fields, "date": f"{year}-{month:02d}-03T12:00:00Z"}, body)

    @rule(data=st.data(), story=st.sampled_from(["", "chip-ban", "court-case"]), draft=st.booleans())
    def edit_story_or_draft(self, data: st.DataObject, story: str, draft: bool) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            self._write(rel, {**fields, "story": story, "draft": "true" if draft else ""}, body)

    @rule(data=st.data(), expires=st.booleans())
    def edit_expiry(self, data: st.DataObject, expires: bool) -> None:
        if self.articles:
            rel = self._pick(data)
            fields, body = self.articles[rel]
            self._write(rel, {**fields, "expires": "2026-12-01" if expires else ""}, body)

    @rule(topic=st.sampled_from(TOPICS))
    def add_article(self, topic: str) -> None:
        n = self.counter = self.counter + 1
        self._write(f"{topic}/added-{n}.md", front(n), self._body(n))

    @rule(data=st.data())
    def delete_article(self, data: st.DataObject) -> None:
        if len(self.articles) > 1:
            rel = self._pick(data)
            (self.site / "content" / rel).unlink()
            del self.articles[rel]
            self._drop_links_to(rel)

    @rule(data=st.data(), topic=st.sampled_from(TOPICS))
    def rename_article(self, data: st.DataObject, topic: str) -> None:
        if self.articles:
            rel = self._pick(data)
            n = self.counter = self.counter + 1
            new = f"{topic}/renamed-{n}.md"
            (self.site / "content" / new).parent.mkdir(parents=True, exist_ok=True)
            (self.site / "content" / rel).rename(self.site / "content" / new)
            self.articles[new] = self.articles.pop(rel)
            self._drop_links_to(rel)

    @rule(data=st.data())
    def link_articles(self, data: st.DataObject) -> None:
        if len(self.articles) > 1:
            source, target = self._pick(data), self._pick(data)
            fields, body = self.articles[source]
            relative = os.path.relpath(self.site / "content" / target, (self.site / "content" / source).parent)
            self._write(source, fields, body + f"\nSee [the other story]({relative}).\n")

    def _drop_links_to(self, gone: str) -> None:
        """Links to a removed file are an error; take them out, as an editor would."""
        for rel, (fields, body) in list(self.articles.items()):
            kept = "\n".join(line for line in body.split("\n") if not (line.startswith("See [") and line.rstrip(").").endswith(Path(gone).name)))
            if kept != body:
                self._write(rel, fields, kept)

    @rule(add=st.booleans())
    def asset(self, add: bool) -> None:
        path = self.site / "content/research/chart.png"
        if add:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG" + os.urandom(4))
        elif path.exists():
            path.unlink()

    @rule(variant=st.sampled_from(["card", "article", "none"]))
    def edit_template(self, variant: str) -> None:
        folder = self.site / "templates"
        shutil.rmtree(folder, ignore_errors=True)
        if variant == "none":
            return
        folder.mkdir()
        name = "_card.html" if variant == "card" else "article.html"
        text = (REPO / "templates" / name).read_text(encoding="utf-8")
        if variant == "card":
            text = text.replace('class="card"', 'class="card edited"')
        else:
            text = text.replace("<h1>", '<h1 class="edited">').replace("{% if story and story.articles|length > 1 %}", "{% if story %}")
        (folder / name).write_text(text, encoding="utf-8")

    @rule(per_page=st.integers(2, 4), related=st.integers(0, 3))
    def edit_settings(self, per_page: int, related: int) -> None:
        path = self.site / "site.yaml"
        lines = [line for line in path.read_text(encoding="utf-8").split("\n") if not line.startswith(("per_page:", "related_count:"))]
        lines.insert(3, f"per_page: {per_page}\nrelated_count: {related}")
        path.write_text("\n".join(lines), encoding="utf-8")

    @invariant()
    def incremental_equals_clean(self) -> None:
        if not self.site.exists():
            return
        incremental = self.root / "incremental"
        clean = self.root / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        before = snapshot(incremental)
        errors: list[list[str]] = []
        for output, cache in ((incremental, True), (clean, False)):
            try:
                build_site(BuildOptions(source=self.site, output=output, cache=cache))
            except ContentError as exc:  # e.g. a link to an article that became a draft
                errors.append([str(p) for p in exc.problems])
        if errors:
            assert len(errors) == 2 and errors[0] == errors[1], errors
            assert snapshot(incremental) == before
        else:
            assert snapshot(incremental) == snapshot(clean)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def property_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGEST_PROPERTY_TMP", str(tmp_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("DIGEST_VERIFY_KEPT", "1")  # every page an update does not key must key as unchanged
    return tmp_path


def test_incremental_builds_equal_clean_builds(property_tmp: Path) -> None:
    machine = SiteEdits.TestCase
    machine.settings = settings(
        max_examples=int(os.environ.get("DIGEST_PROPERTY_EXAMPLES", "12")), stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
    )
    machine().runTest()


# ----------------------------------------------------------------------------
# what the cache skips, and what it refuses to trust


@pytest.fixture
def built(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = copy_site("sample")
    first = build(site)
    assert first.mode == "fresh"
    return site, tmp_path / "out"


def test_a_rebuild_with_no_change_writes_nothing(built: tuple[Path, Path], build: Callable[..., BuildResult]) -> None:
    site, out = built
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    inodes = {p: p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    again = build(site)
    assert again.mode == "unchanged" and again.written == 0
    assert {p: p.stat().st_ino for p in out.rglob("*") if p.is_file()} == inodes
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_a_body_edit_rewrites_only_that_page(built: tuple[Path, Path], build: Callable[..., BuildResult]) -> None:
    site, out = built
    inodes = {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    path = next(iter(sorted((site / "content").rglob("*.md"))))
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more paragraph for the record.\n", encoding="utf-8")
    again = build(site)
    assert again.mode == "update"
    changed = sorted(rel for rel, ino in inodes.items() if (out / rel).stat().st_ino != ino)
    # its page, the manifest, and the feeds that carry its full text
    assert changed and all(rel.endswith(("/index.html", "feed.xml", "feed.json", ".digest-manifest")) for rel in changed)
    assert sum(rel.endswith("index.html") for rel in changed) == 1
    assert "One more paragraph for the record." in next((out / rel).read_text(encoding="utf-8") for rel in changed if rel.endswith("index.html"))


def test_a_tags_edit_renders_only_the_pages_that_show_the_article(built: tuple[Path, Path], build: Callable[..., BuildResult]) -> None:
    site, out = built
    path = site / "content/research/chinese-open-weight-models-qwen.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("tags: [", "tags: [robots at work, ", 1), encoding="utf-8")
    again = build(site)
    assert again.mode == "update"
    articles = len(list((site / "content").rglob("*.md")))
    # its page, the pages that list or relate it, the tag pages: far fewer than every page
    assert 0 < again.rendered < again.pages // 2, (again.rendered, again.pages)
    tag_page = out / "tags/robots-at-work/index.html"
    assert tag_page.is_file() and "Qwen" in tag_page.read_text(encoding="utf-8")
    assert articles > 10


def test_a_corrupt_cache_is_ignored(built: tuple[Path, Path], build: Callable[..., BuildResult], copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site, out = built
    database = site / ".digest-cache" / "build.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    path = next(iter(sorted((site / "content").rglob("*.md"))))
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited after the cache broke.\n", encoding="utf-8")
    again = build(site)
    assert again.mode == "fresh"
    clean = build(site, output=tmp_path / "clean", cache=False)
    assert snapshot(out) == snapshot(clean.output)


def test_a_cache_written_anew_replaces_the_old_one_and_its_log(built: tuple[Path, Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    """Without a usable cache the build writes a new database whole, beside the old one, and renames it into place.

    Left beside it, the log of an old one must not touch it (SQLite ignores such a log; the build deletes it too).
    """
    site, out = built
    database = site / ".digest-cache" / "build.sqlite"
    log = Path(str(database) + "-wal")
    # A valid log of the old database, with changes not yet in it, left behind without its database.
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE outputs SET digest = x'00'")
    old_log = log.read_bytes()
    writer.close()
    database.unlink()  # and its log left behind
    log.write_bytes(old_log)
    assert build(site).mode == "fresh"
    names = {p.name for p in database.parent.iterdir()}
    assert "build.sqlite" in names and not [name for name in names if name.endswith(".partial")], names
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert build(site).mode == "unchanged"
    path = next(iter(sorted((site / "content").rglob("*.md"))))
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited after the cache was written anew.\n", encoding="utf-8")
    assert build(site).mode == "update"
    assert snapshot(out) == snapshot(build(site, output=tmp_path / "clean", cache=False).output)


def test_a_cache_that_fails_to_be_written_anew_leaves_no_file_behind(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import digest.incremental

    site = copy_site("basic")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(digest.incremental, "save_index", broken)
    with pytest.raises(OSError, match="disk full"):
        build(site)
    assert [p.name for p in (site / ".digest-cache").iterdir() if "sqlite" in p.name] == []
    monkeypatch.undo()
    assert build(site).mode == "fresh"
    assert build(site).mode == "unchanged"


def test_a_cache_with_wrong_entries_is_not_trusted_for_the_output(built: tuple[Path, Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    """A hand-edited output file is not what the cache recorded: the manifest check catches a replaced folder."""
    site, out = built
    shutil.rmtree(out)
    again = build(site)
    assert again.mode == "fresh"
    assert snapshot(out) == snapshot(build(site, output=tmp_path / "clean", cache=False).output)


def test_a_cached_body_that_contradicts_its_article_makes_the_build_start_over(
    built: tuple[Path, Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    # A body edit reads other bodies from the cache only when a feed asks for them; one whose
    # row no longer matches its article must not be trusted, but rebuilt with everything else.
    site, out = built
    database = site / ".digest-cache" / "build.sqlite"
    with sqlite3.connect(database) as db:
        published = "SELECT b.path FROM bodies b JOIN sources s ON s.path = b.path"  # a body is kept for each published article
        newest = db.execute(f"{published} ORDER BY s.published DESC").fetchone()[0]
        # the newest other body with no links or problems: one that is not looked at unless asked for
        second = db.execute(f"{published} WHERE b.links = '' AND b.problems IS NULL AND b.path != ? ORDER BY s.published DESC", (newest,)).fetchone()[0]
        db.execute("UPDATE bodies SET key = x'00', body = 'stale' WHERE path = ?", (second,))
    edited = site / newest
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nA new closing paragraph.\n", encoding="utf-8")  # the summary stays
    again = build(site)
    assert again.mode == "fresh"  # both are in the site's feed, which had to be made again
    assert "stale" not in (out / "feed.xml").read_text(encoding="utf-8")
    assert snapshot(out) == snapshot(build(site, output=tmp_path / "clean", cache=False).output)


def test_the_cache_key_holds_the_version_of_every_library_that_shapes_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each is named as it is installed, so its version (not "none") is in the key, and an
    # upgrade, say of markdown-it-py, makes the next build parse and render everything again.
    from importlib import metadata

    from digest import cache

    pinned = {line.split("==")[0].lower() for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines() if "==" in line}
    for name in cache.LIBRARIES:
        assert name.lower() in pinned, name
        assert metadata.version(name), name
    before = cache.generator_version()
    real = metadata.version
    for name in cache.LIBRARIES:
        monkeypatch.setattr(metadata, "version", lambda asked, changed=name: "99.0" if asked == changed else real(asked))
        assert cache.generator_version() != before, name
    monkeypatch.setattr(metadata, "version", real)
    assert cache.generator_version() == before


def test_the_no_change_check_notices_a_library_upgrade(
    built: tuple[Path, Path], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An upgrade replaces a library's files; until then "nothing changed" must not hide it.
    import importlib.util
    from importlib.machinery import ModuleSpec

    site, _out = built
    assert build(site).mode == "unchanged"
    installed = tmp_path / "markdown_it" / "__init__.py"
    installed.parent.mkdir()
    installed.write_text("# version 1\n", encoding="utf-8")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, package=None: ModuleSpec(name, None, origin=str(installed)) if name == "markdown_it" else real(name, package)
    )
    assert build(site).mode == "update"  # not the file the last build saw
    assert build(site).mode == "unchanged"
    installed.unlink()
    installed.write_text("# version 2, as an upgrade writes it\n", encoding="utf-8")
    assert build(site).mode == "update"


def test_the_remembered_generator_version_is_taken_again_after_an_upgrade(
    built: tuple[Path, Path], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The cache remembers the generator's version by the stat signatures of what it reads;
    # an upgrade replaces a library's files and its version, and the next build renders everything again.
    import importlib.util
    from importlib import metadata
    from importlib.machinery import ModuleSpec

    from digest import cache

    site, _out = built
    path = next(iter(sorted((site / "content").rglob("*.md"))))
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    monkeypatch.setattr(cache, "generator_version", lambda: pytest.fail("the remembered version was not used"))
    assert build(site).mode == "update"
    monkeypatch.undo()
    installed = tmp_path / "jinja2" / "__init__.py"
    installed.parent.mkdir()
    installed.write_text("# an upgraded Jinja\n", encoding="utf-8")
    real_spec, real_version = importlib.util.find_spec, metadata.version
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, package=None: ModuleSpec(name, None, origin=str(installed)) if name == "jinja2" else real_spec(name, package)
    )
    monkeypatch.setattr(metadata, "version", lambda name: "99.0" if name == "Jinja2" else real_version(name))
    again = build(site)
    assert again.mode == "update" and again.rendered == again.pages


def test_a_damaged_or_missing_index_file_is_not_trusted(built: tuple[Path, Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site, out = built
    index_file = site / ".digest-cache" / "index.pickle"
    bucket = sorted((site / ".digest-cache").glob("index-articles-*.pickle"))[0]
    assert index_file.is_file() and bucket.is_file()
    path = site / "content/research/chinese-open-weight-models-qwen.md"
    for damage in ("garbage", "missing", "bucket"):
        if damage == "garbage":
            index_file.write_bytes(b"not an index" * 100)
        elif damage == "missing":
            index_file.unlink()
        else:
            bucket.write_bytes(bucket.read_bytes()[:-20])
        path.write_text(path.read_text(encoding="utf-8").replace("tags: [", f"tags: [{damage} tag, ", 1), encoding="utf-8")
        again = build(site)
        assert again.mode == "update"
        assert snapshot(out) == snapshot(build(site, output=tmp_path / f"clean-{damage}", cache=False).output)
        assert index_file.is_file()  # saved again


def test_the_cache_is_dropped_when_its_schema_changes(built: tuple[Path, Path], build: Callable[..., BuildResult]) -> None:
    site, _out = built
    database = site / ".digest-cache" / "build.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA user_version=999")
    path = next(iter(sorted((site / "content").rglob("*.md"))))
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    assert build(site).mode == "fresh"


def test_page_keys_recomputed_in_another_process_equal_the_stored_ones(built: tuple[Path, Path]) -> None:
    # bench/keys.py keys every page again from the cache, in a fresh process with another hash
    # seed: a key that depended on the process (an id, a set's order) would make updates render
    # pages for nothing, or keep stale ones.
    site, _out = built
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "keys.py"), "--site", str(site), "--runs", "1"], capture_output=True, text=True, env=env, check=True
    )
    lines = {line.split()[0]: dict(part.split("=") for part in line.split()[1:]) for line in result.stdout.splitlines()}
    assert set(lines) == {"keys", "deps"}
    assert int(lines["keys"]["pages"]) > 100 and lines["keys"]["unchanged"] == lines["keys"]["pages"]
    assert int(lines["deps"]["pages"]) > 100 and lines["deps"]["unchanged"] == lines["deps"]["pages"]


def test_a_tags_edit_rewrites_only_the_article_bucket_of_the_stored_index_that_holds_it(built: tuple[Path, Path], build: Callable[..., BuildResult]) -> None:
    from digest.cache import Cache
    from digest.stored_index import BUCKET_FILE, bucket_of, load_index

    site, _out = built
    folder = site / ".digest-cache"
    inodes = {p.name: p.stat().st_ino for p in folder.glob("index-articles-*.pickle")}
    rel = "content/research/chinese-open-weight-models-qwen.md"
    path = site / rel
    path.write_text(path.read_text(encoding="utf-8").replace("tags: [", "tags: [a bucket test, ", 1), encoding="utf-8")
    assert build(site).mode == "update"
    rewritten = sorted(name for name, ino in inodes.items() if (folder / name).stat().st_ino != ino)
    cache = Cache(site)
    assert cache.open()
    stored = load_index(cache, cache.get("index")[2])
    assert stored is not None
    assert rewritten == [BUCKET_FILE.format(bucket_of(next(a for a in stored.index.articles if a.path == rel)))]
    assert stored is not None
    edited = next(a for a in stored.index.articles if a.path == rel)
    assert "a bucket test" in edited.tags
    assert any(t.key == "a bucket test" and edited in t.articles for t in stored.index.tags)  # one object, wherever the index holds it
    cache.close()
