"""Stage 6c, share images: a 1200x630 PNG card for each article, drawn with Pillow.

In: ``SiteConfig`` and ``SiteIndex``. Out: ``{url_path: bytes}`` with one
``<article url>share.png`` per article that names no ``image`` of its own.

Fonts come from the site's or the repository's ``fonts/`` folder, then Debian's
Noto and DejaVu packages (Arabic shaped with Pillow's raqm layout); a missing font
gives a warning and Pillow's own font. Drawing is slow, so every image is cached
under ``.digest-cache/share-images/``, keyed by a hash of all that goes into it.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import SiteConfig
from .errors import Problem, warning
from .i18n import translator
from .index import SiteIndex
from .memo import BUNDLED, SYSTEM_FONT_DIRS
from .schema import Article
from .workers import default_stop, in_chunks

if TYPE_CHECKING:  # Pillow itself is imported only to draw: a rebuild that draws nothing does without it
    import PIL.Image
    from PIL import ImageDraw, ImageFont

    from .render import SiteUrls

    AnyFont = ImageFont.FreeTypeFont | ImageFont.ImageFont

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
IMAGE_NAME = "share.png"
DRAWING_VERSION = "6"  # bump when the layout or encoding changes, so cached images are redrawn
CACHE_FOLDER = Path(".digest-cache") / "share-images"
# Bold faces per script, best first: (file name, face index inside a .ttc collection).
FONT_CHOICES: dict[str, tuple[tuple[str, int], ...]] = {
    "latin": (("NotoSans-Bold.ttf", 0), ("DejaVuSans-Bold.ttf", 0)),
    "arabic": (("NotoSansArabic-Bold.ttf", 0), ("NotoNaskhArabic-Bold.ttf", 0), ("DejaVuSans-Bold.ttf", 0)),
    "hebrew": (("NotoSansHebrew-Bold.ttf", 0), ("DejaVuSans-Bold.ttf", 0)),
    "arabic+latin": (("DejaVuSans-Bold.ttf", 0), ("NotoSansArabic-Bold.ttf", 0)),  # Noto's Arabic and Hebrew fonts have no Latin letters
    "hebrew+latin": (("DejaVuSans-Bold.ttf", 0), ("NotoSansHebrew-Bold.ttf", 0)),
    "devanagari": (("NotoSansDevanagari-Bold.ttf", 0),),
    "bengali": (("NotoSansBengali-Bold.ttf", 0),),
    "tamil": (("NotoSansTamil-Bold.ttf", 0),),
    "thai": (("NotoSansThai-Bold.ttf", 0),),
    "cjk": (("NotoSansCJK-Bold.ttc", 2), ("NotoSansCJKsc-Bold.otf", 0), ("NotoSerifCJK-Bold.ttc", 2)),
}
CJK_FACE = {"ja": 0, "ko": 1, "zh-tw": 3, "zh-hant": 3, "zh-hk": 4}  # face index in Noto's CJK collection
# Patterns compiled (and kept by re) on first use: wide character classes take milliseconds to compile; most builds draw none.
_ARABIC = r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"
_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
_TOKEN = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff][\u3000-\u303f\uff00-\uffef]*|\S+"
_UNSPACED = r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"  # Chinese and Japanese; Korean spaces its words
_SCRIPTS = (  # besides Latin, by the first letter found (ASCII alone is Latin)
    ("arabic", _ARABIC), ("hebrew", r"[\u0590-\u05ff\ufb1d-\ufb4f]"), ("devanagari", r"[\u0900-\u097f]"), ("bengali", r"[\u0980-\u09ff]"),
    ("tamil", r"[\u0b80-\u0bff]"), ("thai", r"[\u0e00-\u0e7f]"), ("cjk", _CJK),
)  # fmt: skip
_EMOJI = r"[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]"  # no card font draws them: left out rather than drawn as boxes
BADGE_COLORS = {"High": (22, 128, 72), "Medium": (176, 112, 0), "Low": (184, 44, 44)}
NO_BADGE = (90, 98, 112)  # the badge of an article without a confidence label
BACKGROUND = (16, 24, 40)
ACCENT = (94, 160, 255)
TEXT = (245, 247, 250)
MUTED = (170, 182, 200)
MAX_TITLE = 400  # characters of a headline drawn on a card
MAX_WORD = 60  # characters of one word drawn on a card
PARALLEL_CARDS = 40  # below this many cards to draw, starting workers costs more than it saves
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"  # the last chunk of every complete PNG
PNG_LEVEL = 2  # zlib-ng's level 2: 0.7 ms for a card's 756,000 pixels, and smaller than the system zlib's level 1 at 2 ms
TITLE_TOP = 170  # where the headline's first line starts
TEXT_LEFT = 24  # where text may start: right of the accent bar


@dataclass(frozen=True)
class FontChoice:
    path: str = field(repr=False)  # "" when no font file was found: Pillow's built-in font is used; not in a card's key, which holds the next two
    index: int
    content: str = ""  # a hash of the font file's bytes: another font, wherever it is installed, draws the cards again


def share_image_url(config: SiteConfig, urls: SiteUrls, article: Article) -> str:
    """The absolute URL of the article's share image: its own ``image`` (URL or site path), else its card, else ""."""
    image = article.image or (article.url + IMAGE_NAME if config.share_images else "")
    return urls.absolute(image) if image else ""


