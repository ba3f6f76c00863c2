"""What an update changed, and the pages it cannot have reached (part of the cache stage).

In: the last build's index and article tokens, this build's index and tokens,
the bodies whose HTML changed, and what each page read when it was last
rendered. Out: the output paths of pages whose key and recorded dependencies
are certainly the same as last time, so an update need not key them at all.

A page's key hashes its whole context (:func:`digest.cache.fingerprint`), and
the context of every page is planned from the index (:mod:`digest.pages`).
That context can only change through:

- an article whose metadata token changed, or whose body did (article pages
  show the body). Its ``Article`` is then a new object, while the index of
  an update keeps the last build's object for every other article, so a list
  of articles that holds it no longer compares equal to the last one;
- a list of the index that changed: related stories, more from the topic,
  older and newer, and the article list of an entity. An article added,
  removed or moved changes every list it joins, leaves or moves in, and the
  lists of its neighbours (adding or removing one also weighs every tag
  anew, so related stories are ranked again for all);
- an entity whose own fields changed (its name, slug, URL), or that came or
  went.

What the templates read beyond the context is recorded with each page and
checked the same way: a page whose recorded reads name a changed article or
entity is keyed again. A topic that changed, which every page's navigation
shows, makes it give up, and every page is keyed as before.
"""

from __future__ import annotations

from typing import Any

from .config import SiteConfig
from .index import SiteIndex
from .output import url_to_relpath
from .pages import Page, home_extras
from .render import entity_ref

ENTITY_KEYS = ("topic", "tag", "outlet", "month")  # the context key of the entity a paginated list page lists (Page.context["kind"])


def own_fields(value: Any) -> list[tuple[str, Any]]:
    """An entity's own fields, without its article (or month) list: what its token (SiteTokens.dep) hashes."""
    return [(k, v) for k, v in vars(value).items() if k != "articles" and k != "months"]


def entities_by_ref(index: SiteIndex) -> dict[str, Any]:
    """Every entity of *index* (topics, tags, outlets, stories, years and months) by its ref (``render.entity_ref``)."""
    found: dict[str, Any] = {}
    for group in (index.topics, index.tags, index.outlets, index.stories, index.years):
        for item in group:
            found[entity_ref(item) or ""] = item
    for year in index.years:
        for month in year.months:
            found[entity_ref(month) or ""] = month
    return found


