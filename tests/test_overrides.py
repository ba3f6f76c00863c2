"""A site's own templates/ and static/ files take the place of the bundled ones, and edits to them are seen on a cached rebuild."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file, parse
from helpers import html_pages

from digest.errors import ContentError
from digest.memo import BUNDLED
from digest.site import BuildResult


def stylesheet(page: Path, out: Path) -> Path:
    """The file the page's site.css link leads to."""
    links = [str(link["href"]) for link in parse(page).select('link[rel="stylesheet"]') if "/site." in str(link["href"])]
    assert len(links) == 1, links
    return out / links[0].lstrip("/")


def test_a_sites_own_footer_and_stylesheet_replace_the_bundled_ones(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "templates").mkdir()
    footer = (BUNDLED / "templates/_footer.html").read_text(encoding="utf-8")
    (site / "templates/_footer.html").write_text(footer.replace("</footer>", '<p class="marker">Our own footer</p>\n</footer>'), encoding="utf-8")
    (site / "static/css").mkdir(parents=True)
    css = b"body { color: #123456; }\n"
    (site / "static/css/site.css").write_bytes(css)
    out = build(site).output
    pages = html_pages(out)
    assert len(pages) > 10
    for page in pages:
        marker = parse(page).select_one(".site-footer .marker")
        assert marker is not None and marker.get_text() == "Our own footer", page
        linked = stylesheet(page, out)
        assert linked.read_bytes() == css, page
        assert hashlib.sha256(css).hexdigest()[:10] in linked.name
    assert (out / "static/css/site.css").read_bytes() == css  # the plain name too, for hand-written links
    assert (BUNDLED / "static/css/site.css").read_bytes() not in {p.read_bytes() for p in (out / "static/css").iterdir()}