def script_of(text: str) -> str:
    if text.isascii():  # most headlines: no need to search them for Arabic or CJK letters
        return "latin"
    script = next((name for name, letters in _SCRIPTS if re.search(letters, text)), "latin")
    return f"{script}+latin" if script in ("arabic", "hebrew") and re.search("[A-Za-z]", text) else script


def font_dirs(config: SiteConfig) -> list[Path]:
    return [config.root / "fonts", BUNDLED / "fonts", *SYSTEM_FONT_DIRS]


def find_font(config: SiteConfig, script: str, lang: str = "") -> FontChoice:
    """The first installed font for *script*, or an empty choice."""
    for name, index in FONT_CHOICES[script]:
        for folder in font_dirs(config):
            if (folder / name).is_file():
                if name.startswith("NotoSansCJK") and name.endswith(".ttc"):
                    index = CJK_FACE.get(lang.lower(), CJK_FACE.get(lang.split("-")[0].lower(), index))
                return FontChoice(str(folder / name), index, font_hash(str(folder / name)))
    return FontChoice("", 0)


@lru_cache(maxsize=64)
def font_hash(path: str) -> str:
    """A hash of a font file's bytes, read once per process (and only when a card is drawn or keyed)."""
    return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()


def font_problems(config: SiteConfig, index: SiteIndex) -> list[Problem]:
    """Warnings for scripts used in headlines that no installed font can draw."""
    if not config.share_images:
        return []
    needed: dict[str, str] = {"latin": config.path}
    for article in index.articles + index.expired:
        if not article.image:
            needed.setdefault(script_of(article.title), article.path)
    problems = []
    for script, where in sorted(needed.items()):
        if not find_font(config, script).path:
            wanted = ", ".join(name for name, _ in FONT_CHOICES[script])
            advice = "install fonts-noto-core and fonts-noto-cjk or put one in fonts/"
            problems.append(warning(where, 0, f"share images: no {script} font found (looked for {wanted}); {advice}"))
    from PIL import features

    if not features.check("raqm") and "arabic" in needed:
        problems.append(warning(needed["arabic"], 0, "share images: Pillow has no raqm layout (install libraqm0), so Arabic headlines are drawn unshaped"))
    return problems


def render_share_images(config: SiteConfig, cards: dict[str, ShareCard], cached: bool = True, jobs: int = 1) -> Iterator[tuple[str, bytes]]:
    """The PNG of each of *cards*, by URL (kept in the cache folder when *cached*), drawn by *jobs* workers."""
    stop_drawing_ahead()  # what it drew is in the cache now
    return chain.from_iterable(in_chunks(_draw_chunk, (config, cached), list(cards.items()), jobs, PARALLEL_CARDS))


def draw_ahead(config: SiteConfig, articles: list[Article], jobs: int) -> None:
    """Draw the cards of *articles* into the cache folder in a background process, while the build goes on (on one
    core for long stretches); render_share_images stops it and draws what is left. Only in a first build (no cache
    folder: a rebuild reads no cache for nothing), with *jobs* over 1 and enough cards."""
    global _AHEAD
    import multiprocessing

    stop_drawing_ahead()
    first = config.share_images and not (config.root / CACHE_FOLDER).exists()
    cards = list(cards_of(config, articles, {topic.slug: topic.name for topic in config.topics}).values()) if first else []  # the index names the others
    if jobs < 2 or len(cards) < PARALLEL_CARDS or "fork" not in multiprocessing.get_all_start_methods():
        return
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    process = context.Process(target=_draw_ahead, args=(config, cards, stop), daemon=True)
    process.start()
    _AHEAD = (process, stop)


