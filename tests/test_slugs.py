"""make_slug: one safe, readable path component per name."""

from __future__ import annotations

import pytest

from digest.slugs import make_slug, slug_or_hash


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Musk's xAI", "musks-xai"),
        ("Musk\u2019s xAI", "musks-xai"),
        ("OpenAI's o3 isn't out", "openais-o3-isnt-out"),
        ("'Quoted' words", "quoted-words"),
        ("rock 'n' roll", "rock-n-roll"),
        ("C++ & C#", "cpp-and-csharp"),
        ("Caf\u00e9 d\u00e9j\u00e0 vu", "cafe-deja-vu"),
        ("con", "con-x"),
        ("\U0001f600", ""),
    ],
)
def test_make_slug(text: str, slug: str) -> None:
    assert make_slug(text) == slug


def test_text_without_letters_gets_a_stable_hash() -> None:
    assert slug_or_hash("\U0001f600", "tag") == slug_or_hash("\U0001f600", "tag")
    assert slug_or_hash("\U0001f600", "tag").startswith("tag-")
    assert slug_or_hash("Musk's xAI", "tag") == "musks-xai"
