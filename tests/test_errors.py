"""Every class of bad input fails with `path:line: message`, all at once, writing nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from digest.errors import ContentError, Severity
from digest.site import BuildOptions, build_site, load_site

INVALID = Path(__file__).resolve().parent / "invalid"
EXPECTED = yaml.safe_load((INVALID / "expected.yaml").read_text(encoding="utf-8"))
REPO = Path(__file__).resolve().parent.parent

SITE_YAML = "title: Errors\nbase_url: https://example.test/\ntopics:\n  news: {name: News}\n"
GOOD = "---\ntitle: Good\ndate: 2026-01-01\ntags: [a]\nsources: [https://example.test/g]\nconfidence: 50\n---\nFine.\n"


def make_site(root: Path, files: dict[str, bytes]) -> Path:
    (root / "content" / "news").mkdir(parents=True)
    (root / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    for name, data in files.items():
        (root / "content" / "news" / name).write_bytes(data)
    return root


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_article_is_reported_with_its_line(name: str, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {name: (INVALID / name).read_bytes(), "good.md": GOOD.encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    errors = [p for p in failure.value.problems if p.severity is Severity.ERROR]
    assert len(errors) == 1, errors
    problem = errors[0]
    assert problem.path == f"content/news/{name}"
    assert problem.line == EXPECTED[name]["line"], str(problem)
    assert EXPECTED[name]["message"] in problem.message
    assert str(problem).startswith(f"content/news/{name}:{EXPECTED[name]['line']}: error: ")


def test_all_problems_are_reported_in_one_run(tmp_path: Path) -> None:
    files = {name: (INVALID / name).read_bytes() for name in EXPECTED}
    site = make_site(tmp_path / "site", files)
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert {p.path for p in failure.value.problems if p.is_error} == {f"content/news/{name}" for name in EXPECTED}


def test_a_broken_link_is_reported_with_the_front_matter_errors_of_its_own_file(tmp_path: Path) -> None:
    text = "---\ntitle: Both\ndate: 2026-01-01\ntags: [a]\nsources: [https://example.test/a]\nconfidence: lots\nimage: gone.png\n---\nSee [gone](gone.md).\n"
    site = make_site(tmp_path / "site", {"both.md": text.encode(), "good.md": GOOD.encode()})
    with pytest.raises(ContentError) as failure:
        build_site(BuildOptions(source=site, output=tmp_path / "out"))
    found = [(p.line, p.message.split(":")[0]) for p in failure.value.problems if p.is_error]
    assert found == [(6, "confidence"), (7, "image"), (9, 'link to "gone.md"')]  # the missing image too, not after the fix


def test_a_link_to_an_article_whose_front_matter_is_broken_is_not_a_second_error(tmp_path: Path) -> None:
    """One typo, one error: the file that links to the broken one is not blamed for it."""
    broken = GOOD.replace("confidence: 50", "confidence: [50")
    linking = GOOD.replace("title: Good", "title: Linking") + "\nSee [the other](good.md#part).\n"
    site = make_site(tmp_path / "site", {"good.md": broken.encode(), "linking.md": linking.encode()})
    with pytest.raises(ContentError) as failure:
        build_site(BuildOptions(source=site, output=tmp_path / "out"))
    assert [(p.path, p.line) for p in failure.value.problems if p.is_error] == [("content/news/good.md", 6)]


def test_cli_lists_every_error_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {name: (INVALID / name).read_bytes() for name in ("bad-url.md", "bad-date.md")})
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "--source", str(site)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "content/news/bad-date.md:3: error: date:" in run.stderr
    assert "content/news/bad-url.md:8: error: sources:" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (site / "_site").exists()


def test_two_articles_with_the_same_url_name_both_files(tmp_path: Path) -> None:
    other = GOOD.replace("title: Good", "title: Other\nslug: good")
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode(), "other.md": other.encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    (problem,) = failure.value.problems
    assert problem.path == "content/news/other.md"
    assert "URL /news/good/ is already used by content/news/good.md" in problem.message

    # A newer article that takes the URL is the one to change, whichever file name sorts first; links to the older still work.
    newer = GOOD.replace("title: Good", "title: Newer\nslug: good").replace("2026-01-01", "2026-06-01")
    linking = GOOD.replace("title: Good", "title: Linking") + "\nSee [the good one](good.md).\n"
    site = make_site(tmp_path / "site2", {"good.md": GOOD.encode(), "aaa-newer.md": newer.encode(), "linking.md": linking.encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [(p.path, p.message) for p in failure.value.problems] == [
        ("content/news/aaa-newer.md", 'URL /news/good/ is already used by content/news/good.md; set a different "slug:"')
    ]


def test_an_empty_slug_or_required_field_is_reported_at_its_own_line(tmp_path: Path) -> None:
    text = GOOD.replace("title: Good", "title: Good\nslug: ''").replace("confidence: 50", "confidence:")
    site = make_site(tmp_path / "site", {"good.md": text.encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems] == [
        'content/news/good.md:3: error: slug: expected a short name of letters, digits and hyphens, found the text ""',
        "content/news/good.md:7: error: confidence: expected a value, found an empty value",
    ]


def test_an_update_before_publication_shows_the_times_when_the_days_alone_do_not_tell(tmp_path: Path) -> None:
    text = GOOD.replace("date: 2026-01-01", "date: 2025-12-31T23:30:00-08:00\nupdated: 2026-01-01T05:00:00+14:00")  # 16.5 hours before
    site = make_site(tmp_path / "site", {"good.md": text.encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems] == [
        "content/news/good.md:4: error: updated: expected a date on or after the publication date 2025-12-31T23:30:00-08:00, found 2026-01-01T05:00:00+14:00"
    ]


def test_an_update_or_correction_written_as_the_publication_day_is_that_day(tmp_path: Path) -> None:
    """A date without a time reads as midnight: on the day an article came out (in the site's zone), that was before it."""
    same_day = "date: 2025-12-31T18:20:00-08:00\nupdated: 2026-01-01\ncorrections:\n  - {date: 2026-01-01, text: A name was wrong.}"
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("date: 2026-01-01", same_day).encode()})  # the site's zone is UTC
    article = load_site(BuildOptions(source=site)).articles[0]
    assert article.updated == article.date == article.corrections[0].date  # that day, not before the article
    day_before = GOOD.replace("date: 2026-01-01", "date: 2026-01-01T10:00:00Z\nupdated: 2025-12-31")
    (site / "content/news/good.md").write_text(day_before, encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems] == [
        "content/news/good.md:4: error: updated: expected a date on or after the publication date 2026-01-01, found 2025-12-31"
    ]


