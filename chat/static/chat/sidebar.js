// The sidebar: the user's rooms and DMs from their summaries (hello, then
// `room` frames), each with its unread and mention badges, most recently
// active first. Links are real links (/chat/<room>/); a click switches the
// room without a reload.
import { el } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

// A DM's name for people: the other members (or yourself, alone).
export function displayName(summary, me) {
  if (summary.kind !== "dm") return summary.room;
  const others = (summary.members || []).filter((name) => name !== me);
  return others.length ? others.join(", ") : me;
}

// A small padlock (SVG: no emoji font needed) on private rooms.
function lockIcon() {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 10 12");
  svg.setAttribute("class", "lock");
  const body = document.createElementNS(NS, "rect");
  for (const [k, v] of Object.entries({ x: 1, y: 5, width: 8, height: 7, rx: 1 })) body.setAttribute(k, v);
  const shackle = document.createElementNS(NS, "path");
  shackle.setAttribute("d", "M3 5V3.5a2 2 0 0 1 4 0V5");
  svg.append(body, shackle);
  return svg;
}

export class Sidebar {
  // elements: {rooms, dms}; roomUrl(name) -> path; onOpen(name)
  constructor(elements, { me, roomUrl, onOpen }) {
    Object.assign(this, elements);
    this.me = me;
    this.roomUrl = roomUrl;
    this.onOpen = onOpen;
    this.active = null;
  }

  render(summaries, active) {
    this.active = active;
    const sorted = [...summaries.values()].sort(
      (a, b) => (b.last_seq || 0) - (a.last_seq || 0) || a.room.localeCompare(b.room)
    );
    this.rooms.replaceChildren(...sorted.filter((s) => s.kind !== "dm").map((s) => this.item(s)));
    this.dms.replaceChildren(...sorted.filter((s) => s.kind === "dm").map((s) => this.item(s)));
    if (!this.rooms.children.length) {
      this.rooms.append(el("li", "muted small empty", gettext("No rooms yet.")));
    }
    if (!this.dms.children.length) {
      this.dms.append(el("li", "muted small empty", gettext("No direct messages yet.")));
    }
  }

  item(summary) {
    const li = el("li", "nav-item");
    li.dataset.room = summary.room;
    const link = el("a", "nav-link");
    link.href = this.roomUrl(summary.room);
    const name = displayName(summary, this.me);
    const unread = summary.unread || 0;
    const mentions = summary.mentions || 0;
    const icon = el("span", "nav-icon", summary.kind === "dm" ? "@" : "#");
    icon.setAttribute("aria-hidden", "true");
    if (summary.kind === "private") icon.append(lockIcon());
    link.append(icon);
    link.append(el("span", "nav-name", name));
    if (summary.room === this.active) {
      link.setAttribute("aria-current", "page");
      li.classList.add("active");
    }
    if (unread) {
      li.classList.add("has-unread");
      const badge = el("span", "badge unread-badge", String(unread));
      badge.setAttribute("aria-hidden", "true");
      link.append(badge);
    }
    if (mentions) {
      const badge = el("span", "badge mention-badge", `@${mentions}`);
      badge.setAttribute("aria-hidden", "true");
      link.append(badge);
    }
    const parts = [];
    if (unread) {
      parts.push(interpolate(ngettext("%(count)s unread", "%(count)s unread", unread), { count: unread }));
    }
    if (mentions) {
      parts.push(
        interpolate(ngettext("%(count)s mention", "%(count)s mentions", mentions), { count: mentions })
      );
    }
    if (parts.length) link.append(el("span", "visually-hidden", `, ${parts.join(", ")}`));
    link.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.onOpen(summary.room);
    });
    li.append(link);
    return li;
  }
}
