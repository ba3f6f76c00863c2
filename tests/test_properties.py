"""Property-based tests: random front matter and bodies never break the build's promises.

For any article a contributor could write, the build either succeeds or raises
ContentError whose every error says ``content/...:line`` with a line inside the
file; it never raises anything else, never writes outside the output folder,
and never publishes a page where input markup became live markup.

The runs are derandomized so CI is stable; set ``DIGEST_FUZZ=<examples>`` to
explore with fresh random input (e.g. ``DIGEST_FUZZ=2000 pytest tests/test_properties.py``).
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st
from sitekit import fuzz_settings, html_pages, snapshot, unsafe_markup

from digest.errors import ContentError
from digest.site import BuildOptions, build_site

SETTINGS = fuzz_settings(100)

SITE_YAML = """title: Property site
base_url: https://example.org/news/
timezone: America/New_York
allow_html: {allow_html}
share_images: false  # drawing cards is tested elsewhere; here it would only slow the examples down
topics:
  policy:
    name: Policy
"""
ANCHOR = """---
title: Anchor story
date: 2026-01-01
tags: [anchor]
sources: [https://example.com/anchor]
confidence: 50
---
Always present, so every build has a valid article.
"""

FRAGMENTS = [
    '<hyp-x onclick="alert(1)">',
    "</hyp-x>",
    "<hyp-x/onload=alert(1)>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><hyp-x>',
    "'",
    '"',
    "&",
    "&amp;",
    "&#60;hyp-x&#62;",
    "{{ 7*7 }}",
    "{% raw %}",
    "javascript:alert(1)",
    "../",
    "..",
    "/",
    "\\",
    "\x00",
    "\t",
    "\r\n",
    "\u202e",
    "\ufeff",
    "🤖",
    "C++",
    "#",
    ": ",
    "- ",
    "---",
    "*",
    "|",
    "[",
    "]",
    "{",
    "}",
    "&anchor",
    "*anchor",
    "!!python/object:os.system",
]
MARKDOWN = [
    "# Heading",
    "## Sub <hyp-x>heading</hyp-x>",
    "```",
    "```python",
    "```html",
    "| a | b |\n|--:|---|\n| <hyp-x> | x |",
    "[js](javascript:alert(1))",
    "[link](../policy/anchor.md)",
    "[missing](../nowhere/x.md)",
    "[file](chart.png)",
    "![img](data:text/html,<hyp-x>)",
    "<javascript:alert(1)>",
    "<https://example.com/auto>",
    "[^1]",
    "[^1]: a note <hyp-x>",
    "> quoted <hyp-x>",
    "- item",
    "1. first",
    "***",
    "<!-- comment -->",
    "`<hyp-x>`",
    "<a href='javascript:alert(1)'>a</a>",
    "<div onmouseover=alert(1)>div</div>",
    "<iframe src=https://evil.example/></iframe>",
    "<details><summary>s</summary>d</details>",
    "\\<hyp-x>",
    "",
]

text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=6).map("".join)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**20),
    st.floats(),
    text,
    st.dates(),
    st.datetimes(timezones=st.none() | st.timezones()),
)
anything = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=3), max_leaves=8)
url = st.one_of(
    st.sampled_from(["https://example.com/a", "http://x.example/?q=<hyp-x>", "javascript:alert(1)", "https://", "ftp://x.example/", "//example.com/x"]),
    text.map(lambda t: "https://example.com/" + t),
)
source = st.one_of(url, st.fixed_dictionaries({"url": url}, optional={"name": text, "official": st.booleans() | anything}))
front_matter = st.fixed_dictionaries(
    {
        "title": text | anything,
        "date": st.dates(min_value=date(1, 1, 2), max_value=date(2026, 1, 1)) | text | anything,
        "tags": st.lists(text, max_size=5) | anything,
        "sources": st.lists(source, max_size=3) | anything,
        "confidence": st.integers(-5, 105) | st.sampled_from(["high", "medium", "low", "HIGH"]) | anything,
    },
    optional={
        "updated": st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(2026, 1, 1)) | anything,
        "topic": text | st.just("policy"),
        "review": st.sampled_from(["human-reviewed", "ai-assisted", "ai-generated", "unreviewed", "humans"]) | anything,
        "model": text | anything,
        "summary": text | anything,
        "why_it_matters": st.lists(text, max_size=3) | anything,
        "story": text | anything,
        "author": text | anything,
        "slug": text | anything,
        "lang": st.sampled_from(["en", "ar", "zh-Hans", "x", "<hyp-x>"]) | anything,
        "draft": st.booleans() | anything,
        "source": url | anything,
        "titel": anything,
    },
)
body = st.lists(st.one_of(st.sampled_from(MARKDOWN), text), max_size=12).map("\n".join)


def dump(front: dict[str, Any]) -> str:
    return yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)


def check_build(front_text: str, body_text: str, allow_html: bool) -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        site = root / "site"
        (site / "content/policy").mkdir(parents=True)
        (site / "site.yaml").write_text(SITE_YAML.format(allow_html=str(allow_html).lower()), encoding="utf-8")
        (site / "content/policy/anchor.md").write_text(ANCHOR, encoding="utf-8")
        (site / "content/policy/chart.png").write_bytes(b"\x89PNG")
        article = site / "content/policy/generated.md"
        article.write_text(f"---\n{front_text}\n---\n{body_text}", encoding="utf-8", newline="")
        lines = article.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        before = snapshot(root)
        out = root / "out"
        try:
            build_site(BuildOptions(source=site, output=out))
        except ContentError as exc:
            errors = [p for p in exc.problems if p.is_error]
            assert errors, exc.problems
            for problem in errors:
                assert problem.path == "content/policy/generated.md", str(problem)
                assert 1 <= problem.line <= lines, f"{problem} (the file has {lines} lines)"
                assert re.match(r"content/policy/generated\.md:\d+: error: \S", str(problem)), str(problem)
            assert snapshot(root) == before  # nothing written at all
            return
        after = snapshot(root)
        # Outside its output folder a build writes only its cache, in the site's .digest-cache/.
        outside = {name: data for name, data in after.items() if not name.startswith(("out/", "site/.digest-cache/"))}
        assert outside == before, "the build wrote outside its output folder"
        for page in html_pages(out):
            found = unsafe_markup(page.read_text(encoding="utf-8"))
            assert found == [], f"{page.relative_to(out)}: {found}"


@SETTINGS
@given(front=front_matter, body=body, allow_html=st.booleans())
def test_structured_front_matter(front: dict[str, Any], body: str, allow_html: bool) -> None:
    check_build(dump(front), body, allow_html)


@SETTINGS
@given(
    front=st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(["title: x", "date: 2026-01-01", "tags: [a]", "\n", "  "]), st.text(max_size=5)), max_size=12
    ).map("".join),
    body=body,
)
def test_raw_front_matter(front: str, body: str) -> None:
    check_build(front.replace("\n---", "\n- --"), body, allow_html=False)


@fuzz_settings(25)
@given(
    title=text.filter(lambda t: t.strip() != "" and "\x00" not in t),
    tags=st.lists(text.filter(lambda t: t.strip() != ""), min_size=1, max_size=4),
    body=body,
    allow_html=st.booleans(),
)
def test_valid_articles_with_hostile_text_build_and_stay_escaped(title: str, tags: list[str], body: str, allow_html: bool) -> None:
    """Mostly valid articles, so the escaping checks run on many built pages."""
    front = {"title": title, "date": "2026-02-01", "tags": tags, "sources": ["https://example.com/x"], "confidence": 70, "summary": title, "story": title}
    check_build(dump(front), body, allow_html)