def test_jobs_must_be_one_or_more(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    for jobs in ("0", "-1", "two"):
        run = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-j", jobs], capture_output=True, text=True, check=False)
        assert run.returncode == 2 and f'--jobs/-j: expected a number of worker processes, 1 or more, found "{jobs}"' in run.stderr, run.stderr
    assert not (site / "_site").exists()


def test_a_port_out_of_range_is_a_usage_error_before_anything_is_built(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    for port in ("99999", "-1", "http"):
        run = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "-s", str(site), "--port", port], capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and f'--port/-p: expected a port from 0 to 65535, found "{port}"' in run.stderr, run.stderr
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "-s", str(site), "--host", ""], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--host: expected an address such as 127.0.0.1, found nothing" in run.stderr, run.stderr  # not every network


def test_unknown_field_warns_with_the_closest_name(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("confidence: 50", "confidence: 50\nsumary: typo").encode()})
    loaded = load_site(BuildOptions(source=site))
    (problem,) = loaded.warnings
    assert problem.severity is Severity.WARNING and problem.line == 7
    assert problem.message == 'unknown field "sumary" (did you mean "summary"?); it is ignored'


def test_names_from_other_generators_get_the_hint_of_the_field_or_setting_they_mean(tmp_path: Path) -> None:
    front = "confidence: 50\nlastmod: 2026-03-06\ndescription: A line.\ncategories: [policy]\nfeatured_image: a.png"
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("confidence: 50", front).encode()})
    (site / "site.yaml").write_text('baseURL: "https://news.example.net/"\ntitle: Tensor\nlanguageCode: en-us\npaginate: 15\n', encoding="utf-8")
    shown = [str(p) for p in load_site(BuildOptions(source=site)).warnings]
    assert shown[1:] == [
        'content/news/good.md:7: warning: unknown field "lastmod" (did you mean "updated"?); it is ignored',
        'content/news/good.md:8: warning: unknown field "description" (did you mean "summary"?); it is ignored',
        'content/news/good.md:9: warning: unknown field "categories" (did you mean "topic"?); it is ignored',
        'content/news/good.md:10: warning: unknown field "featured_image" (did you mean "image"?); it is ignored',
        "site.yaml: warning: base_url: expected the address readers use (https://example.org/), found none: "
        "links in feeds and sitemaps lead to http://localhost:8000/",
        'site.yaml:1: warning: unknown setting "baseURL" (did you mean "base_url"?); it is ignored',
        'site.yaml:3: warning: unknown setting "languageCode" (did you mean "language"?); it is ignored',
        'site.yaml:4: warning: unknown setting "paginate" (did you mean "per_page"?); it is ignored',
    ]
    given = [str(p) for p in load_site(BuildOptions(source=site, base_url="https://news.example.net/")).warnings]
    assert given == shown[:5] + shown[6:]  # --base-url gives it