def _draw_ahead(config: SiteConfig, cards: list[ShareCard], stop: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build, which ends this process without a traceback
    default_stop()
    for card in cards:
        if stop.is_set():
            return
        share_image(config, card)


def stop_drawing_ahead() -> None:
    """Stop the cards being drawn ahead, if any, once the card in hand is in the cache."""
    global _AHEAD
    if _AHEAD is not None:
        process, stop = _AHEAD
        _AHEAD = None
        stop.set()
        process.join()


_AHEAD: Any = None  # (process, stop event) of the cards being drawn ahead


def _draw_chunk(config: SiteConfig, cached: bool, cards: list[tuple[str, ShareCard]]) -> list[tuple[str, bytes]]:
    return [(url, share_image(config, card, cached)) for url, card in cards]


def share_cards(config: SiteConfig, index: SiteIndex) -> dict[str, ShareCard]:
    """What each generated share image shows, by its URL (none when share_images is off)."""
    articles = index.articles + index.expired if config.share_images else ()
    return cards_of(config, articles, {slug: topic.name for slug, topic in index.topic_of.items()})


def cards_of(config: SiteConfig, articles: Sequence[Article], topic_names: dict[str, str]) -> dict[str, ShareCard]:
    """The card of each of *articles* that names no image and whose topic *topic_names* knows, by its URL."""
    fonts = cache(partial(find_font, config))  # by script and language: a build's cards share a few fonts
    return {a.url + IMAGE_NAME: ShareCard.of(config, topic_names[a.topic], a, fonts) for a in articles if not a.image and a.topic in topic_names}


def share_image(config: SiteConfig, card: ShareCard, cached: bool = True) -> bytes:
    """The PNG of one card; with *cached*, from the cache folder when it was drawn before (checked to be a PNG)."""
    if not cached:
        return draw_card(card)
    path = config.root / CACHE_FOLDER / f"{card.cache_key()}.png"
    with suppress(OSError):
        data = path.read_bytes()
        if data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END):
            return data
    data = draw_card(card)
    with suppress(OSError):  # a cache that cannot be written is only slower
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # atomically: a reader never sees half a file
    return data


@dataclass(frozen=True)
class ShareCard:
    """Everything that goes into one image; its hash is the cache key."""

    site: str
    topic: str
    title: str
    badge: str
    badge_color: tuple[int, int, int]
    lang: str
    rtl: bool
    title_font: FontChoice
    label_font: FontChoice
    topic_font: FontChoice

    @staticmethod
    def of(config: SiteConfig, topic: str, article: Article, fonts: Callable[[str, str], FontChoice]) -> ShareCard:
        score = f" · {article.confidence}/100" if article.confidence is not None else ""
        return ShareCard(
            site=config.title,
            topic=topic,
            title=article.title,
            badge=translator(config)(f"{article.confidence_label} confidence") + score,
            badge_color=BADGE_COLORS.get(article.confidence_label, NO_BADGE),
            lang=article.lang,
            rtl=article.dir == "rtl",
            title_font=fonts(script_of(article.title), article.lang),
            label_font=fonts(script_of(config.title), ""),
            topic_font=fonts(script_of(topic), ""),
        )

    def cache_key(self) -> str:
        import PIL
        from PIL import features

        text = repr((DRAWING_VERSION, PIL.__version__, features.check("raqm"), self))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@cache
def load_font(choice: FontChoice, size: int) -> AnyFont:
    """A font by choice and size, loaded once per process; Pillow's own font for an empty choice."""
    from PIL import ImageFont, features

    if not choice.path:
        return ImageFont.load_default(size)
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(choice.path, size, index=choice.index, layout_engine=layout)


