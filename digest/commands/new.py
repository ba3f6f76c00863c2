"""``new``: start a draft ``content/<topic>/<slug>.md`` dated today in the site's time zone, never over an existing file."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ContentError, UsageError, did_you_mean
from ..options import build_now

NAME = "new"
HELP = "start a new draft article in content/<topic>/"
PLACEHOLDER_SOURCE = "https://example.com/"
PLACEHOLDER_BODY = "Write the story here."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("title", help="the headline, in quotes")
    parser.add_argument("--topic", "-t", required=True, help="topic slug; the file goes in content/<topic>/")
    parser.add_argument("--tags", default="", help="comma-separated tags, e.g. OpenAI,agents (default: the topic)")
    parser.add_argument("--source", dest="source_url", action="append", default=[], metavar="URL", help="a source URL (repeat for more)")
    parser.add_argument(
        "--site", "-s", type=Path, default=Path("."), metavar="DIR", help="site folder with site.yaml and content/ (default: the current folder)"
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")


def front_matter(title: str, day: str, tags: list[str], sources: list[str]) -> str:
    yaml_text = functools.partial(json.dumps, ensure_ascii=False)  # a YAML double-quoted scalar: JSON strings are valid YAML
    lines = ["---", f"title: {yaml_text(title)}", f"date: {day}", f"tags: [{', '.join(map(yaml_text, tags))}]", "sources:"]  # the folder names the topic
    for url in sources or [PLACEHOLDER_SOURCE]:
        lines += [f"  - url: {yaml_text(url)}", "    official: false"]
    lines += ["confidence: medium", "review: unreviewed", "draft: true", "---", "", PLACEHOLDER_BODY, ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..slugs import make_slug

    config, problems = load_config(args.site)
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    for problem in problems:  # "no site.yaml found": the draft goes in all the same
        print(problem, file=sys.stderr)
    title = " ".join(args.title.split())
    if not title:
        raise UsageError("expected a title, found an empty one")
    topic = make_slug(args.topic)
    if not topic:
        raise UsageError(f'--topic: expected a topic slug such as "policy", found "{args.topic}"')
    known = [t.slug for t in config.topics]
    if known and topic not in known:
        raise UsageError(f'--topic: expected one of the topics in site.yaml ({", ".join(known)}), found "{topic}"{did_you_mean(topic, known)}')
    slug = make_slug(title)
    if not slug:
        raise UsageError(f'expected a title with letters or digits to make the file name, found "{title}"')
    for url in args.source_url:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise UsageError(f'--source: expected an http(s) URL, found "{url}"')
    tags = [t.strip() for t in args.tags.split(",") if t.strip()] or [topic]
    day = build_now().astimezone(config.tz).date().isoformat()
    path = config.root / "content" / topic / f"{slug}.md"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite
            handle.write(front_matter(title, day, tags, args.source_url))
    except OSError as exc:
        if isinstance(exc, FileExistsError) and exc.filename == str(path):
            raise UsageError(f"{path} already exists; choose another title or edit that file") from None
        raise UsageError(f"{path}: cannot write the file ({exc.strerror})") from None  # a read-only folder, a topic that is a file
    print(path)
    if not args.source_url:
        print(f"note: add the story's sources before publishing (the file lists {PLACEHOLDER_SOURCE} as a placeholder)", file=sys.stderr)
    return 0
