"""An update keys only the pages an edit can reach (digest/changes.py), and those it skips are right.

Each test builds a small site, edits it, rebuilds it through the cache and
checks that the result equals a clean build. DIGEST_VERIFY_KEPT makes every
update key the pages it would have skipped too, and fail when one of them
changed: so an edit that reaches a page the shortcut misses fails here, even
when the page's bytes would happen to look the same.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sitekit import snapshot

from digest.site import BuildOptions, BuildResult, build_site

EPOCH = "1800000000"
TAGS = ("chips", "open weights", "safety", "robotics", "datasets", "agents", "GPUs", "courts")


def write(site: Path, n: int, *, tags: list[str] | None = None, title: str | None = None, source_name: str = "", story: str = "") -> None:
    topic = ("policy", "research", "business")[n % 3]
    tags = tags if tags is not None else [TAGS[n % len(TAGS)], TAGS[(n * 3 + 1) % len(TAGS)]]
    lines = [
        f'title: "{title or f"Report number {n}"}"',
        f"date: 2026-{1 + n % 12:02d}-{1 + n % 27:02d}T{n % 24:02d}:00:00Z",
        f"tags: [{', '.join(tags)}]",
        "sources:",
        f"  - url: https://outlet{n % 4}.example.com/{n}",
    ]
    if source_name:
        lines.append(f"    name: {source_name}")
    lines += [f"confidence: {40 + n}", f'summary: "What report {n} found."']
    if story:
        lines.append(f"story: {story}")
    path = site / "content" / topic / f"report-{n:02d}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + "\n".join(lines) + f"\n---\nReport {n} in full.\n\n## What happened\n\nDetails of report {n}.\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("DIGEST_VERIFY_KEPT", "1")
    root = tmp_path / "site"
    root.mkdir()
    (root / "site.yaml").write_text(
        "title: Changes Digest\nbase_url: https://example.org/\ntimezone: UTC\nper_page: 4\nrelated_count: 3\nshare_images: false\n"
        "topics:\n  policy:\n    name: Policy\n  research:\n    name: Research\n  business:\n    name: Business\n",
        encoding="utf-8",
    )
    for n in range(40):
        write(root, n, story="chip-export-rules" if n % 10 == 3 else "")
    return root


def update_equals_clean(site: Path, tmp_path: Path) -> BuildResult:
    """Build *site* through the cache, then from nothing elsewhere; both outputs must match."""
    result = build_site(BuildOptions(source=site, output=tmp_path / "incremental"))
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build_site(BuildOptions(source=site, output=clean, cache=False))
    assert snapshot(tmp_path / "incremental") == snapshot(clean)
    return result


def test_a_tags_edit_keys_a_small_part_of_the_site(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    write(site, 17, tags=["robotics", "brand new tag"])
    result = update_equals_clean(site, tmp_path)
    assert result.mode == "update"
    assert 0 < result.keyed < result.pages // 2, (result.keyed, result.pages)
    assert (tmp_path / "incremental/tags/brand-new-tag/index.html").is_file()


def test_a_tag_whose_spelling_changes_is_shown_anew_on_pages_of_articles_not_edited(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    # "GPUs" is spelled "gpus" by most of its articles now, so that becomes its name everywhere.
    carrying = [n for n in range(40) if "GPUs" in (TAGS[n % len(TAGS)], TAGS[(n * 3 + 1) % len(TAGS)])]
    for n in carrying[: len(carrying) // 2 + 1]:
        write(site, n, tags=["gpus", "chips"], story="chip-export-rules" if n % 10 == 3 else "")
    update_equals_clean(site, tmp_path)
    untouched = carrying[-1]
    page = tmp_path / "incremental" / ("policy", "research", "business")[untouched % 3] / f"report-{untouched:02d}/index.html"
    assert ">gpus</a>" in page.read_text(encoding="utf-8")


def test_an_outlet_renamed_by_its_sources_is_shown_anew_where_it_is_cited(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    for n in range(0, 40, 4):  # every article citing outlet0 now names it
        write(site, n, source_name="Outlet Zero Wire", story="chip-export-rules" if n % 10 == 3 else "")
    update_equals_clean(site, tmp_path)
    assert "Outlet Zero Wire" in (tmp_path / "incremental/sources/index.html").read_text(encoding="utf-8")


def test_a_story_page_shows_an_edited_report(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    write(site, 23, title="A new headline for report 23", story="chip-export-rules")
    result = update_equals_clean(site, tmp_path)
    assert result.keyed < result.pages
    assert "A new headline for report 23" in (tmp_path / "incremental/stories/chip-export-rules/index.html").read_text(encoding="utf-8")


def test_a_body_edit_after_a_tags_edit_is_shown_on_its_page(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    write(site, 5, tags=["courts"])
    update_equals_clean(site, tmp_path)
    path = site / "content/business/report-05.md"
    path.write_text(path.read_text(encoding="utf-8").replace("tags: [courts]", "tags: [courts, agents]") + "\nA late addition.\n", encoding="utf-8")
    update_equals_clean(site, tmp_path)
    assert "A late addition." in (tmp_path / "incremental/business/report-05/index.html").read_text(encoding="utf-8")


def test_an_article_moved_to_a_new_topic_puts_the_topic_in_every_page_navigation(site: Path, tmp_path: Path) -> None:
    update_equals_clean(site, tmp_path)
    path = site / "content/research/report-07.md"
    path.write_text(path.read_text(encoding="utf-8").replace("confidence:", "topic: ethics\nconfidence:", 1), encoding="utf-8")
    result = update_equals_clean(site, tmp_path)
    assert result.keyed == result.pages  # every page shows the topics
    assert 'href="/topics/ethics/"' in (tmp_path / "incremental/policy/report-00/index.html").read_text(encoding="utf-8")


# A body edit: the other articles' metadata is taken as the last build had it, without reading their cache rows.


def test_a_body_edit_reads_no_other_source(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from digest.incremental import CachedBuild

    update_equals_clean(site, tmp_path)
    path = site / "content/research/report-04.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line of reporting.\n", encoding="utf-8")
    monkeypatch.setattr(CachedBuild, "_read_sources", lambda *args: pytest.fail("every source was read for a body edit"))
    result = build_site(BuildOptions(source=site, output=tmp_path / "incremental"))
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert result.mode == "update"
    clean = tmp_path / "clean-body"
    build_site(BuildOptions(source=site, output=clean, cache=False))
    assert snapshot(tmp_path / "incremental") == snapshot(clean)
    assert "One more line of reporting." in (tmp_path / "incremental/research/report-04/index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", ["drafts", "earlier now", "later now"])
def test_a_body_edit_with_other_publishing_reads_every_source(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    # What is published can change with no metadata edit: the options, or the build's "now".
    path = site / "content/research/report-04.md"
    draft = site / "content/policy/report-99.md"
    draft.write_text(path.read_text(encoding="utf-8").replace("confidence:", "draft: true\nconfidence:", 1), encoding="utf-8")
    soon = site / "content/business/report-98.md"  # dated after the build's "now" (2027-01-15): not published yet
    soon.write_text(re.sub(r"date: .*", "date: 2027-01-20T09:00:00Z", path.read_text(encoding="utf-8"), count=1), encoding="utf-8")
    update_equals_clean(site, tmp_path)
    assert not (tmp_path / "incremental/business/report-98").exists()
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line of reporting.\n", encoding="utf-8")
    options: dict[str, object] = {}
    if change == "drafts":
        options["include_drafts"] = True
    elif change == "earlier now":
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01: the later reports are not out yet
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1801000000")  # 2027-01-26: report-98 is out
    result = build_site(BuildOptions(source=site, output=tmp_path / "incremental", **options))  # type: ignore[arg-type]
    clean = tmp_path / "clean-options"
    build_site(BuildOptions(source=site, output=clean, cache=False, **options))  # type: ignore[arg-type]
    assert snapshot(tmp_path / "incremental") == snapshot(clean)
    assert result.mode == "update"


@pytest.mark.parametrize("change", ["add", "remove", "redate"])
def test_an_article_added_removed_or_moved_keys_only_the_pages_it_reaches(site: Path, tmp_path: Path, change: str) -> None:
    """The lists it joins or leaves, and the pages of the articles it neighbours, are keyed again; not every page."""
    update_equals_clean(site, tmp_path)
    if change == "add":
        write(site, 40)
    elif change == "remove":
        (site / "content" / "research" / "report-16.md").unlink()
    else:
        path = site / "content" / "research" / "report-16.md"
        path.write_text(re.sub(r"(?m)^date: .*$", "date: 2026-06-30T12:00:00Z", path.read_text(encoding="utf-8")), encoding="utf-8")
    result = update_equals_clean(site, tmp_path)
    assert result.mode == "update"
    assert 0 < result.keyed < result.pages, (result.keyed, result.pages)


def test_a_new_story_renders_only_the_feeds_that_carry_it(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.incremental

    update_equals_clean(site, tmp_path)
    rendered: list[str] = []
    iter_feeds = digest.incremental.iter_feeds

    def recording(config: Any, index: Any, bodies: Any, feeds: Any, *more: Any) -> Any:
        rendered.extend(feed.link.atom for feed in feeds)
        return iter_feeds(config, index, bodies, feeds, *more)

    monkeypatch.setattr(digest.incremental, "iter_feeds", recording)
    write(site, 40, tags=["courts"])  # made the newest story of the site, in the research topic
    path = site / "content" / "research" / "report-40.md"
    path.write_text(re.sub(r"(?m)^date: .*$", "date: 2026-12-30T12:00:00Z", path.read_text(encoding="utf-8")), encoding="utf-8")
    build_site(BuildOptions(source=site, output=tmp_path / "incremental"))
    assert sorted(rendered) == ["/feed.xml", "/tags/courts/feed.xml", "/topics/research/feed.xml"]
    monkeypatch.setattr(digest.incremental, "iter_feeds", iter_feeds)
    update_equals_clean(site, tmp_path)