@lru_cache(maxsize=64)
def card_top(site: str, topic: str, label_font: FontChoice, topic_font: FontChoice) -> PIL.Image.Image:
    """The accent bar, site name and topic, as palette indexes: the same on every card of a topic, so drawn once per process."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 16, HEIGHT), fill=ACCENT)
    for text, choice, size, y, color in ((site, label_font, 34, 56, MUTED), (topic.upper(), topic_font, 30, 110, ACCENT)):
        face = load_font(choice, size)
        draw.text((MARGIN, y), text, font=face, fill=color, direction=_direction(text, face)[0])
    palette = Image.new("P", (1, 1))
    palette.putpalette(PALETTE)
    return Image.frombytes("L", image.size, image.quantize(palette=palette, dither=Image.Dither.NONE).tobytes())


def draw_card(card: ShareCard) -> bytes:
    """One card as a PNG of PALETTE indexes: each text drawn in white on black (its coverage), mapped onto the ramp
    of its colour over what is under it, and pasted; no RGB image is drawn or quantized."""
    from PIL import Image, ImageDraw, ImageFont

    image = card_top(card.site, card.topic, card.label_font, card.topic_font).copy()
    draw = ImageDraw.Draw(image)

    # The largest headline size whose wrapped lines fit above the badge. Nine lines of 32 px hold at
    # most a few hundred characters, so a longer title (or word) is cut first: drawing stays quick.
    title = " ".join(token[:MAX_WORD] for token in re.findall(_TOKEN, re.sub(_EMOJI, "", card.title[:MAX_TITLE])))
    box_width, box_height = WIDTH - 2 * MARGIN, 300
    for size in (72, 64, 56, 48, 42, 36, 32):
        title_font = load_font(card.title_font, size)
        lines = wrap(draw, title, title_font, box_width, card.rtl)
        line_height = int(size * 1.3)
        if len(lines) * line_height <= box_height:
            break
    badge_top = HEIGHT - MARGIN - 56
    # The headline's coverage, from right of the accent bar down to the badge (room for the last line's descenders).
    coverage = Image.new("L", (WIDTH - TEXT_LEFT, badge_top - TITLE_TOP))
    for row, line in enumerate(lines[: box_height // line_height]):
        direction, language = _direction(line, title_font, card.rtl, card.lang)
        x = (WIDTH - MARGIN - draw.textlength(line, font=title_font, direction=direction, language=language) if card.rtl else MARGIN) - TEXT_LEFT
        draw_line(coverage, (x, row * line_height), line, title_font, direction, language)
    image.paste(coverage.point(ramp(BACKGROUND, TEXT)), (TEXT_LEFT, TITLE_TOP))

    badge_font = load_font(card.label_font, 30)
    width = word_length(badge_font, card.badge)  # a few hundred labels in all: measured once each
    draw.rounded_rectangle((MARGIN, badge_top, MARGIN + width + 48, badge_top + 56), radius=28, fill=ramp(card.badge_color, TEXT)[0])
    # The label's coverage, inside the badge's straight part (pasting it whole leaves the rounded ends as they are).
    coverage = Image.new("L", (round(width) + 8, 48))
    height = sum(badge_font.getmetrics()) if isinstance(badge_font, ImageFont.FreeTypeFont) else 0  # ascent and descent
    draw_line(coverage, (4, 24 - height // 2), card.badge, badge_font, None, None)  # centred on the badge
    image.paste(coverage.point(ramp(card.badge_color, TEXT)), (MARGIN + 20, badge_top + 4))

    return palette_png(image, PALETTE_BYTES)


def palette_png(indexes: PIL.Image.Image, palette: bytes) -> bytes:
    """An 8-bit palette PNG of *indexes* (an "L" image), each row of filter type 0 (none) as Pillow writes them. Pillow
    deflates with the system's zlib, in half a card's time; zlib-ng takes a third of that, and PNG's framing is short."""
    from PIL import Image
    from zlib_ng import zlib_ng

    width, height = indexes.size
    rows = Image.new("L", (width + 1, height))  # column 0: the filter type of each row
    rows.paste(indexes, (1, 0))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8 bits, palette colour, deflate, no interlace
    chunks = ((b"IHDR", header), (b"PLTE", palette), (b"IDAT", zlib_ng.compress(rows.tobytes(), PNG_LEVEL)), (b"IEND", b""))
    return PNG_SIGNATURE + b"".join(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib_ng.crc32(kind + data)) for kind, data in chunks)


