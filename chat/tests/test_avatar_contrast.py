"""Initials avatars (issue 19.5): the initial on its colour meets WCAG AA
(4.5:1) for every hue a username can get, in both themes. Reads the colours
from chat.css, so a change there that breaks contrast fails here."""

import colorsys
import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[1] / "static/chat/chat.css"


def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_rgb(value: str) -> tuple[float, float, float]:
    value = value.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def test_initials_meet_aa_on_every_hue_in_both_themes():
    css = CSS.read_text()
    text = re.search(r"--avatar-text: light-dark\((#\w{6}), (#\w{6})\)", css)
    back = re.search(
        r"\.avatar \{[^}]*background: light-dark\("
        r"hsl\(var\(--hue, \d+\) (\d+)% (\d+)%\), hsl\(var\(--hue, \d+\) (\d+)% (\d+)%\)\)",
        css,
    )
    assert text and back, "the avatar colours moved: update this test"
    themes = {
        "light": (hex_rgb(text[1]), int(back[1]), int(back[2])),
        "dark": (hex_rgb(text[2]), int(back[3]), int(back[4])),
    }
    for theme, (ink, saturation, lightness) in themes.items():
        worst = min(
            contrast(
                ink, colorsys.hls_to_rgb(h / 360, lightness / 100, saturation / 100)
            )
            for h in range(360)
        )
        assert worst >= 4.5, (theme, round(worst, 2))
