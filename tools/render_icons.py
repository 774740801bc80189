"""Render the app icons from chat/static/chat/icons/icon.svg with Chromium.

    .venv/bin/python tools/render_icons.py

Writes icon-192.png, icon-512.png, icon-maskable-512.png (the mark inside
the maskable safe zone, on the brand colour) and favicon.ico (16 and 32 px
PNGs in an ICO container). The outputs are committed; run it after changing
the SVG.
"""

import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "chat/static/chat/icons"
PAGE = """<!doctype html><html><body style="margin:0;background:{bg}">
<img src="data:image/svg+xml;base64,{svg}" style="display:block;width:{inner}px;
height:{inner}px;margin:{pad}px"></body></html>"""


def render(page, size: int, maskable: bool = False) -> bytes:
    import base64

    svg = base64.b64encode((ICONS / "icon.svg").read_bytes()).decode()
    inner = int(size * 0.8) if maskable else size
    pad = (size - inner) // 2
    bg = "#3b5bdb" if maskable else "transparent"
    page.set_viewport_size({"width": size, "height": size})
    page.set_content(PAGE.format(bg=bg, svg=svg, inner=inner, pad=pad))
    return page.screenshot(omit_background=not maskable)


def ico(pngs: dict[int, bytes]) -> bytes:
    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs.items():
        entries += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        data += png
    return head + entries + data


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        (ICONS / "icon-192.png").write_bytes(render(page, 192))
        (ICONS / "icon-512.png").write_bytes(render(page, 512))
        (ICONS / "icon-maskable-512.png").write_bytes(render(page, 512, True))
        (ICONS / "favicon.ico").write_bytes(
            ico({16: render(page, 16), 32: render(page, 32)})
        )
        browser.close()


if __name__ == "__main__":
    main()
