"""Share images: one 1200x630 PNG per article, right-to-left and CJK headlines drawn, cached."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import copy_site_to as copy_site
from PIL import Image, features

import digest.images
from digest.errors import ContentError
from digest.images import find_font, script_of
from digest.site import BuildOptions, build_site, load_site


def build(source: Path, out: Path) -> list[str]:
    result = build_site(BuildOptions(source=source, output=out))
    return [str(w) for w in result.warnings]


def picture(path: Path) -> Image.Image:
    return picture_of(path.read_bytes())


def test_every_article_without_an_image_gets_a_1200x630_png(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    assert build(source, tmp_path / "out") == []
    site = load_site(BuildOptions(source=source))
    for article in site.index.articles:
        card = tmp_path / "out" / article.url.lstrip("/") / "share.png"
        if article.image:
            assert not card.exists()
            continue
        image = picture(card)
        assert (image.format, image.size) == ("PNG", (1200, 630))


def ink_columns(image: Image.Image, top: int, bottom: int) -> tuple[int, int]:
    """Leftmost and rightmost columns with light (headline) pixels in a band."""
    band = image.convert("L").crop((0, top, image.width, bottom)).point(lambda v: 255 if v > 200 else 0)
    box = band.getbbox()
    assert box is not None, "no headline drawn"
    return box[0], box[2]


def test_arabic_headlines_are_right_aligned_and_latin_ones_left_aligned(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    build(source, tmp_path / "out")
    left, right = ink_columns(picture(tmp_path / "out" / "world" / "arabic" / "share.png"), 170, 470)
    assert right > 1100 and left > 72
    left, right = ink_columns(picture(tmp_path / "out" / "lab" / "old-news" / "share.png"), 170, 470)
    assert 60 < left < 90


def test_scripts_get_fonts_that_can_draw_them(tmp_path: Path) -> None:
    config = load_site(BuildOptions(source=copy_site("feeds", tmp_path / "src"))).config
    assert script_of("دول الخليج") == "arabic" and script_of("中国开源大模型") == "cjk" and script_of("Plain") == "latin"
    assert Path(find_font(config, "arabic").path).name.startswith("NotoSansArabic")
    chinese = find_font(config, "cjk", "zh-CN")
    assert Path(chinese.path).name.startswith("NotoSansCJK") and chinese.index == 2
    assert features.check("raqm"), "Pillow needs raqm (libraqm0) to shape Arabic"


def test_hebrew_indic_korean_and_mixed_headlines_get_a_font_for_every_letter_and_keep_their_spaces() -> None:
    from digest.config import SiteConfig
    from digest.images import ShareCard, draw_card, load_font, wrap

    config = SiteConfig(root=Path("."))
    titles = {"ישראל מפרסמת הנחיות": "hebrew", "भारत में एआई सहायक": "devanagari", "삼성 번역 기능 추가": "cjk", "يشمل GPT-5 و Llama 4": "arabic+latin"}
    for title, script in titles.items():
        assert script_of(title) == script, title
        assert find_font(config, script).path, f"no font installed for {script}"
    assert Path(find_font(config, "arabic+latin").path).name == "DejaVuSans-Bold.ttf"  # Noto's Arabic font has no Latin letters
    from PIL import ImageDraw

    font = load_font(find_font(config, "cjk", "ko"), 48)
    draw = ImageDraw.Draw(Image.new("L", (10, 10)))
    assert wrap(draw, "삼성, 스마트폰에 온디바이스 AI 번역 기능 추가", font, 2000, False) == ["삼성, 스마트폰에 온디바이스 AI 번역 기능 추가"]
    latin = find_font(config, "latin")
    card = ShareCard("Site", "Topic", "🚀 Launch day: 🤖 voice mode", "High confidence", (22, 128, 72), "en", False, latin, latin, latin)
    plain = ShareCard("Site", "Topic", "Launch day: voice mode", "High confidence", (22, 128, 72), "en", False, latin, latin, latin)
    assert draw_card(card) == draw_card(plain)  # no box for an emoji: no font here draws them


def test_images_are_cached_and_redrawn_only_when_their_inputs_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = copy_site("feeds", tmp_path / "src")
    build(source, tmp_path / "one")
    drawn: list[str] = []
    draw = digest.images.draw_card
    monkeypatch.setattr(digest.images, "draw_card", lambda card: drawn.append(card.title) or draw(card))
    build(source, tmp_path / "two")
    assert drawn == []
    assert (tmp_path / "two" / "lab" / "old-news" / "share.png").read_bytes() == (tmp_path / "one" / "lab" / "old-news" / "share.png").read_bytes()
    page = source / "content" / "lab" / "old-news.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Old news from the lab", "Fresh news from the lab"), encoding="utf-8")
    build(source, tmp_path / "three")
    assert drawn == ["Fresh news from the lab"]


def test_a_missing_font_gives_a_warning_and_still_a_valid_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest.images, "font_dirs", lambda config: [tmp_path / "no-fonts"])
    source = copy_site("feeds", tmp_path / "src")
    warnings = build(source, tmp_path / "out")
    assert any("no latin font found" in w for w in warnings)
    assert any("no arabic font found" in w and "arabic.md" in w for w in warnings)
    image = picture(tmp_path / "out" / "world" / "chinese" / "share.png")
    assert image.size == (1200, 630)


def test_share_images_can_be_turned_off(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    (source / "site.yaml").write_text((source / "site.yaml").read_text(encoding="utf-8") + "share_images: false\n", encoding="utf-8")
    build(source, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("share.png"))
    html = (tmp_path / "out" / "lab" / "old-news" / "index.html").read_text(encoding="utf-8")
    assert 'name="twitter:card" content="summary"' in html


def test_a_missing_local_image_is_an_error_with_its_line(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    page = source / "content" / "lab" / "own-image.md"
    page.write_text(page.read_text(encoding="utf-8").replace("image: cover.png", "image: nope.png"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(source, tmp_path / "out")
    assert [str(p) for p in caught.value.problems] == [
        "content/lab/own-image.md:7: error: image: expected an image file at content/lab/nope.png or a static file, found none"
    ]
    assert not (tmp_path / "out").exists()
    # a quoted key is found where the front-matter reader finds it, not at a body line that starts alike
    page.write_text(page.read_text(encoding="utf-8").replace("image: nope.png", '"image": nope.png') + "\nimage: the cover.\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(source, tmp_path / "out")
    assert [(p.path, p.line) for p in caught.value.problems] == [("content/lab/own-image.md", 7)]


def test_a_local_image_link_previews_cannot_show_is_a_warning(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    cover = source / "content" / "lab" / "cover.png"
    assert build(source, tmp_path / "out") == []  # the fixture's own cover is a PNG
    cover.write_text("<html>a page saved under the wrong name</html>", encoding="utf-8")
    found = "content/lab/own-image.md:7: warning: image: expected a PNG, JPEG, GIF or WebP file, which link previews show, found {}"
    assert build(source, tmp_path / "out") == [found.format("a file that is no image")]
    Image.new("RGB", (40, 20)).save(cover, format="TIFF")
    assert build(source, tmp_path / "out") == [found.format("a TIFF image")]


def test_an_image_beside_the_article_written_with_dot_slash_gets_a_plain_url(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    page = source / "content" / "lab" / "own-image.md"
    page.write_text(page.read_text(encoding="utf-8").replace("image: cover.png", "image: ./cover.png"), encoding="utf-8")
    assert build(source, tmp_path / "out") == []
    site = load_site(BuildOptions(source=source))
    assert next(a for a in site.articles if a.path == "content/lab/own-image.md").image == "/lab/cover.png"
    soup = BeautifulSoup((tmp_path / "out" / "lab" / "own-image" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one('meta[property="og:image"]')["content"] == "https://example.org/digest/lab/cover.png"  # type: ignore[index]


@pytest.mark.parametrize("title", ["word " * 100_000, "x" * 1_000_000], ids=["500 KB of words", "a word of a million letters"])
def test_a_huge_headline_is_drawn_quickly_as_a_valid_card(title: str) -> None:
    import time

    from digest.config import SiteConfig
    from digest.images import ShareCard, draw_card

    config = SiteConfig(root=Path("."))
    font = find_font(config, "latin")
    card = ShareCard("Site", "Topic", title.strip(), "High confidence", (22, 128, 72), "en", False, font, font, font)
    started = time.perf_counter()
    data = draw_card(card)
    assert time.perf_counter() - started < 5, "a guard far above the expected 0.1 s, not a benchmark"
    image = Image.open(io.BytesIO(data))
    assert image.size == (1200, 630) and image.format == "PNG"


def test_cards_drawn_ahead_in_a_first_build_are_the_cards_drawn_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitekit import article_front, write_article

    source = copy_site("feeds", tmp_path / "src")
    for number in range(digest.images.PARALLEL_CARDS):
        write_article(source, f"lab/story-{number}.md", article_front(f"Story number {number} of the lab", confidence=str(number)))
    started: list[bool] = []
    draw_ahead = digest.images.draw_ahead

    def spy(*args: object) -> None:
        draw_ahead(*args)  # type: ignore[arg-type]
        started.append(digest.images._AHEAD is not None)

    monkeypatch.setattr("digest.site.draw_ahead", spy)
    build_site(BuildOptions(source=source, output=tmp_path / "ahead", jobs=2))
    assert started == [True] and digest.images._AHEAD is None  # drawn ahead, and stopped by the end of the build
    build_site(BuildOptions(source=source, output=tmp_path / "in-place", jobs=2, cache=False))
    ahead, in_place = sorted((tmp_path / "ahead").rglob("share.png")), sorted((tmp_path / "in-place").rglob("share.png"))
    assert len(ahead) == digest.images.PARALLEL_CARDS + 4
    assert [path.read_bytes() for path in ahead] == [path.read_bytes() for path in in_place]
    build_site(BuildOptions(source=source, output=tmp_path / "again", jobs=2))
    assert started == [True, False]  # a rebuild finds its cards in the cache: nothing is drawn ahead


def test_a_latin_headline_drawn_word_by_word_looks_as_drawn_whole() -> None:
    from PIL import ImageChops, ImageDraw, ImageStat

    from digest.config import SiteConfig
    from digest.images import draw_line, load_font

    font = load_font(find_font(SiteConfig(root=Path(".")), "latin"), 48)
    line = "Affine fluffy waffles, “quoted” & Wavy AV typography"
    whole, by_words = Image.new("L", (1800, 120)), Image.new("L", (1800, 120))
    ImageDraw.Draw(whole).text((10, 10), line, font=font, fill=255)
    draw_line(by_words, (10, 10), line, font, None, None)
    assert whole.getbbox() is not None and by_words.getbbox() is not None
    assert abs(whole.getbbox()[2] - by_words.getbbox()[2]) <= 2  # type: ignore[index]
    assert ImageStat.Stat(ImageChops.difference(whole, by_words)).mean[0] < 1.5  # at most a pixel's shift in a word's place


def test_a_card_is_a_valid_8_bit_palette_png_of_the_card_colours() -> None:
    from digest.config import SiteConfig
    from digest.images import ACCENT, BACKGROUND, TEXT, ShareCard, draw_card

    font = find_font(SiteConfig(root=Path(".")), "latin")
    data = draw_card(ShareCard("Site", "Topic", "A headline", "High confidence", (22, 128, 72), "en", False, font, font, font))
    checked = Image.open(io.BytesIO(data))
    checked.verify()  # chunk CRCs and the zlib stream
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (1200, 630)
    assert image.getpixel((5, 300)) == ACCENT and image.getpixel((600, 600)) == BACKGROUND and image.getpixel((1100, 40)) == BACKGROUND
    assert TEXT in {color for _, color in image.crop((72, 170, 1128, 300)).getcolors(256) or []}


def test_a_palette_png_decodes_to_the_same_indexes_and_colours() -> None:
    from digest.images import palette_png

    indexes = Image.new("L", (300, 40))
    indexes.putdata([(x * 7 + y * 13) % 256 for y in range(40) for x in range(300)])  # every index, no two rows alike
    palette = bytes((i * 3 + k * 85) % 256 for i in range(256) for k in range(3))
    data = palette_png(indexes, palette)
    Image.open(io.BytesIO(data)).verify()  # chunk CRCs and the zlib stream
    image = picture_of(data)
    assert (image.format, image.mode, image.size) == ("PNG", "P", (300, 40))
    assert image.tobytes() == indexes.tobytes()
    assert bytes(image.getpalette() or []) == palette
    assert palette_png(indexes, palette) == data  # the same pixels give the same bytes


def picture_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