def test_template_and_stylesheet_edits_show_on_a_cached_rebuild(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    out = build(site).output
    bundled_css = stylesheet(out / "index.html", out).read_bytes()
    assert bundled_css == (BUNDLED / "static/css/site.css").read_bytes()
    # Add an override: the next cached build (in this process) shows it on every page.
    (site / "templates").mkdir()
    header = (BUNDLED / "templates/_header.html").read_text(encoding="utf-8")
    (site / "templates/_header.html").write_text(
        header.replace('<nav class="site-nav"', '<p class="marker">v1</p>\n    <nav class="site-nav"'), encoding="utf-8"
    )
    assert build(site).mode == "update"
    assert {parse(page).select_one(".site-header .marker").get_text() for page in html_pages(out)} == {"v1"}  # type: ignore[union-attr]
    # Edit it and the stylesheet; build in a new process, with the cache on disk.
    marker = site / "templates/_header.html"
    marker.write_text(marker.read_text(encoding="utf-8").replace(">v1<", ">v2<"), encoding="utf-8")
    (site / "static/css").mkdir(parents=True)
    (site / "static/css/site.css").write_bytes(bundled_css + b"\n.marker { font-weight: bold; }\n")
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-q", "-s", str(site), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for page in html_pages(out):
        assert parse(page).select_one(".site-header .marker").get_text() == "v2", page  # type: ignore[union-attr]
        assert stylesheet(page, out).read_bytes().endswith(b".marker { font-weight: bold; }\n"), page
    # Removing the overrides brings the bundled ones back.
    marker.unlink()
    (site / "static/css/site.css").unlink()
    build(site)
    home = page_file(out, "/")
    assert parse(home).select_one(".site-header .marker") is None
    assert stylesheet(home, out).read_bytes() == bundled_css


def test_a_sites_template_extends_the_bundled_one_of_its_own_name_and_extending_itself_is_explained(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult]
) -> None:
    site = copy_site("minimal")
    (site / "templates").mkdir()
    mine = site / "templates/article.html"
    blocks = '{% block main %}<p class="marker">ours</p>{{ super() }}{% endblock %}{% block tags %}{% endblock %}'
    blocks += '{% block scripts %}<script src="{{ asset("js/ours.js") }}"></script>{% endblock %}'
    mine.write_text('{% extends "bundled/article.html" %}\n' + blocks + "\n", encoding="utf-8")
    (site / "static/js").mkdir(parents=True)
    (site / "static/js/ours.js").write_text("document.documentElement.dataset.ours = 'yes';\n", encoding="utf-8")
    out = build(site).output
    articles = [page for page in html_pages(out) if parse(page).select_one("article h1")]
    assert len(articles) == 2  # the minimal site's two articles
    for page in articles:
        html = parse(page)
        assert html.select_one("main .marker") is not None, page  # our blocks...
        assert html.select_one(".tags") is None and html.select_one("body > script[src]") is not None, page
        assert html.select_one(".site-header") is not None and html.select("main article .reporting"), page  # ...around the bundled page
    mine.write_text('{% extends "article.html" %}\n', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert {str(p) for p in caught.value.problems} == {
        f'{mine}:1: error: template error: the template extends, includes or renders itself (cards[...] and fragment(...) render templates too); to build on the bundled article.html, write {{% extends "bundled/article.html" %}}'
    }


def test_every_template_that_does_not_compile_is_listed_in_one_run(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "templates").mkdir()
    macros = (BUNDLED / "templates/_macros.html").read_text(encoding="utf-8")
    (site / "templates/_macros.html").write_text(macros + "{% macro extra() %}{{ 1|lowr }}{% endmacro %}\n", encoding="utf-8")  # breaks every page
    (site / "templates/topics.html").write_text("<p>\n{{ x }</p>\n", encoding="utf-8")
    (site / "templates/tags.html").write_bytes(b"caf\xe9\n")  # not UTF-8
    with pytest.raises(ContentError) as caught:
        build(site)
    lines = macros.count("\n") + 1
    assert sorted(str(p) for p in caught.value.problems) == [
        f"{site}/templates/_macros.html:{lines}: error: template error: No filter named 'lowr'.",
        f"{site}/templates/topics.html:2: error: template error: unexpected '}}'",
        "templates/tags.html: error: template error: 'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte",
    ]


def test_a_block_no_extended_template_has_is_a_warning_at_its_line(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "templates").mkdir()
    (site / "templates/base.html").write_text('{% extends "bundled/base.html" %}\n{% block footer %}<p>ours</p>{% endblock %}\n', encoding="utf-8")
    article = '{% extends "base.html" %}\n{% block title %}{{ super() }}{% endblock %}\n\n'  # base.html's block, by the site's base.html
    article += "{% if true %}{% block article_heder %}<p>lost</p>{% endblock %}{% endif %}\n"
    (site / "templates/article.html").write_text(article, encoding="utf-8")
    (site / "templates/tags.html").write_text(
        '{% extends "bundled/tags.html" %}{% block main %}{% block own %}kept{% endblock %}{% endblock %}', encoding="utf-8"
    )
    (site / "templates/sources.html").write_text('{% extends "bundled/sources.html" %}\n\n{% block scirpts %}{% endblock %}', encoding="utf-8")
    (site / "templates/topics.html").write_text("{% extends site.title %}{% block nowhere %}{% endblock %}", encoding="utf-8")  # known as it renders
    with pytest.raises(ContentError):  # topics.html extends a template named by the site's title: not found as the pages render
        build(site)
    (site / "templates/topics.html").unlink()
    result = build(site)
    blocks = [str(p) for p in result.warnings if "block" in p.message]
    never = "so what it holds is never shown; their blocks: footer, head, header, main, scripts, title"
    assert blocks == [
        f'templates/article.html:4: warning: block "article_heder" is in no template this one extends (base.html, bundled/base.html), {never}',
        f'templates/sources.html:3: warning: block "scirpts" is in no template this one extends (bundled/sources.html, base.html, bundled/base.html), {never} (did you mean "scripts"?)',
    ]


def test_cards_given_an_article_instead_of_its_path_is_told_in_one_line(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "templates").mkdir()
    card = (BUNDLED / "templates/_card.html").read_text(encoding="utf-8")
    (site / "templates/_card.html").write_text(card + "{{ cards[article] }}\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    found = [p.message for p in caught.value.problems]
    expected = "take a listed article's path (article.path), not the article itself ('A first story')"
    assert any(m.endswith(expected) for m in found) and all(len(m) < 300 for m in found), found