def draw_line(coverage: PIL.Image.Image, xy: tuple[float, int], line: str, font: AnyFont, direction: str | None, language: str | None) -> None:
    """Add one line of text to a coverage image: a left-to-right Latin line word by word, each word drawn once per process."""
    from PIL import ImageDraw

    if not by_words(line, font, direction):
        ImageDraw.Draw(coverage).text(xy, line, font=font, fill=255, direction=direction, language=language)
        return
    x, y = xy
    space = word_length(font, " ")
    for word in line.split(" "):
        if word:
            mask, left, top = word_coverage(font, word)
            coverage.paste(255, (round(x) + left, y + top), mask)
            x += word_length(font, word)
        x += space


def by_words(text: str, font: AnyFont, direction: str | None) -> bool:
    """Whether *text* is drawn and measured word by word: Latin, left to right, in a FreeType font."""
    from PIL import ImageFont

    return direction is None and isinstance(font, ImageFont.FreeTypeFont) and script_of(text) == "latin"


@lru_cache(maxsize=8192)
def word_length(font: AnyFont, word: str) -> float:
    return font.getlength(word)


@lru_cache(maxsize=4096)
def word_coverage(font: ImageFont.FreeTypeFont, word: str) -> tuple[PIL.Image.Image, int, int]:
    """A word drawn in white on black, and where its box starts from the pen position (kept: a glyph costs tens of
    microseconds with Noto's hinting, and headlines share most of their words)."""
    from PIL import Image, ImageDraw

    pad = round(font.size)  # room for any glyph's overhang: measuring the word's box first would lay it out once more
    mask = Image.new("L", (round(word_length(font, word)) + 2 * pad, 2 * pad))
    ImageDraw.Draw(mask).text((pad, pad // 2), word, font=font, fill=255)
    box = mask.getbbox() or (0, 0, 1, 1)
    return mask.crop(box), box[0] - pad, box[1] - pad // 2


# Each colour a card shows over what it is drawn on: the palette holds a ramp of blends for each.
RAMPS = [(BACKGROUND, TEXT), (BACKGROUND, MUTED), (BACKGROUND, ACCENT), (BACKGROUND, NO_BADGE), (NO_BADGE, TEXT)]
RAMPS += [pair for color in BADGE_COLORS.values() for pair in ((BACKGROUND, color), (color, TEXT))]
STEPS = 256 // len(RAMPS)
PALETTE = [round(a[k] + (b[k] - a[k]) * step / (STEPS - 1)) for a, b in RAMPS for step in range(STEPS) for k in range(3)]
PALETTE += [0] * (768 - len(PALETTE))
PALETTE_BYTES = bytes(PALETTE)


@cache
def ramp(start: tuple[int, int, int], end: tuple[int, int, int]) -> list[int]:
    """The palette index of each coverage (0 to 255) of *end* drawn over *start*."""
    base = RAMPS.index((start, end)) * STEPS
    return [base + round(value * (STEPS - 1) / 255) for value in range(256)]


def wrap(draw: ImageDraw.ImageDraw, text: str, font: AnyFont, width: int, rtl: bool) -> list[str]:
    """Greedy line breaking on spaces, and between CJK characters."""
    lines = [""]
    if not rtl and by_words(text, font, None):  # a line's width is the sum of its words' and spaces'
        taken, space = 0.0, word_length(font, " ")
        for word in text.split():
            length = word_length(font, word)
            if lines[-1] and taken + space + length > width:
                lines.append(word)
                taken = length
            else:
                lines[-1] += " " + word if lines[-1] else word
                taken += space + length if taken else length
    else:
        for token in re.findall(_TOKEN, text):
            current = lines[-1]
            joiner = "" if not current or (re.match(_UNSPACED, token[0]) and re.match(_UNSPACED, current[-1])) else " "
            candidate = current + joiner + token
            if current and draw.textlength(candidate, font=font, direction=_direction(candidate, font, rtl)[0]) > width:
                lines.append(token)
            else:
                lines[-1] = candidate
    return lines if lines[0] else []  # the first line is empty only when the text is


def _direction(text: str, font: AnyFont, rtl: bool = False, lang: str = "") -> tuple[str | None, str | None]:
    """(direction, language) for raqm; the basic layout (and Pillow's own font) accepts neither."""
    from PIL import ImageFont

    shaped = isinstance(font, ImageFont.FreeTypeFont) and font.layout_engine == ImageFont.Layout.RAQM
    return ("rtl", lang or "ar") if shaped and (rtl or re.search(_ARABIC, text)) else (None, None)
