"""Deterministic synthetic digest sites for the benchmark.

``make_site(folder, n, seed)`` writes ``site.yaml`` and ``content/<topic>/*.md``
for *n* articles: 400 to 900 words of varied Markdown (headings, lists, links,
the odd code block and table), 8 topics, about 200 tags drawn from a Zipf
distribution (2 to 6 an article), 30 sources and dates spread over two years.
The same (n, seed) always gives the same files.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

TOPICS = ("business", "research", "policy", "products", "infrastructure", "safety", "open-source", "hardware")
WORDS = [
    "model",
    "training",
    "inference",
    "data",
    "center",
    "chip",
    "benchmark",
    "agent",
    "lab",
    "regulator",
    "court",
    "filing",
    "release",
    "weights",
    "token",
    "context",
    "window",
    "latency",
    "throughput",
    "cluster",
    "power",
    "grid",
    "contract",
    "funding",
    "round",
    "valuation",
    "startup",
    "developer",
    "api",
    "pricing",
    "safety",
    "evaluation",
    "alignment",
    "dataset",
    "license",
    "open",
    "source",
    "research",
    "paper",
    "result",
    "accuracy",
    "reasoning",
    "coding",
    "assistant",
    "search",
    "product",
    "launch",
    "enterprise",
    "customer",
    "revenue",
    "cloud",
    "provider",
    "partnership",
    "policy",
    "law",
    "compliance",
    "audit",
    "transparency",
    "report",
    "disclosure",
    "risk",
    "framework",
    "deployment",
    "user",
    "privacy",
    "security",
    "incident",
]
TAG_COUNT = 200
SOURCE_COUNT = 30
PER_PAGE = 50


def _tag_names() -> list[str]:
    return [f"Tag {i:03d}" for i in range(TAG_COUNT)]


def _sentence(rng: random.Random, low: int = 8, high: int = 18) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, links: list[str]) -> tuple[str, int]:
    sentences = [_sentence(rng) for _ in range(rng.randint(2, 5))]
    if rng.random() < 0.35:
        at = rng.randrange(len(sentences))
        sentences[at] = sentences[at][:-1] + f" according to [{rng.choice(WORDS)} {rng.choice(WORDS)}]({rng.choice(links)})."
    if rng.random() < 0.3:
        at = rng.randrange(len(sentences))
        sentences[at] = f"**{sentences[at][:-1]}**."
    text = " ".join(sentences)
    return text, len(text.split())


def _body(rng: random.Random, sources: list[str]) -> str:
    target = rng.randint(400, 900)
    blocks: list[str] = []
    words = 0
    while words < target:
        kind = rng.random()
        if blocks and kind < 0.12:
            blocks.append("## " + _sentence(rng, 3, 6)[:-1])
            words += 5
        elif kind < 0.2:
            items = [f"- {_sentence(rng, 5, 12)}" for _ in range(rng.randint(3, 5))]
            blocks.append("\n".join(items))
            words += 8 * len(items)
        elif kind < 0.23:
            blocks.append("```python\n" + "\n".join(f"{rng.choice(WORDS)}_{i} = call({i}, '{rng.choice(WORDS)}')" for i in range(rng.randint(3, 8))) + "\n```")
            words += 15
        elif kind < 0.25:
            rows = ["| metric | before | after |", "| --- | ---: | ---: |"]
            rows += [f"| {rng.choice(WORDS)} | {rng.randint(1, 99)} | {rng.randint(1, 99)} |" for _ in range(rng.randint(2, 5))]
            blocks.append("\n".join(rows))
            words += 15
        else:
            text, count = _paragraph(rng, sources)
            blocks.append(text)
            words += count
    return "\n\n".join(blocks) + "\n"


def _zipf_weights(count: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(count)]


def article_text(n: int, index: int, seed: int) -> tuple[str, str]:
    """(relative path, file text) of article *index* of an *n*-article site."""
    rng = random.Random(f"{seed}-{index}")
    topic = TOPICS[rng.randrange(len(TOPICS))]
    tags = _tag_names()
    chosen: list[str] = []
    want = rng.randint(2, 6)
    weights = _zipf_weights(len(tags))
    while len(chosen) < want:
        tag = rng.choices(tags, weights)[0]
        if tag not in chosen:
            chosen.append(tag)
    start = datetime(2024, 6, 1, tzinfo=UTC)
    when = start + timedelta(seconds=int(2 * 365 * 86400 * index / max(1, n)) + rng.randint(0, 3600))
    hosts = [f"https://outlet{i:02d}.example.com/news/{index}-{k}" for k, i in enumerate(rng.sample(range(SOURCE_COUNT), rng.randint(1, 3)))]
    sources = "\n".join(f"  - url: {url}\n    name: Outlet {url.split('.')[0][-2:]}\n    official: {str(rng.random() < 0.3).lower()}" for url in hosts)
    story = f"story: event-{index // 7}\n" if rng.random() < 0.2 else ""
    title = _sentence(rng, 6, 11)[:-1]
    text = (
        "---\n"
        f'title: "{title} {index}"\n'
        f"date: {when.isoformat()}\n"
        f"tags: [{', '.join(chosen)}]\n"
        f"sources:\n{sources}\n"
        f"confidence: {rng.randint(30, 99)}\n"
        f"review: {rng.choice(['human-reviewed', 'ai-assisted', 'ai-generated', 'unreviewed'])}\n"
        f'summary: "{_sentence(rng, 12, 24)}"\n'
        f"{story}"
        "---\n" + _body(rng, hosts)
    )
    return f"content/{topic}/article-{index:06d}.md", text


def site_yaml(share_images: bool = True) -> str:
    """The site's settings: the defaults a new user gets, share images included unless *share_images* is false."""
    topics = "\n".join(f"  {t}:\n    name: {t.replace('-', ' ').title()}\n    description: Stories about {t}." for t in TOPICS)
    return (
        f"title: Synthetic Digest\nbase_url: https://bench.example.org/\ntimezone: UTC\nper_page: {PER_PAGE}\nrelated_count: 5\n"
        f"share_images: {str(share_images).lower()}\n"
        f"topics:\n{topics}\n"
    )


def make_site(folder: Path, n: int, seed: int = 1, share_images: bool = True) -> None:
    """Write an *n*-article site into *folder* (which should be empty)."""
    (folder / "site.yaml").write_text(site_yaml(share_images), encoding="utf-8")
    for index in range(n):
        rel, text = article_text(n, index, seed)
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
