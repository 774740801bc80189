// Search on the page: the box in the sidebar asks GET /api/v1/search (with
// from:, in:, has:link, has:file, before:, after:), results newest first in
// a panel; each hit's terms are marked with <mark> built from the server's
// [start, end) ranges (in characters, i.e. code points) with text nodes,
// never as HTML. A hit opens its message in context.
import { api, enc } from "./api.js";
import { $, el } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

// Text with [start, end) code-point ranges marked: a fragment of text nodes
// and <mark> elements.
export function highlighted(text, ranges) {
  const chars = Array.from(text || "");
  const fragment = document.createDocumentFragment();
  let at = 0;
  const sorted = [...(ranges || [])].sort((a, b) => a[0] - b[0]);
  for (const [start, end] of sorted) {
    if (start < at || end <= start || start >= chars.length) continue;
    if (start > at) fragment.append(chars.slice(at, start).join(""));
    fragment.append(el("mark", "", chars.slice(start, Math.min(end, chars.length)).join("")));
    at = Math.min(end, chars.length);
  }
  if (at < chars.length) fragment.append(chars.slice(at).join(""));
  return fragment;
}

export class SearchPanel {
  // onOpen(room, seq); roomLabel(room)
  constructor({ onOpen, roomLabel, onOpenPanel }) {
    this.onOpen = onOpen;
    this.roomLabel = roomLabel;
    this.onOpenPanel = onOpenPanel;
    this.panel = $("search-panel");
    this.list = $("search-results");
    this.status = $("search-status");
    this.input = $("search-input");
    this.asked = 0;
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(this.input.value.trim());
    });
    $("show-mentions").addEventListener("click", () => this.mentions());
  }

  // The "mentions" view: recent messages in your rooms that name you or
  // everyone (GET /api/v1/mentions), in the same panel; a click opens one.
  mentions() {
    return this.show("mentions?limit=50", "messages", (count) =>
      count
        ? interpolate(ngettext("%(count)s message mentions you", "%(count)s messages mention you", count), {
            count,
          })
        : gettext("Nobody has mentioned you yet.")
    );
  }

  search(q) {
    if (!q) return;
    return this.show(`search?q=${enc(q)}&limit=50`, "results", (count) =>
      count
        ? interpolate(ngettext("%(count)s message", "%(count)s messages", count), { count })
        : gettext("Nothing found.")
    );
  }

  // Ask `path`, list the messages under `key` of the answer; `describe(n)`
  // says how many. A later question wins over an earlier one still out.
  async show(path, key, describe) {
    const ticket = ++this.asked;
    this.onOpenPanel("search-panel");
    this.panel.hidden = false;
    this.status.textContent = gettext("Searching…");
    this.list.replaceChildren();
    try {
      const data = await api("GET", path);
      if (ticket !== this.asked) return;
      const found = data[key] || [];
      this.status.textContent = describe(found.length);
      this.list.replaceChildren(...found.map((hit) => this.item(hit)));
    } catch (error) {
      if (ticket === this.asked) this.status.textContent = error.message;
    }
  }

  item(hit) {
    const li = el("li", "search-hit");
    const button = el("button", "search-hit-button");
    button.type = "button";
    const meta = el("span", "search-meta");
    meta.append(el("span", "search-room", this.roomLabel(hit.room)), " · ", el("span", "author", hit.username));
    if (hit.ts) {
      const time = el("time", "", shortTime(new Date(hit.ts)));
      time.dateTime = hit.ts;
      time.title = fullTime(new Date(hit.ts));
      meta.append(" · ", time);
    }
    const text = el("span", "search-text");
    text.append(highlighted(hit.message, hit.highlights));
    button.append(meta, text);
    button.addEventListener("click", () => this.onOpen(hit.room, hit.seq));
    li.append(button);
    return li;
  }
}
