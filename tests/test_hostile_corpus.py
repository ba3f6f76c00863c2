"""The hostile-input corpus: one file in tests/hostile/ per attack class, built on both Markdown engines.

Each article file says in YAML comments at the top of its front matter what it
attacks (``# attack:``) and what the build must do with it: ``# expect: safe``
(the site builds and nothing in it can run script, break a feed or a sitemap)
or one ``# expect: LINE: MESSAGE`` per error the build must report, located in
that file, and nothing else. tests/hostile/assets/ holds files a contributor
must not be able to publish from content/.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO
from sitekit import html_pages, unsafe_markup

from digest.errors import ContentError
from digest.site import BuildOptions, build_site
from digest.terminal import escape_controls

CORPUS = REPO / "tests" / "hostile"
ATTACKS = sorted(CORPUS.glob("*.md"))
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
SECONDS = 10  # a guard far above the expected time (well under a second), not a benchmark
MAX_OUTPUT = 20 * 2**20  # bytes: the whole minimal site with one hostile article


def expectations(path: Path) -> list[tuple[int, str]] | None:
    """The errors *path* must produce as (line, message), or None when it must build safely."""
    said = [line.removeprefix("# expect: ") for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# expect: ")]
    assert said, f"{path.name} says what it expects in a '# expect:' comment"
    if said == ["safe"]:
        return None
    return [(int(line), message) for line, _, message in (text.partition(": ") for text in said)]


def site_with(tmp_path: Path, engine: str) -> Path:
    site = tmp_path / "site"
    shutil.copytree(REPO / "tests" / "sites" / "minimal", site)
    with (site / "site.yaml").open("a", encoding="utf-8") as settings:
        settings.write(f"markdown_engine: {engine}\nshare_images: true\n")
    return site


@pytest.fixture(params=["python", "rust"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("attack", ATTACKS, ids=[path.stem for path in ATTACKS])
def test_each_attack_is_refused_with_located_errors_or_built_safely(attack: Path, engine: str, tmp_path: Path) -> None:
    site = site_with(tmp_path, engine)
    shutil.copy(attack, site / "content" / "policy" / attack.name)
    out = tmp_path / "out"
    expected = expectations(attack)
    started = time.perf_counter()
    if expected is not None:
        with pytest.raises(ContentError) as caught:
            build_site(BuildOptions(source=site, output=out, cache=False))
        assert time.perf_counter() - started < SECONDS
        found = [(p.path, p.line, escape_controls(p.message)) for p in caught.value.problems if p.is_error]
        assert found == [(f"content/policy/{attack.name}", line, message) for line, message in expected]
        assert not out.exists(), "a refused build writes nothing"
        return
    build_site(BuildOptions(source=site, output=out, cache=False))
    assert time.perf_counter() - started < SECONDS
    files = [path for path in out.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) < MAX_OUTPUT
    slug_pages = [page for page in html_pages(out) if page.parent.name == attack.stem]
    assert slug_pages, "the hostile article has its own page"
    for page in html_pages(out):
        assert unsafe_markup(page.read_text(encoding="utf-8")) == [], page
    for path in files:
        if path.suffix in (".xml", ".json", ".html", ".txt"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text), f"a control character reached {path}"
    for path in out.rglob("*.xml"):
        root = ET.parse(path).getroot()  # every feed and sitemap still parses
        for element in root.iter():
            if element.tag.endswith(("}updated", "}published")):
                assert element.text is not None and RFC3339.fullmatch(element.text), f"{path}: {element.text!r} is not an RFC 3339 date"
    for path in out.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_content_cannot_publish_markup_replace_site_files_or_link_out(tmp_path: Path) -> None:
    site = site_with(tmp_path, "python")
    policy = site / "content" / "policy"
    for asset in sorted((CORPUS / "assets").iterdir()):
        shutil.copy(asset, policy / asset.name)
    (site / "content" / "static" / "css").mkdir(parents=True)
    (site / "content" / "static" / "css" / "site.css").write_text("main { display: none }\n", encoding="utf-8")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("token = secret\n", encoding="utf-8")
    (policy / "config.txt").symlink_to("../../.git/config")
    (site / ".env").write_text("KEY=secret\n", encoding="utf-8")
    (policy / "env.txt").symlink_to("../../.env")
    with pytest.raises(ContentError) as caught:
        build_site(BuildOptions(source=site, output=tmp_path / "out", cache=False))
    refused = "expected an image, PDF, audio, video, text or data file, found {}, which content/ does not publish; move it to static/ (served under /static/) or root/ (at the top of the site)"
    hidden = "expected a file inside content/ with no hidden name on its path, found a symbolic link to a file elsewhere (link only to files under content/)"
    assert sorted((p.path, p.message) for p in caught.value.problems if p.is_error) == [
        ("content/policy/_headers", refused.format("a file without a type")),
        ("content/policy/_redirects", refused.format("a file without a type")),
        ("content/policy/config.txt", hidden),
        ("content/policy/drawing.svg", refused.format("a .svg file")),
        ("content/policy/env.txt", hidden),
        ("content/policy/page.html", refused.format("a .html file")),
        ("content/policy/script.js", refused.format("a .js file")),
        (
            "content/static/css/site.css",
            "expected no file under content/static/, found one: /static/css/site.css belongs to static/ (the site's own files); move it there",
        ),
    ]
    assert not (tmp_path / "out").exists()
