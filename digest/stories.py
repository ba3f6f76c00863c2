"""Stories: the reports of one event, grouped by their ``story:`` id or found by likeness.

In: published ``Article`` values, the time window and the similarity threshold.
Out: :class:`Group` values (id, member paths, the links that joined them). It
reads front matter only (title, summary, tags, sources, date), so editing a
body never regroups anything. Nothing here knows about pages. Also here: the
editors' notes of ``content/stories/``, read as standalone pages are (:func:`read_note_file`).

How reports are found to be one event:

* An explicit ``story:`` id always wins; ``story: none`` keeps an article out.
* Every other article is described by the words of its title and summary
  (lower-cased, common words dropped, a plural ``s`` cut), its tags and its
  source URLs, each weighted by its rarity (IDF). Two articles' similarity is
  the cosine of these weighted sets.
* Candidate pairs come from an inverted index (feature -> articles in date
  order): a feature proposes the articles within the time window that share
  it, only the :data:`RARE_IN_WINDOW` nearest in time when more do (a big
  event's hundred reports still chain into one story), and only the
  :data:`CANDIDATES` best-proposed partners of an article are scored in full,
  so the cost grows with the number of articles, not its square.
* Pairs at or above the threshold are joined, best first, union-find style;
  two different explicit ids are never joined, so an article with an id can
  attract unlabelled reports but two named stories never merge.

A found story's id is the slug of its earliest report (then the smallest
path), so adding a later report never renames it; when that slug is taken
(by an explicit id or an earlier found story) ``-2``, ``-3``... is appended.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .content import STORY_NOTES, read_file, read_front_matter
from .errors import Problem, did_you_mean, error, warning
from .markdown import BodyRenderer, Unpublished
from .schema import MARKDOWN_SUFFIXES, Article, tag_key
from .slugs import slug_or_hash
from .yamlmap import describe

NO_STORY = "none"  # story: none -- the article stays out of every story
RARE_IN_WINDOW = 40  # a feature shared by more articles than this within the window proposes only the nearest this many in time
CANDIDATES = 8  # partners scored in full per article, the best proposed first
COMMON_SHARE, COMMON_AT_LEAST = 0.05, 10  # a feature of more than 5% of the articles (and more than 10) is too common to tell events apart
MIN_SHARED = 3  # two reports sharing fewer words, names and sources (a tag counts half) are not found alike, however rare those are
TAG, NAME = 0.5, 1.5  # emphasis of a tag and of a name, number or source URL, beside a word's 1
_STOP = """a about after again against all also an and any are as at be been before being but by can could did do does down during each
    for from had has have how if in into is it its just more most new no not now of off on once one only or other our out over own same
    says said say should so some such than that the their them then there these they this those through to too under until up very
    was we were what when where which while who why will with would you your week year years first last amid could may might must"""
STOP_WORDS = frozenset(_STOP.split())
_WORD = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")


@dataclass(frozen=True)
class Group:
    """One story: its id, whether its id was written by an editor, its members' paths, and the pairs that joined them."""

    id: str
    explicit: bool
    paths: tuple[str, ...]  # newest first, as the articles came
    joins: tuple[tuple[str, str, float], ...]  # (path, path, similarity) of each found link, best first


def features(article: Article) -> dict[str, float]:
    """What the likeness of two reports is measured on, each with its emphasis (times its rarity).

    Words of the title and summary; names and numbers (a capital inside a
    sentence, a digit) count more, as they single out an event; tags less, as
    they name subjects many events share; source URLs as names.
    """
    found = {"t:" + tag_key(t): TAG for t in article.tags}
    found.update(("u:" + s.url.lower().rstrip("/"), NAME) for s in article.sources)
    for text in (article.title, article.lede):  # the lede: a body edit leaves the stories as they were
        for n, match in enumerate(_WORD.finditer(text)):
            raw = match[0]
            key, number = _word_key(raw)
            if key:
                name = number or (n > 0 and raw[0].isupper() and text[match.start() - 2 : match.start() - 1] not in ".:?!")
                if name or key not in found:
                    found[key] = NAME if name else 1.0
    return found


@lru_cache(maxsize=65536)
def _word_key(raw: str) -> tuple[str, bool]:
    """The feature of a word as written ("" for a common or short one), and whether it holds a digit."""
    word = raw.lower().replace("’", "'").removesuffix("'s")
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    number = any(c.isdigit() for c in word)
    return ("w:" + word if word not in STOP_WORDS and (len(word) > 2 or number) else ""), number