def pages_known_unchanged(
    config: SiteConfig,
    pages: list[Page],
    before: SiteIndex,
    before_tokens: dict[str, bytes],
    index: SiteIndex,
    tokens: dict[str, bytes],
    changed_bodies: set[str],
    old_keys: dict[str, Any],
    stored_deps: dict[str, bytes],
) -> tuple[set[str], set[bytes]] | None:
    """Output paths of the *pages* that need not be keyed again, and the recorded reads that changed; None when every page must be keyed.

    *before* and *before_tokens* are the last build's index and article
    tokens; *tokens* this build's (without the expired mark, as the cache
    stores them). *old_keys* holds every output path the last build keyed,
    *stored_deps* what each page's templates read (:func:`digest.cache.pack_deps`).
    """
    # Articles added, removed or moved: every list that holds one compares unequal below, and so
    # does every article page whose neighbours, related stories or topic list it changed.
    meta_changed = {a.path for a in index.articles + index.expired if before_tokens.get(a.path) != tokens.get(a.path)}
    meta_changed |= {a.path for a in before.articles + before.expired} - {a.path for a in index.articles + index.expired}  # removed: their cards
    changed = meta_changed | changed_bodies  # article pages that show something new of their own article

    old_entities = entities_by_ref(before)
    new_entities = entities_by_ref(index)
    shallow: set[str] = set()  # entities whose own fields changed, came or went
    deep: set[str] = set()  # entities whose article (or month) list changed
    for ref in old_entities.keys() | new_entities.keys():
        old, new = old_entities.get(ref), new_entities.get(ref)
        if old is None or new is None or own_fields(old) != own_fields(new):
            shallow.add(ref)
            continue
        listed = "months" if hasattr(new, "months") else "articles"
        if getattr(old, listed) != getattr(new, listed):  # Months compare by their fields, articles mostly by identity
            deep.add(ref)
    if any(ref.startswith("topic:") for ref in shallow):
        return None  # every page's navigation shows the topics

    # Recorded reads that now give another token (cache.pack_deps writes a flag byte, then the ref).
    stale = {flag + ref.encode("utf-8", "surrogatepass") for ref in shallow for flag in (b"0", b"1")}
    stale |= {b"1" + ref.encode("utf-8", "surrogatepass") for ref in deep}
    stale |= {flag + b"card:" + path.encode("utf-8", "surrogatepass") for path in meta_changed for flag in (b"0", b"1")}
    home_same = _same(home_extras(config, before), home_extras(config, index), shallow)
    per = config.per_page

    kept: set[str] = set()
    for page in pages:
        rel = url_to_relpath(page.url)
        blob = stored_deps.get(rel)
        if rel not in old_keys or blob is None:
            continue
        if len(blob) > 16 and not stale.isdisjoint(blob[16:].split(b"\0")):
            continue
        context, template = page.context, page.template
        if template == "article.html":
            shown = context["article"]
            path = shown.path
            if path in changed or _neighbours_changed(path, before, index):
                continue
            if shallow and not _entities_unchanged(path, shown, index, shallow):
                continue
            kept.add(rel)
        elif template == "list.html":
            entity = next((context[key] for key in ENTITY_KEYS if key in context), None)
            listed_ref = entity_ref(entity)
            if entity is None or listed_ref is None or listed_ref in shallow:
                continue
            if listed_ref not in deep or _same_chunk(context, old_entities[listed_ref].articles, entity.articles, per):
                kept.add(rel)
        elif template == "home.html":
            if home_same and _same_chunk(context, before.articles, index.articles, per):
                kept.add(rel)
        elif template == "story.html":
            story = context["story"]
            story_ref = entity_ref(story)
            if story_ref not in shallow and story_ref not in deep and shallow.isdisjoint(entity_ref(o) for o in context["outlets"]):
                kept.add(rel)
    return kept, stale


def _same_chunk(context: dict[str, Any], before: tuple[Any, ...], now: tuple[Any, ...], per: int) -> bool:
    """Whether a list page shows the same articles, on a list of the same length, as it did."""
    number = context["pagination"].number
    return len(before) == len(now) and before[(number - 1) * per : number * per] == context["articles"]


def _same(old: Any, new: Any, shallow: set[str]) -> bool:
    """Whether two context values fingerprint alike: entities by their ref (unless it changed), articles by identity or fields."""
    ref = entity_ref(new)
    if ref is not None:
        return entity_ref(old) == ref and ref not in shallow
    if type(old) is not type(new):
        return False
    if isinstance(new, tuple | list):
        return len(old) == len(new) and all(_same(a, b, shallow) for a, b in zip(old, new, strict=True))
    if isinstance(new, dict):
        return bool(old.keys() == new.keys()) and all(_same(old[k], new[k], shallow) for k in new)
    return bool(old is new or old == new)


def _neighbours_changed(path: str, before: SiteIndex, index: SiteIndex) -> bool:
    """Whether an article page's lists (related, more from the topic, older, newer) differ from the last build's."""
    return (
        before.related.get(path) != index.related.get(path)
        or before.more_from_topic.get(path) != index.more_from_topic.get(path)
        or before.older.get(path) is not index.older.get(path)
        or before.newer.get(path) is not index.newer.get(path)
    )


def _entities_unchanged(path: str, article: Any, index: SiteIndex, shallow: set[str]) -> bool:
    """Whether none of the entities an article page shows (topic, tags, story, outlets) changed its own fields."""
    refs = [f"topic:{article.topic}", *(entity_ref(t) for t in index.tags_of.get(path, ()))]
    if article.story:
        refs.append(f"story:{article.story}")
    refs += [f"outlet:{s.outlet}" for s in article.sources]
    return shallow.isdisjoint(refs)