def test_a_duplicate_key_does_not_hide_the_other_mistakes_of_its_file(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("confidence: 50", "confidence: 500\ntitle: Again").encode()})
    (site / "site.yaml").write_text(SITE_YAML + "per_page: 0\nper_page: ten\n", encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    shown = [str(p) for p in failure.value.problems if p.is_error]
    assert any(s.startswith("site.yaml:") and 'duplicate key "per_page"' in s for s in shown)
    assert any(s.startswith("site.yaml:") and 'per_page: expected a whole number, found the text "ten"' in s for s in shown)
    assert any(s.startswith("content/news/good.md:") and 'duplicate key "title"' in s for s in shown)  # the articles are checked too
    assert any(s.startswith("content/news/good.md:6: error: confidence:") for s in shown)


def test_byte_order_mark_and_crlf_line_ends_are_accepted(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    site = make_site(tmp_path / "site", {"good.md": data})
    loaded = load_site(BuildOptions(source=site))
    assert [a.title for a in loaded.articles] == ["Good"]


def test_bad_site_yaml_is_reported_with_lines(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    site_yaml = "title: X\nper_page: ten\ntimezone: Mars/Base\nbase_url: ftp://x\nlanguag: en\ntopics:\n  policy: {name: Policy, descripton: Rules}\n"
    (site / "site.yaml").write_text(site_yaml, encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    shown = [str(p) for p in failure.value.problems]
    assert 'site.yaml:2: error: per_page: expected a whole number, found the text "ten"' in shown
    assert any(s.startswith("site.yaml:3: error: timezone: expected an IANA time zone") for s in shown)
    assert any(s.startswith("site.yaml:4: error: base_url: expected an absolute http(s) URL") for s in shown)
    assert 'site.yaml:5: warning: unknown setting "languag" (did you mean "language"?); it is ignored' in shown
    assert 'site.yaml:7: warning: topics.policy: unknown key "descripton" (did you mean "description"?); it is ignored' in shown

    # A base URL that would be written broken into every canonical link, and a zone that depends on the building machine.
    (site / "site.yaml").write_text("base_url: https://exa mple.org/a b/\ntimezone: utc\n", encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems if p.path == "site.yaml"] == [
        'site.yaml:1: error: base_url: expected a URL without spaces or <>"`{}|\\^ (percent-encode them), found "https://exa mple.org/a b/"',
        'site.yaml:2: error: timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", found "utc" (did you mean "UTC"?)',
    ]
    for setting, found in (
        ("base_url: https://example.org:99999/", "a port from 0 to 65535"),
        ("timezone: localtime", "the zone of the machine that builds"),
        ("base_url: https://desk:s3cret@example.org/", "without a user name or password"),
        ("output_dir: ~/www", 'a folder path as it is (no shell expands "~" or "$NAME" here), found "~/www"'),
    ):
        (site / "site.yaml").write_text(setting + "\n", encoding="utf-8")
        with pytest.raises(ContentError) as failure:
            load_site(BuildOptions(source=site))
        assert found in str(next(p for p in failure.value.problems if p.is_error)) and "s3cret" not in str(failure.value.problems)


def test_an_unreadable_site_yaml_value_is_reported_once(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    (site / "site.yaml").write_text("title: !!timestamp soon\nbase_url: https://example.test/\n", encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems if p.is_error] == ['site.yaml:1: error: title: could not read value ("soon" is not a valid timestamp)']


def test_a_site_yaml_linking_to_a_missing_file_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    """A link to shared settings that has gone missing: building with the defaults would publish another site."""
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    (site / "site.yaml").unlink()
    (site / "site.yaml").symlink_to("../shared/site.yaml")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    shown = [str(p) for p in failure.value.problems]
    assert shown == ["site.yaml: error: expected site.yaml to be a file, found a link to a missing file (../shared/site.yaml)"]


def test_previous_output_survives_a_failed_cli_build(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    build_site(BuildOptions(source=site))
    index = (site / "_site" / "index.html").read_bytes()
    shutil.copy(INVALID / "confidence-range.md", site / "content" / "news" / "bad.md")
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert (site / "_site" / "index.html").read_bytes() == index


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad_flag = subprocess.run([sys.executable, str(REPO / "build.py"), "--no-such-flag"], capture_output=True, text=True, check=False)
    assert bad_flag.returncode == 2
    site = make_site(tmp_path / "site", {"good.md": GOOD.encode()})
    into_source = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(site)], capture_output=True, text=True, check=False)
    assert into_source.returncode == 2
    assert "refusing" in into_source.stderr


def test_check_piped_into_a_reader_that_stops_early_keeps_its_verdict_and_says_nothing_more(tmp_path: Path) -> None:
    three = GOOD.replace("confidence: 50", "confidence: 500\nreview: maybe\nlang: 1")
    broken = {f"bad-{n:03d}.md": three.encode() for n in range(400)}  # 1,200 errors: far more than a pipe holds
    site = make_site(tmp_path / "site", broken)
    command = [sys.executable, str(REPO / "build.py"), "check", "--format", "json", "-s", str(site)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10).startswith(b"[")  # `| head -c 10`
        process.stdout.close()
        errors = process.stderr.read().decode()
    assert process.returncode == 1, errors  # the errors still fail a `set -o pipefail` CI step
    assert "Traceback" not in errors and "BrokenPipe" not in errors


def test_an_article_on_the_url_of_a_page_the_build_makes_is_told_to_change_its_slug(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"tags.md": GOOD.encode()})
    (site / "site.yaml").write_text(SITE_YAML + 'permalink: "/{slug}/"\n', encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        'content/news/tags.md:1: error: content/news/tags.md would be written to /tags/, which is already used by the page “Tags”; set a different "slug:"'
    ]


def test_a_mistyped_command_is_named_with_the_closest_one() -> None:
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "serv"], capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert 'error: expected a command (build, check, clean, serve, new, edition), found "serv" (did you mean "serve"?)' in run.stderr


def test_a_message_never_breaks_a_line_so_an_article_cannot_forge_a_ci_log_command(tmp_path: Path) -> None:
    body = "Fine.\n\n[x](/old%0A::warning%20title=Forged::looks%20official%0A) and [y](a%0A::error%20file=build.py::Injected%0A)\n"
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("Fine.\n", body).encode()})
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "-s", str(site)], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "::error" in run.stderr and "::warning" in run.stderr
    assert not [line for line in run.stderr.splitlines() if line.startswith("::")], run.stderr