def group_stories(articles: Sequence[Article], window_days: int, threshold: float) -> list[Group]:
    """The stories of *articles*: by explicit id, then found by likeness (see the module's doc); newest story first."""
    total = len(articles)
    label = [a.story if a.story != NO_STORY else None for a in articles]
    free = [a.story == "" for a in articles]  # may be joined by likeness
    parent = list(range(total))
    tag_of: list[str | None] = list(label)  # the explicit id of each root's group

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[str, int] = {}
    for i, story in enumerate(label):
        if story:
            parent[i] = root(first_of.setdefault(story, i))
    joins: list[tuple[float, int, int]] = []
    if window_days > 0 and any(free):
        joins = [pair for pair in similar_pairs(articles, free, window_days * 86400.0) if pair[0] >= threshold]
    joins.sort(key=lambda j: (-j[0], articles[j[1]].path, articles[j[2]].path))
    used: list[tuple[float, int, int]] = []
    for score, i, j in joins:
        a, b = root(i), root(j)
        if a == b or (tag_of[a] and tag_of[b] and tag_of[a] != tag_of[b]):
            continue
        a, b = min(a, b), max(a, b)
        parent[b] = a
        tag_of[a] = tag_of[a] or tag_of[b]
        used.append((score, i, j))
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(total):
        if label[i] is not None:
            members[root(i)].append(i)
    groups = {r: m for r, m in members.items() if len(m) > 1 or label[m[0]]}  # by root; m in input order
    # Ids: explicit first; found stories by their earliest report, each taking the first free name.
    taken = {name for r in groups if (name := tag_of[r])}
    unnamed = [(min((articles[i].date.timestamp(), articles[i].path, i) for i in m), r) for r, m in groups.items() if not tag_of[r]]
    named: dict[int, str] = {}
    for (_, _, first), r in sorted(unnamed):
        named[r] = name = unused_slug(articles[first].slug, taken)
        taken.add(name)
    links: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for score, i, j in used:
        links[root(i)].append((articles[i].path, articles[j].path, round(score, 3)))
    found = [Group(tag_of[r] or named[r], bool(tag_of[r]), tuple(articles[i].path for i in m), tuple(links[r])) for r, m in groups.items()]
    return sorted(found, key=lambda g: g.id)


