"""The search index (digest/search.py) and the pages around it, read from the built sample site; the browser tests search it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import EPOCH, Built, build_fresh, page_file, parse
from sitekit import snapshot

from digest import search
from digest.memo import BUNDLED
from digest.site import BuildOptions, BuildResult, build_site


def add_paragraph(text: str) -> str:
    return text + "\nA paragraph about zymurgy.\n"


def edit_story(site: Path, change: Callable[[str], str]) -> None:
    """Change the text of the sample's distillation explainer."""
    story = next((site / "content").rglob("what-is-model-distillation.md"))
    story.write_text(change(story.read_text(encoding="utf-8")), encoding="utf-8")


def pagefind_runs(monkeypatch: pytest.MonkeyPatch, before: Callable[[], object] = lambda: None) -> list[Path]:
    """The page folders Pagefind is run on from now on (calling *before* first each time)."""
    runs: list[Path] = []
    run_pagefind = search._pagefind
    monkeypatch.setattr(search, "_pagefind", lambda pages, *rest: before() or runs.append(pages) or run_pagefind(pages, *rest))
    return runs


def test_the_index_has_a_language_for_each_articles_language_and_the_chrome_keeps_the_sites(sample_site: Built) -> None:
    entry = json.loads((sample_site.out / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert sorted(entry["languages"]) == ["ar", "en"]
    assert sum(language["page_count"] for language in entry["languages"].values()) == len(sample_site.site.index.articles)
    arabic = next(a for a in sample_site.site.index.articles if a.lang == "ar")
    soup = parse(page_file(sample_site.out, arabic.url))
    assert soup.html is not None and (soup.html["lang"], soup.html["dir"]) == ("en", "ltr")
    body = soup.select_one("article[data-pagefind-body]")
    assert body is not None and (body["lang"], body["dir"]) == ("ar", "rtl")
    assert soup.select_one("nav.site-nav") is not None and soup.select_one("nav.site-nav").find_parent(attrs={"lang": "ar"}) is None  # type: ignore[union-attr]


def test_search_false_leaves_out_the_index_the_page_and_the_box(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("sample")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + "search: false\n", encoding="utf-8")
    build(site, cache=False)
    out = tmp_path / "out"
    assert not (out / "pagefind").exists() and not (out / "search").exists()
    assert parse(out / "index.html").select("form[role=search]") == []


def test_lists_show_no_single_page_count_and_topic_pages_offer_their_feed(sample_site: Built) -> None:
    topic = sample_site.site.index.topics[0]
    soup = parse(page_file(sample_site.out, topic.url))
    assert soup.select(".page-header .count") == []
    follow = soup.select_one(".follow")
    assert follow is not None and "Follow this topic" in follow.get_text()
    assert follow.select_one(".feed-url").get_text().endswith(topic.url + "feed.xml")  # type: ignore[union-attr]
    assert "list-topic" in soup.body["class"]  # type: ignore[index]


def test_serve_leaves_the_index_for_the_next_build_which_makes_it_as_a_clean_build_does(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = copy_site("sample")
    out = tmp_path / "out"
    later = lambda: build_site(BuildOptions(source=site, output=out), search_later=True)  # noqa: E731
    first = later()
    assert first.search_pending and not (out / "pagefind").exists() and (out / "search" / "index.html").is_file()
    assert not build(site).search_pending and (out / "pagefind" / "pagefind-entry.json").is_file()
    indexed = snapshot(out / "pagefind")
    edit_story(site, add_paragraph)
    assert later().search_pending
    assert snapshot(out / "pagefind") == indexed  # the last index stays, whole, meanwhile
    build(site)
    build(site, output=tmp_path / "clean", cache=False)
    assert snapshot(out) == snapshot(tmp_path / "clean") and snapshot(out / "pagefind") != indexed


def test_a_storys_sources_are_listed_by_outlet_name(sample_site: Built) -> None:
    for story in sample_site.site.index.stories:
        names = [a.get_text() for a in parse(page_file(sample_site.out, story.url)).select("section[aria-labelledby=outlets-heading] a")]
        assert names == sorted(names, key=str.casefold) and names, story.url


def test_a_site_without_articles_builds_without_an_index(tmp_path: Path) -> None:
    (tmp_path / "site" / "content").mkdir(parents=True)
    (tmp_path / "site" / "site.yaml").write_text("title: Empty\n", encoding="utf-8")
    build_site(BuildOptions(source=tmp_path / "site", output=tmp_path / "out", cache=False))
    assert (tmp_path / "out" / "search" / "index.html").is_file() and not (tmp_path / "out" / "pagefind").exists()


@pytest.mark.parametrize(
    "edit",
    [
        (add_paragraph, 1),
        # New tags change other pages' related stories too: their links, which the index does not read.
        (lambda text: text.replace("tags: [distillation, explainer, training, Grok, OpenAI, Anthropic]", "tags: [explainer, chips, Nvidia, policy]"), 4),
    ],
    ids=["body", "tags"],
)
def test_an_edit_makes_one_shard_of_the_index_again_and_the_result_is_a_clean_builds(
    copy_site: Callable[[str], Path],
    build: Callable[..., BuildResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sample_site: Built,
    edit: tuple[Callable[[str], str], int],
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(search, "SHARD_SIZE", 2)
    site = copy_site("sample")
    out = tmp_path / "out"
    build(site)
    assert json.loads((out / "pagefind" / "shards.json").read_text(encoding="utf-8")) == {"shards": 8}
    before, pages_before = snapshot(out / "pagefind"), snapshot(out)
    edit_story(site, edit[0])
    indexed = pagefind_runs(monkeypatch)
    build(site)
    assert len(indexed) == 1  # Pagefind ran on one shard
    after = snapshot(out / "pagefind")
    changed = {rel.split("/")[0] if rel.split("/")[0].isdigit() else "0" for rel in before.keys() ^ after.keys()}
    assert len(changed) == 1 and all(before[rel] == after[rel] for rel in before.keys() & after.keys() if rel.split("/")[0] not in changed)
    articles = {a.url.strip("/") + "/index.html" for a in sample_site.site.index.articles}
    assert len({rel for rel, data in snapshot(out).items() if rel in articles and pages_before[rel] != data}) >= edit[1]  # article pages changed
    build(site, output=tmp_path / "clean", cache=False)
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_with_its_own_article_template_a_site_is_indexed_by_whole_pages(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its template may index the related stories too: so a shard is made again when any of its pages changes.
    monkeypatch.setattr(search, "SHARD_SIZE", 2)
    site = copy_site("sample")
    (site / "templates").mkdir(exist_ok=True)
    shutil.copy(BUNDLED / "templates" / "article.html", site / "templates" / "article.html")
    build(site)
    edit_story(site, lambda text: text.replace("tags: [distillation, explainer,", "tags: [chips, Nvidia,"))
    indexed = pagefind_runs(monkeypatch)
    build(site)
    assert len(indexed) > 1


def test_pagefind_given_only_the_article_makes_the_index_it_makes_of_whole_pages(sample_site: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staged pages are cut down to their data-pagefind-body article: fails when article.html puts what Pagefind reads outside it."""
    cut = search._indexed_part
    staged: list[bytes] = []
    monkeypatch.setattr(search, "_indexed_part", lambda page, lang: staged.append(page) or search._with_lang(page, lang))
    whole = build_fresh("sample", tmp_path / "whole")
    assert len(staged) == len(whole.site.index.articles)  # every article page went through, staged whole this time
    assert snapshot(whole.out / "pagefind") == snapshot(sample_site.out / "pagefind")
    for page in staged:  # and the sample's own index was made from the articles alone
        alone = BeautifulSoup(cut(page, "en"), "html.parser")
        article = alone.select("body > article[data-pagefind-body]")
        assert len(article) == 1 and article[0].h1 is not None
        assert [child.name for child in alone.body.find_all(recursive=False)] == ["article"]
        assert len(cut(page, "en")) < 0.8 * len(page)


def test_an_index_given_up_leaves_the_output_as_it_was_and_the_next_build_makes_it(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve gives the index up when a save comes while it is being made (preview.Indexer).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = copy_site("sample")
    out = tmp_path / "out"
    build(site)
    edit_story(site, add_paragraph)
    assert build_site(BuildOptions(source=site, output=out), search_later=True).search_pending
    served = snapshot(out)
    cancel = threading.Event()
    pagefind_runs(monkeypatch, before=cancel.set)  # the save comes as Pagefind starts
    with pytest.raises(search.Cancelled):
        build_site(BuildOptions(source=site, output=out), check_unchanged=False, cancel=cancel)
    assert snapshot(out) == served
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    build(site)
    build(site, output=tmp_path / "clean", cache=False)
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_a_save_while_the_index_build_is_still_loading_gives_it_up_at_the_next_stage(
    copy_site: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve's next save waits for the index being made to let go (preview.Indexer.stop): it must not wait for a whole build.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = copy_site("sample")
    out = tmp_path / "out"
    assert build_site(BuildOptions(source=site, output=out), search_later=True).search_pending
    served = snapshot(out)
    runs = pagefind_runs(monkeypatch)
    cancel = threading.Event()
    stages: list[str] = []
    save_comes = lambda stage: stages.append(stage) or (stage == "reading articles" and cancel.set())  # noqa: E731
    with pytest.raises(search.Cancelled):
        build_site(BuildOptions(source=site, output=out), save_comes, check_unchanged=False, cancel=cancel)
    assert stages == ["reading articles"] and runs == []
    assert snapshot(out) == served


def test_shards_made_before_the_index_was_given_up_are_not_made_again(
    copy_site: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve gives a large site's first index up at every save: what it made already must not be lost each time.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(search, "SHARD_SIZE", 1)
    site = copy_site("sample")
    out = tmp_path / "out"
    assert build_site(BuildOptions(source=site, output=out), search_later=True).search_pending  # the pages, no index yet
    cancel = threading.Event()
    runs = pagefind_runs(monkeypatch, before=lambda: len(runs) == 2 and cancel.set())  # the save comes as the third shard starts
    with pytest.raises(search.Cancelled):
        build_site(BuildOptions(source=site, output=out), check_unchanged=False, cancel=cancel)
    assert len(runs) == 3
    runs.clear()
    build_site(BuildOptions(source=site, output=out), check_unchanged=False)
    shards = json.loads((out / "pagefind" / "shards.json").read_text(encoding="utf-8"))["shards"]
    assert shards > 3 and len(runs) == shards - 2  # the two shards made before were taken as they were
    build_site(BuildOptions(source=site, output=tmp_path / "clean", cache=False))
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_no_shard_is_left_empty_when_languages_have_fewer_articles_than_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/sites/feeds: three English articles, one Arabic, one Chinese; in four shards the first would be empty.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(search, "SHARD_SIZE", 1)
    built = build_fresh("feeds", tmp_path)
    shards = json.loads((built.out / "pagefind" / "shards.json").read_text(encoding="utf-8"))["shards"]
    entries = [json.loads((built.out / "pagefind" / (f"{n}/" if n else "") / "pagefind-entry.json").read_text(encoding="utf-8")) for n in range(shards)]
    counts: dict[str, int] = {}
    for entry in entries:
        assert entry["languages"]
        for language, index in entry["languages"].items():
            counts[language] = counts.get(language, 0) + index["page_count"]
    wanted: dict[str, int] = {}
    for article in built.site.index.articles:
        wanted[article.lang.lower()] = wanted.get(article.lang.lower(), 0) + 1
    assert shards == 2 and counts == wanted


def test_a_pagefind_binary_that_cannot_start_is_named_and_the_output_is_left_as_it_was(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.errors import UsageError

    site = copy_site("feeds")
    out = tmp_path / "out"
    build(site, output=out, cache=False)
    before = snapshot(out)
    broken = tmp_path / "pagefind"
    broken.write_text("not a program", encoding="utf-8")  # not executable
    monkeypatch.setattr("pagefind.service.get_executable", lambda: broken)
    with pytest.raises(UsageError) as raised:
        build_site(BuildOptions(source=site, output=out, cache=False))
    assert f"could not start Pagefind's binary {broken}" in str(raised.value) and "cannot write" not in str(raised.value)
    assert snapshot(out) == before


def test_a_build_removes_the_scratch_folders_of_builds_killed_outright(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    """A SIGKILLed build cannot remove its staged pages, which may sit in RAM (/dev/shm): the next build that indexes does."""
    scratch = Path(search._scratch_folder(1) or tempfile.gettempdir())
    dead, alive = scratch / "digest-search-999999999-x1", scratch / f"digest-search-{os.getpid()}-x2"
    for folder in (dead, alive):
        (folder / "pages").mkdir(parents=True)
    try:
        build(copy_site("minimal"), cache=False)
        assert not dead.exists() and alive.is_dir()  # a running process's folder stays
    finally:
        shutil.rmtree(dead, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)
