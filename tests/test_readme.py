"""The README documents every front-matter field and site.yaml key, from their declarations."""

from __future__ import annotations

from pathlib import Path

from digest.config import options_table
from digest.content import fields_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_front_matter_field() -> None:
    assert fields_table() in README, "run: python3 -m digest.content, and paste the table into README.md"


def test_readme_lists_every_site_yaml_key() -> None:
    assert options_table() in README, "run: python3 -m digest.config, and paste the table into README.md"
