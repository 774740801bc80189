"""Make the page's emoji font: a subset of Noto Color Emoji (SIL OFL 1.1).

    # once, outside the project (dev-time tools, not project dependencies):
    npm install --prefix /tmp/emoji "@fontsource/noto-color-emoji@5"
    python3 -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install "fonttools[woff]"
    # then, from the project root:
    /tmp/fontvenv/bin/python tools/subset_emoji.py \
      /tmp/emoji/node_modules/@fontsource/noto-color-emoji/files/noto-color-emoji-emoji-400-normal.woff2

Writes chat/static/chat/fonts/emoji.woff2 (the picker's emoji, the action
bar's, and about 450 common ones: COLRv1 vector glyphs, no SVG table) and
chat/static/chat/fonts/emoji.css (its @font-face, family "ChatEmoji", with
a `unicode-range` of exactly the code points the subset maps, so a browser
fetches the font only when one of them is on screen). Both are committed;
run this after changing the list below or chat/static/chat/emoji.js. The
full font is about 6 MB as woff2; the subset about 280 KB.
"""

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "chat/static/chat/fonts"
PICKER = ROOT / "chat/static/chat/emoji.js"
FAMILY = "ChatEmoji"

# Common emoji (single code points; sequences of these, such as ❤️‍🔥, come
# along through the font's own substitutions). Arrows that have an emoji
# form (↔ ↩ ⬅ ➡ …) are left out on purpose: in running text they are
# arrows, and the page uses ↩ as an icon.
COMMON = """
1F600-1F64F 1F910-1F92F 1F970-1F97A 1F90C-1F90F 1F44A-1F450 1F493-1F49F
1F4AA 1F4AF 1F4A1 1F4A5 1F4A9 1F4AC 1F525 1F389 1F38A 1F381 1F382 1F440
1F680 1F3C6 1F31F 1F308 1F334 1F355 1F37A 1F37B 1F517 1F5D1 1F4CC 1F4CE
1F4DD 1F4E2 1F514 1F50D 1F512 1F513 1F4C5 1F4C8 1F4E6 1F6A7 1F6A8 1F9D0
1F9E1 1F90D 1F90E 1F5A4 1F9E0 1FAE0-1FAE8 1FAF0-1FAF8 2600-2604 260E 2611
2614 2615 261D 2620 2639 263A 2648-2653 2660 2663 2665 2666 267B 267F 2693
26A0 26A1 26AA 26AB 26BD 26BE 26C4 26C5 26D4 26EA 26F3 26F5 26FA 26FD 2702
2705 2708-270D 270F 2712 2714 2716 271D 2721 2728 2733 2734 2744 2747 274C
274E 2753-2755 2757 2763 2764 2795-2797 27B0 27BF 2B1B 2B1C 2B50 2B55
23E9-23F3 231A 231B 2328 1F918-1F91F 1F4F7 1F4BB 1F4F1 1F3B5 1F3B6 1F3AF
1F3C1 1F6A9 1F6AB 1F4B0 1F4B8 1F4CA 1F4CB 1F4D6 1F4DA 1F4E7 1F4E8 1F4E9
1F4AD 1F4A4 1F4A6 1F4A8 1F4AB 1F31E 1F31A 1F319 1F30D 1F30E 1F30F 1F340
1F331 1F33B 1F339 1F337 1F352 1F34E 1F34C 1F36A 1F370 1F369 1F375 1F377
1F378 1F379 1F942 1F37F 1F354 1F35F 1F32E 1F363 1F436 1F431 1F98A 1F43B
1F43C 1F428 1F42F 1F981 1F984 1F427 1F426 1F40D 1F422 1F419 1F41B 1F41D
1F98B 1F40C 1F3E0 1F3E2 1F697 1F6B2 1F6EB 1F6EC 1F30A 1F3D6 1F3D4 1F384
1F383 1F388 1F38F 1F3C3 1F6B6 1F9D1 1F468 1F469 1F476 1F474 1F475 1F47B
1F47D 1F47E 1F916 1F480 1F47F 1F479 1F47A 1F4A2 1F4A3 1F48B 1F48C 1F48E
1F490 1F451 1F453 1F576 1F3A4 1F3A7 1F3AE 1F3B2 1F3A8 1F3AC 1F3A5 1F4FA
1F4FB 1F50B 1F50C 1F527 1F528 1F529 1F52B 1F52E 1F4A0 1F534 1F535
1F7E0-1F7EB 1F51D 1F195 1F197 1F199 1F192 1F193 1F6A6 1F6A5 1F3F3 1F3F4
200D FE0F
"""


def parse_ranges(text: str) -> set[int]:
    points: set[int] = set()
    for token in text.split():
        first, _, last = token.partition("-")
        points.update(range(int(first, 16), int(last or first, 16) + 1))
    return points


def picker_points() -> set[int]:
    """Every code point of the picker's emoji (chat/static/chat/emoji.js)."""
    strings = re.findall(r'"([^"]+)"', PICKER.read_text(encoding="utf-8"))
    return {ord(ch) for s in strings for ch in s}


def css_ranges(points: list[int]) -> str:
    ranges, start = [], None
    for i, point in enumerate(points):
        if start is None:
            start = point
        if i + 1 == len(points) or points[i + 1] != point + 1:
            ranges.append(
                f"U+{start:X}" if start == point else f"U+{start:X}-{point:X}"
            )
            start = None
    return ", ".join(ranges)


def main(source: str) -> None:
    wanted = parse_ranges(COMMON) | picker_points()
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # sequences: ❤️‍🔥, keycaps, …
    font = TTFont(source)
    if "SVG " in font:
        del font["SVG "]  # COLRv1 draws; SVG glyphs would double the size
    missing = sorted(p for p in picker_points() if p not in font.getBestCmap())
    missing = [p for p in missing if p not in (0x200D, 0xFE0F)]
    if missing:
        sys.exit(f"the font lacks picker emoji: {[hex(p) for p in missing]}")
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    FONTS.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(FONTS / "emoji.woff2")
    mapped = sorted(TTFont(FONTS / "emoji.woff2").getBestCmap())
    (FONTS / "emoji.css").write_text(
        "/* The page's emoji: a subset of Noto Color Emoji (SIL OFL 1.1, OFL.txt\n"
        "   here), made by tools/subset_emoji.py, which writes this file. The\n"
        "   unicode-range is exactly what the subset maps: the font is fetched\n"
        "   only when one of those characters is on screen. */\n"
        "@font-face {\n"
        f'  font-family: "{FAMILY}";\n'
        '  src: url("emoji.woff2") format("woff2");\n'
        "  font-display: swap;\n"
        f"  unicode-range: {css_ranges(mapped)};\n"
        "}\n",
        encoding="utf-8",
    )
    size = (FONTS / "emoji.woff2").stat().st_size
    print(f"emoji.woff2: {len(mapped)} code points, {size} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