def test_a_page_under_static_is_an_error_as_hosts_cache_static_for_a_year(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("confidence: 50", "confidence: 50\ntopic: static\nslug: css").encode()})
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        "content/news/good.md:1: error: expected a URL outside /static/ (the site's own files), found /static/css/ for content/news/good.md"
    ]


def test_dates_at_the_ends_of_the_calendar_and_files_in_the_search_index_folder_are_errors_not_crashes(tmp_path: Path) -> None:
    front = "confidence: 50\ncorrections: [{date: 9999-12-31T23:59:00-12:00, text: x}]"
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("2026-01-01", "0001-01-01T00:00:00+14:00").replace("confidence: 50", front).encode()})
    (site / "content/pagefind").mkdir()
    (site / "content/pagefind/pagefind-entry.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_site(BuildOptions(source=site))
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        "content/news/good.md:3: error: date: expected a date from the year 2 to 9998, found 0001-01-01",
        "content/news/good.md:7: error: corrections: expected a date from the year 2 to 9998, found 9999-12-31",
        "content/pagefind/pagefind-entry.json: error: expected no file under /pagefind/, found /pagefind/pagefind-entry.json: "
        "the build writes the search index there; rename or move it",
    ]


def test_the_topic_not_listed_warning_is_at_the_topic_line_when_there_is_one(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"good.md": GOOD.replace("confidence: 50", "confidence: 50\ntopic: labs").encode()})
    assert [str(p) for p in load_site(BuildOptions(source=site)).warnings] == [
        'content/news/good.md:7: warning: topic "labs" is not listed under "topics" in site.yaml; its name is derived from the slug'
    ]
