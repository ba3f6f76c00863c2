"""Editions: membership by the site's time zone, stories once with their count, email copies (inline CSS, absolute links,
no script, the size limit), plain text, the editions feeds and the ``edition`` command."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import Built, page_file, parse, source_date
from sitekit import article_front, snapshot, unsafe_markup, write_article

from digest.cli import main
from digest.config import load_config
from digest.editions import EMAIL_LIMIT
from digest.site import BuildOptions, build_site, load_site

BASE = "https://news.example.org/digest/"
SITE_YAML = f"""\
title: Edition Test
base_url: {BASE}
timezone: America/Los_Angeles
editions: [daily, weekly]
topics:
  policy: {{name: Policy}}
  business: {{name: Business}}
"""
BIG_DAY = 40  # stories on 2026-03-26, each long enough that the email cannot hold them all
LONG = " ".join(["Regulators and labs keep trading drafts of the rules, and every draft moves the deadline again."] * 24)


def story(title: str, date: str, topic: str = "policy", **extra: str) -> str:
    fields = {"topic": topic, "summary": f'"Summary of {title}."', "why_it_matters": f'["It matters because of {title}."]', "review": "human-reviewed"}
    return article_front(title, date=date, **(fields | extra))


def make_site(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    # 23:30 on the 30th in Los Angeles is 06:30 on the 31st in UTC; the second is written in UTC.
    write_article(root, "policy/late-night.md", story("Late night ruling", "2026-03-30T23:30:00-07:00"))
    write_article(root, "policy/written-in-utc.md", story("Filed in UTC", "2026-03-31T05:30:00Z"))
    write_article(root, "policy/morning.md", story("Morning hearing", "2026-03-31T08:00:00-07:00"))
    official = "[{url: 'https://court.example/docket', official: true}]"
    write_article(root, "business/deal-a.md", story("Chip deal announced", "2026-03-31T09:00:00-07:00", "business", story="chip-deal"))
    write_article(root, "business/deal-b.md", story("Chip deal filing", "2026-03-31T10:00:00-07:00", "business", story="chip-deal", sources=official))
    write_article(root, "policy/script.md", story("<script>alert(1)</script> & co", "2026-03-31T11:00:00-07:00"))
    for n in range(BIG_DAY):
        front = story(f"Busy day story {n:02d}", f"2026-03-26T{8 + n // 6:02d}:{n % 6 * 10:02d}:00-07:00", summary=f'"{LONG}"')
        write_article(root, f"policy/busy-{n:02d}.md", front)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("editions")
    source = make_site(folder / "src")
    with source_date():
        result = build_site(BuildOptions(source=source, output=folder / "out", cache=False))
        site = load_site(BuildOptions(source=source))
    return Built(source, folder / "out", site, result)


def titles(soup: BeautifulSoup) -> list[str]:
    return [h.get_text() for h in soup.select("article.card h3")]


def test_an_article_belongs_to_the_day_of_its_local_time(built: Built) -> None:
    thirtieth = titles(parse(page_file(built.out, "/editions/2026/03/30/")))
    assert sorted(thirtieth) == ["Filed in UTC", "Late night ruling"]
    thirty_first = titles(parse(page_file(built.out, "/editions/2026/03/31/")))
    assert "Late night ruling" not in thirty_first and "Morning hearing" in thirty_first
    week = titles(parse(page_file(built.out, "/editions/2026/w14/")))  # March 30 to April 5
    assert {"Late night ruling", "Filed in UTC", "Morning hearing"} <= set(week) and "Busy day story 00" not in week


def test_a_story_with_several_reports_appears_once_with_its_count(built: Built) -> None:
    soup = parse(page_file(built.out, "/editions/2026/03/31/"))
    shown = titles(soup)
    assert shown.count("Chip deal filing") == 1 and "Chip deal announced" not in shown  # led by its official report
    count = soup.select_one('a.count[href="/digest/stories/chip-deal/"]')
    assert count is not None and count.get_text() == "2 reports"
    assert [h.get_text() for h in soup.select(".edition-topic h2")] == ["Policy", "Business"]  # the site's topic order
    card = soup.select("article.card")[0]
    assert card.select_one(".card-summary") and card.select_one(".card-why") and card.select_one(".badge.confidence") and card.select_one(".badge.review")


def test_the_home_page_links_the_latest_edition_and_the_index_lists_them(built: Built) -> None:
    link = parse(page_file(built.out, "/")).select_one(".todays-edition a")
    assert link is not None and link["href"] == "/digest/editions/2026/03/31/"
    index = parse(page_file(built.out, "/editions/"))
    listed = [a["href"] for a in index.select(".index-list a")]
    assert listed[:3] == ["/digest/editions/2026/03/31/", "/digest/editions/2026/03/30/", "/digest/editions/2026/03/26/"]
    assert "/digest/editions/2026/w14/" in listed and "/digest/editions/2026/w13/" in listed


def email(built: Built, url: str) -> tuple[bytes, BeautifulSoup]:
    data = (built.out / url.lstrip("/")).read_bytes()
    return data, BeautifulSoup(data, "html.parser")


@pytest.mark.parametrize("url", ["/editions/2026/03/31/email.html", "/editions/2026/03/26/email.html", "/editions/2026/w13/email.html"])
def test_the_email_is_inlined_absolute_and_scriptless(built: Built, url: str) -> None:
    data, soup = email(built, url)
    assert len(data) <= EMAIL_LIMIT
    assert soup.find("style") is None and soup.find("link") is None and soup.find("script") is None
    assert unsafe_markup(data.decode()) == []
    assert soup.select("table[role=presentation]") and all(td.get("style") for td in soup.find_all("td"))
    assert all(a.get("style") for a in soup.find_all("a"))
    hrefs = [str(a["href"]) for a in soup.find_all("a")]
    assert hrefs and all(href.startswith(BASE) for href in hrefs), hrefs
    for href in hrefs:  # every link leads to a file of the site
        assert page_file(built.out, "/" + href.removeprefix(BASE)).is_file(), href
    images = soup.find_all("img")  # the lead story's share image
    assert len(images) == 1 and images[0]["width"] == "592" and images[0]["alt"] == soup.select("td h3")[0].get_text()
    assert page_file(built.out, "/" + str(images[0]["src"]).removeprefix(BASE)).is_file()
    assert "&lt;script&gt;" in data.decode() or "2026/03/31" not in url  # the hostile headline, escaped


def test_a_large_edition_lists_what_fits_and_links_the_rest(built: Built) -> None:
    data, soup = email(built, "/editions/2026/03/26/email.html")
    stories = soup.select("td h3 a")
    assert 0 < len(stories) < BIG_DAY and len(data) <= EMAIL_LIMIT
    more = [a for a in soup.find_all("a") if "more stories on the web" in a.get_text()]
    assert len(more) == 1 and more[0]["href"] == BASE + "editions/2026/03/26/"
    assert more[0].get_text().startswith(f"{BIG_DAY - len(stories)} more")
    text = (built.out / "editions/2026/03/26/email.txt").read_text(encoding="utf-8")
    assert text.count("\n* ") == len(stories) and f"{BIG_DAY - len(stories)} more stories on the web: {BASE}editions/2026/03/26/" in text


def test_the_plain_text_has_every_storys_link(built: Built) -> None:
    for day in ("2026/03/30", "2026/03/31", "2026/w14"):
        _, soup = email(built, f"/editions/{day}/email.html")
        links = [str(a["href"]) for a in soup.select("td h3 a")]
        text = (built.out / f"editions/{day}/email.txt").read_text(encoding="utf-8")
        assert links and all(link in text.split() for link in links), day
        assert all(h3.get_text() in text for h3 in soup.select("td h3"))
    assert "<script>alert(1)</script> & co" in (built.out / "editions/2026/03/31/email.txt").read_text(encoding="utf-8")  # plain text, not HTML


def test_the_editions_feeds_have_an_entry_per_edition_with_the_email(built: Built) -> None:
    daily = feedparser.parse((built.out / "editions/daily.xml").read_bytes())
    assert not daily.bozo, daily.bozo_exception
    assert [e.link for e in daily.entries] == [BASE + f"editions/2026/03/{d}/" for d in ("31", "30", "26")]
    _, soup = email(built, "/editions/2026/03/31/email.html")
    content = daily.entries[0].content[0].value
    assert all(str(a["href"]) in content for a in soup.find_all("a")) and 'style="' in content
    weekly = json.loads((built.out / "editions/weekly.json").read_text(encoding="utf-8"))
    assert [item["url"] for item in weekly["items"]] == [BASE + "editions/2026/w14/", BASE + "editions/2026/w13/"]
    assert weekly["feed_url"] == BASE + "editions/weekly.json" and all(item["content_html"].startswith("<table") for item in weekly["items"])
    assert feedparser.parse((built.out / "editions/weekly.xml").read_bytes()).entries[0].id.startswith("tag:news.example.org,2026-03-30:")


def run_edition(built: Built, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with source_date():
        code = main(["edition", "--source", str(built.source), "--output", str(built.out), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_edition_command_says_where_the_files_are(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_edition(built, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Daily edition: March 31, 2026 — 3 stories from 4 reports"
    assert lines[1].split() == ["page", str(built.out / "editions/2026/03/31/index.html")]
    size = len((built.out / "editions/2026/03/31/email.html").read_bytes())
    assert lines[2].startswith(f"  email.html  {built.out / 'editions/2026/03/31/email.html'}  ({size / 1000:.1f} KB of at most 100.0 KB; every story)")
    assert "  - Business: Chip deal filing (2 reports)" in lines and "note:" not in out
    code, out, _ = run_edition(built, capsys, "--date", "2026-03-26")
    assert code == 0 and "the rest linked on the web" in out
    code, out, _ = run_edition(built, capsys, "--weekly", "--date", "2026-04-02")
    assert code == 0 and out.startswith("Weekly edition: Week 14, 2026 (March 30 – April 5) — ")
    # Asked of a folder the build has not written: the command to make it there, with the same options.
    with source_date():
        code = main(["edition", "--source", str(built.source), "--output", str(built.out / "elsewhere"), "--drafts"])
    out = capsys.readouterr().out
    assert code == 0 and f"run `python3 build.py --source {built.source} --drafts --output {built.out / 'elsewhere'}` first" in out
    with source_date(), pytest.MonkeyPatch.context() as patch:  # run as the command pip installs, which has no build.py
        patch.setattr(sys, "argv", ["/usr/local/bin/digest", "edition"])
        main(["edition", "--source", str(built.source), "--output", str(built.out / "else where")])
    assert f"run `digest build --source {built.source} --output '{built.out / 'else where'}'` first" in capsys.readouterr().out  # pasted as one


def test_the_edition_command_explains_a_missing_edition(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_edition(built, capsys, "--date", "2026-03-28")
    assert code == 2 and out == ""
    assert "no daily edition for 2026-03-28" in err and "(America/Los_Angeles)" in err and "--date 2026-03-26" in err and "latest --date 2026-03-31" in err


def test_the_editions_setting_is_checked(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("title: x\neditions: [daily, monthly]\n", encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert [(p.path, p.line, p.message) for p in problems] == [("site.yaml", 2, 'editions: expected a list of daily, weekly, found the text "monthly"')]
    (tmp_path / "site.yaml").write_text("title: x\neditions:\n  - daily\n  - montly\n", encoding="utf-8")
    config, problems = load_config(tmp_path)  # a block list: the item's own line
    assert [(p.line, p.message) for p in problems] == [(4, 'editions: expected a list of daily, weekly, found the text "montly"')]
    (tmp_path / "site.yaml").write_text("editions: []\n", encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert config.editions == () and problems == []


def test_no_editions_means_no_edition_files(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.yaml").write_text("editions: []\n", encoding="utf-8")
    write_article(source, "policy/one.md", story("Only story", "2026-03-31T08:00:00-07:00"))
    with source_date():
        build_site(BuildOptions(source=source, output=tmp_path / "out", cache=False))
    files = snapshot(tmp_path / "out")
    assert not any(name.startswith("editions") or name.endswith(("email.html", "daily.xml")) for name in files), files  # no index page either
    assert "/editions/" not in (tmp_path / "out/sitemap.xml").read_text(encoding="utf-8")
    assert parse(tmp_path / "out" / "index.html").select_one(".todays-edition") is None


def test_a_site_with_no_edition_yet_publishes_the_feeds_its_editions_page_links(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    write_article(source, "policy/draft.md", story("Not out yet", "2026-03-31T08:00:00-07:00", draft="true"))
    with source_date():
        build_site(BuildOptions(source=source, output=tmp_path / "out"))
    out = tmp_path / "out"
    links = [a["href"] for a in parse(out / "editions" / "index.html").select("link[rel=alternate], a[href$='.xml'], a[href$='.json']")]
    feeds = sorted({str(href) for href in links if "/editions/" in str(href)})
    assert feeds, "the editions page links its feeds"
    for href in feeds:
        path = out / str(href).removeprefix(BASE).removeprefix("/digest/")
        assert path.is_file(), f"{href} is linked but was not written"
        if path.suffix == ".json":
            assert json.loads(path.read_bytes())["items"] == []
        else:
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo and parsed.entries == [] and parsed.feed.title
    listed = {line.split("\t", 1)[1] for line in (out / ".digest-manifest").read_text(encoding="utf-8").splitlines()}
    assert all((out / name).is_file() for name in listed), "every file the manifest lists exists"


def test_a_cached_build_after_an_edit_equals_a_clean_one(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    write_article(source, "policy/one.md", story("First headline", "2026-03-31T08:00:00-07:00"))
    write_article(source, "business/two.md", story("Second headline", "2026-03-31T09:00:00-07:00", "business"))
    with source_date():
        build_site(BuildOptions(source=source, output=tmp_path / "cached"))
        write_article(source, "policy/one.md", story("Edited headline", "2026-03-31T08:00:00-07:00"))
        build_site(BuildOptions(source=source, output=tmp_path / "cached"))
        build_site(BuildOptions(source=source, output=tmp_path / "clean", cache=False))
    cached, clean = snapshot(tmp_path / "cached"), snapshot(tmp_path / "clean")
    assert b"Edited headline" in cached["editions/2026/03/31/email.html"] and b"Edited headline" in cached["editions/daily.xml"]
    assert cached == clean


def test_edition_pages_and_email_links_resolve(built: Built) -> None:
    from helpers import broken_links

    assert broken_links(built.out, "/digest/") == []
    assert re.search(r"<title>Edition Test: Daily edition: March 31, 2026</title>", (built.out / "editions/2026/03/31/email.html").read_text(encoding="utf-8"))


def test_edition_pages_advertise_their_feeds(built: Built) -> None:
    def advertised(url: str) -> list[str]:
        return [str(link["href"]) for link in parse(page_file(built.out, url)).select('link[rel="alternate"]')]

    assert advertised("/editions/") == [
        BASE + f for f in ("feed.xml", "feed.json", "editions/daily.xml", "editions/daily.json", "editions/weekly.xml", "editions/weekly.json")
    ]
    assert advertised("/editions/2026/w14/")[2:] == [BASE + "editions/weekly.xml", BASE + "editions/weekly.json"]


def test_weeks_are_iso_weeks_across_the_new_year() -> None:
    from datetime import date

    from digest.editions import edition_key

    assert edition_key("weekly", date(2027, 1, 1)) == ("2026-W53", "Week 53, 2026 (December 28 – January 3)", "/editions/2026/w53/", date(2026, 12, 28))
    assert edition_key("weekly", date(2027, 1, 4))[2] == "/editions/2027/w01/"
    assert edition_key("daily", date(2027, 1, 4))[2] == "/editions/2027/01/04/"
