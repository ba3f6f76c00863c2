"""The render stage: autoescaping, dates, shared fragments and cards, template errors located."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import Built
from markupsafe import Markup

from digest.errors import TemplateError
from digest.render import PageRenderer, make_environment, memoized_dates
from digest.site import LoadedSite, with_bodies


@pytest.fixture
def sample(sample_site: Built) -> LoadedSite:
    """The bundled sample as the session's shared build loaded it."""
    return sample_site.site


def test_templates_escape_output_as_before(sample: LoadedSite) -> None:
    env = make_environment(sample.config)
    template = env.from_string("{{ a }}|{{ b }}|{{ c }}|{% set d %}<{{ a }}>{% endset %}{{ d }}|{{ a ~ b }}")
    assert template.render(a="<x>", b=Markup("<y>"), c=3) == "&lt;x&gt;|<y>|3|<&lt;x&gt;>|&lt;x&gt;<y>"


def test_memoized_dates_tell_zones_apart() -> None:
    made = memoized_dates(lambda moment: moment.isoformat())
    utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    east = utc.astimezone(timezone(timedelta(hours=2)))
    assert utc == east
    assert made(utc) == "2026-03-01T23:30:00+00:00"
    assert made(east) == "2026-03-02T01:30:00+02:00"
    assert made(utc.date()) == "2026-03-01"  # not a datetime: formatted, not remembered


def test_the_date_filter_takes_a_cldr_or_strftime_pattern_in_the_sites_language_and_zone(sample: LoadedSite) -> None:
    moment = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)  # March 6 in Paris
    template = '{{ d | date }}|{{ d | date("d MMMM y, HH:mm") }}|{{ d | date("%Y-%m-%d %H:%M") }}|{{ d | date("EEEE") }}'
    paris = replace(sample.config, language="fr", timezone="Europe/Paris")
    assert make_environment(paris).from_string(template).render(d=moment) == "6 mars 2026|6 mars 2026, 00:30|2026-03-06 00:30|vendredi"


def test_the_header_is_rendered_once_and_shown_on_every_page(sample: LoadedSite) -> None:
    renderer = PageRenderer(sample.config, sample.index)
    pages = [p for p in with_bodies(sample, sample.pages) if p.template == "article.html"][:2]
    for page in pages:
        html = renderer.render(page).decode()
        assert html.count('class="site-header"') == 1
        assert all(f'href="{t.url}"' in html for t in sample.index.topics)
    assert renderer.env.globals["fragment"].made


def test_fragment_arguments_that_cannot_be_keys_are_rendered_each_time(sample: LoadedSite) -> None:
    renderer = PageRenderer(sample.config, sample.index)
    fragment = renderer.env.globals["fragment"]
    template = renderer.env.from_string("{{ fragment('_footer.html', extra=[1]) }}")
    assert template.render() == template.render()
    assert "site-footer" in template.render()
    assert not fragment.made


def test_cached_cards_and_links_give_each_page_what_a_fresh_renderer_gives(sample: LoadedSite) -> None:
    warm = PageRenderer(sample.config, sample.index)
    for page in with_bodies(sample, sample.pages):
        warm.render(page)
    for page in with_bodies(sample, sample.pages[::3]):  # now every card, link and fragment comes from the cache
        assert warm.render(page) == PageRenderer(sample.config, sample.index).render(page)


def test_an_error_inside_a_joined_line_of_output_names_its_own_line(sample: LoadedSite, tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/x.html").write_text("<p>{{ a }}\nline two {{ a }}\n{{ b.c.d }}</p>\n")
    env = make_environment(replace(sample.config, root=tmp_path))
    renderer = PageRenderer(replace(sample.config, root=tmp_path), sample.index)
    page = replace(sample.pages[-1], template="x.html", context={"a": 1})
    with pytest.raises(TemplateError, match=r"templates/x\.html:3: template error: 'b' is undefined"):
        renderer.render(page)
    assert env.get_template("x.html").render(a="<1>", b={"c": {"d": 2}}) == "<p>&lt;1&gt;\nline two &lt;1&gt;\n2</p>\n"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{{ fragment("_nope.html") }}', "template '_nope.html' not found in the site's templates/ or the bundled ones"),
        ('{% include "_nope.html" %}', "template '_nope.html' not found in the site's templates/ or the bundled ones"),
        ('{{ cards["content/nope.md"] }}', "cards[...] and links[...] take a listed article's path (article.path), not 'content/nope.md'"),
        ('{{ links["content/nope.md"] }}', "cards[...] and links[...] take a listed article's path (article.path), not 'content/nope.md'"),
        ('{{ _("{count} sources", number=3) }}', 'the label "{count} sources" needs a value for {count}, given number'),
        ("{{ asset('css/sight.css') }}", "asset('css/sight.css'): no such file in the site's static/ or the bundled one"),
    ],
)
def test_a_missing_part_article_or_label_value_is_the_calling_templates_error_at_its_line(sample: LoadedSite, tmp_path: Path, line: str, problem: str) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/x.html").write_text(f"<p>fine</p>\n{line}\n")
    renderer = PageRenderer(replace(sample.config, root=tmp_path), sample.index)
    with pytest.raises(TemplateError) as caught:
        renderer.render(replace(sample.pages[-1], template="x.html", context={}))
    assert str(caught.value) == f"{tmp_path}/templates/x.html:2: template error: {problem}"