def unused_slug(base: str, taken: Container[str]) -> str:
    """*base*, or the first of ``base-2``, ``base-3``, ... that is not taken."""
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def similar_pairs(articles: Sequence[Article], free: list[bool], window: float) -> list[tuple[float, int, int]]:
    """(similarity, i, j) with i < j for the candidate pairs within *window* seconds, one of them free to join."""
    total = len(articles)
    feats = [features(a) for a in articles]
    stamps = [a.date.timestamp() for a in articles]
    postings: dict[str, list[int]] = defaultdict(list)
    for i in sorted(range(total), key=lambda i: (stamps[i], i)):
        for key in feats[i]:
            postings[key].append(i)
    times = {key: [stamps[i] for i in listed] for key, listed in postings.items()}
    common = max(COMMON_AT_LEAST, COMMON_SHARE * total)
    idf = {key: math.log(1 + total / len(listed)) for key, listed in postings.items() if len(listed) <= common}
    weights = [{k: (m * idf[k]) ** 2 for k, m in f.items() if k in idf} for f in feats]
    norm = [math.sqrt(sum(w for k, w in ws.items() if len(postings[k]) > 1)) or 1.0 for ws in weights]  # a feature no other has cannot be shared
    tag_keys = [{k for k in f if k.startswith("t:")} for f in feats]
    pairs: dict[tuple[int, int], float] = {}
    for i in range(total):
        when = stamps[i]
        proposed: dict[int, float] = defaultdict(float)
        for key, w in weights[i].items():
            at = times[key]
            lo, hi = bisect_left(at, when - window), bisect_right(at, when + window)
            if hi - lo < 2:
                continue
            if hi - lo > RARE_IN_WINDOW:  # a busy feature (a big event's): only the reports nearest in time propose, so the cost stays linear
                here = bisect_left(at, when)
                lo, hi = max(lo, here - RARE_IN_WINDOW // 2), min(hi, here + RARE_IN_WINDOW // 2 + 1)
            for j in postings[key][lo:hi]:
                if j != i and (free[i] or free[j]):
                    proposed[j] += w
        for j in sorted(proposed, key=lambda j: (-proposed[j], j))[:CANDIDATES]:
            pair = (min(i, j), max(i, j))
            if pair not in pairs:
                wi, wj = weights[i], weights[j]
                shared = wi.keys() & wj.keys()
                alike = len(shared) - len(shared & tag_keys[i]) / 2 >= MIN_SHARED  # a tag counts half: many events share it
                pairs[pair] = sum(math.sqrt(wi[k] * wj[k]) for k in shared) / (norm[i] * norm[j]) if alike else 0.0
    return [(score, i, j) for (i, j), score in pairs.items()]


def best_report(articles: Sequence[Article]) -> Article:
    """The report a story is headlined by: human-reviewed first, then the most confident, the most official sources, the earliest."""
    return min(articles, key=support_key)


_REVIEW_RANK = {"human-reviewed": 0, "ai-assisted": 1, "ai-generated": 2, "unreviewed": 3}
_CONFIDENCE_RANK = {"High": 0, "Medium": 1, "Low": 2, "": 3}


def support_key(a: Article) -> tuple[int, int, int, int, float, str]:
    score = -1 if a.confidence is None else a.confidence
    return (_REVIEW_RANK[a.review], _CONFIDENCE_RANK.get(a.confidence_label, 3), -score, -a.official_count, a.date.timestamp(), a.path)


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    url: str
    articles: tuple[Article, ...]  # newest first
    summary: str = ""  # the editor's, from content/stories/<id>.md, else the lead report's
    overview: str = ""  # HTML of the editor's overview (the note's body), "" without a note
    lead: str = ""  # path of the report the story is headlined by ("" when a note names it)
    found: bool = False  # grouped by likeness, not (only) by an editor's id
    joins: tuple[tuple[str, str, float], ...] = ()  # the found links: (path, path, similarity)

    @property
    def sources(self) -> int:
        """How many distinct sources its reports cite."""
        return len({s.url for a in self.articles for s in a.sources})

    @property
    def official(self) -> int:
        return len({s.url for a in self.articles for s in a.sources if s.official})

    @property
    def timeline(self) -> tuple[Article, ...]:
        """Its reports, oldest first."""
        return tuple(sorted(self.articles, key=lambda a: (a.date.timestamp(), a.path)))


@dataclass(frozen=True)
class StoryNote:
    """An editor's ``content/stories/<id>.md``: the story's headline, summary and overview. Not an article."""

    id: str
    path: str
    title: str
    summary: str
    overview: str  # HTML


NOTE_KEYS = ("title", "summary")


def markdown_files(folder: Path) -> list[Path]:
    """The Markdown files of *folder* (none when it is missing), sorted, but hidden ones and those starting with ``_``."""
    if not folder.is_dir():
        return []
    return [path for path in sorted(folder.iterdir()) if not path.name.startswith((".", "_")) and path.name.endswith(MARKDOWN_SUFFIXES)]


def read_note_file(
    config: SiteConfig, path: Path, fields: Collection[str], unknown: str, problems: list[Problem]
) -> tuple[str, dict[str, Any], str, int] | None:
    """A Markdown file of ``content/`` that is not an article (a story note, a standalone page): its path as shown, its
    *fields* (text; ``nav``, a whole number), its body and the body's line; None when it cannot be read. Its problems go
    to *problems*, each at ``path:line``; *unknown* ends the warning on a field not in *fields*."""
    shown = path.relative_to(config.root).as_posix()
    raw = read_file(path, config.root)
    if isinstance(raw, Problem):
        problems.append(raw)
        return None
    entries, front_line, body, body_line, more = read_front_matter(shown, raw)
    problems += more
    if entries is None:
        return None
    values: dict[str, Any] = {}
    for key, entry in entries.items():
        if key not in fields:
            problems.append(warning(shown, entry.line, f'unknown field "{key}"{did_you_mean(key, list(fields))}; {unknown}'))
        elif key == "nav" and (isinstance(entry.value, bool) or not isinstance(entry.value, int)):
            problems.append(error(shown, entry.line, f"nav: expected a whole number (the footer link order), found {describe(entry.value)}"))
        elif key != "nav" and not (isinstance(entry.value, str) and entry.value.strip()):
            problems.append(error(shown, entry.line, f"{key}: expected text, found {describe(entry.value)}"))
        else:
            values[key] = " ".join(entry.value.split()) if isinstance(entry.value, str) else entry.value
    if "title" not in entries:
        problems.append(error(shown, front_line - 1, 'missing required field "title"'))
    return shown, values, body, body_line


def note_urls(config: SiteConfig) -> dict[str, str]:
    """Each story note's file (``content/stories/x.md``) -> its story's URL, so that a body links to a story by its note."""
    return {f"content/{STORY_NOTES}/{path.name}": f"/stories/{_note_id(path)}/" for path in markdown_files(config.root / "content" / STORY_NOTES)}


def _note_id(path: Path) -> str:
    return slug_or_hash(path.stem.rsplit(".", 1)[0], "id")


def read_story_notes(config: SiteConfig, article_urls: dict[str, str]) -> tuple[dict[str, StoryNote], list[Problem]]:
    """Every ``content/stories/*.md`` note by story id, with its problems (each as ``path:line``); *article_urls* resolve its links to articles."""
    notes: dict[str, StoryNote] = {}
    problems: list[Problem] = []
    renderer = BodyRenderer(config, article_urls)
    for path in markdown_files(config.root / "content" / STORY_NOTES):
        read = read_note_file(config, path, NOTE_KEYS, "a story note has only title, summary and a body", problems)
        if read is None or "title" not in read[1]:
            continue
        shown, values, body, body_line = read
        story = _note_id(path)
        summary = values.get("summary", "")
        body_html, more = renderer.render(Unpublished(shown, body_line, summary), body) if body.strip() else (None, [])
        problems += more
        notes[story] = StoryNote(story, shown, values["title"], summary, body_html.html if body_html else "")
    return notes, problems
