// Who is here: the online list (a side panel; at phone width a button opens
// it and Esc closes it) and who is typing.
import { el } from "../dom.js";
import { avatar, displayName } from "../profiles.js";
import { gettext, interpolate, ngettext } from "../i18n.js";

const TYPING_SHOW_MS = 4000;

export class PresenceView {
  // elements: {toggle, panel, list, count, typingEl}
  constructor(elements, { me }) {
    Object.assign(this, elements);
    this.me = me;
    this.typers = new Map(); // username -> timer
    this.toggle.addEventListener("click", () => this.open(!this.panel.classList.contains("open")));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.panel.classList.contains("open")) {
        this.open(false);
        this.toggle.focus();
      }
    });
  }

  open(on) {
    this.panel.classList.toggle("open", on);
    this.toggle.setAttribute("aria-expanded", String(on));
  }

  showOnline(names) {
    // One run of text ("2 online"), so no flex gap splits the number from
    // the word.
    this.count.textContent = interpolate(
      ngettext("%(count)s online", "%(count)s online", names.length),
      { count: names.length }
    );
    this.list.replaceChildren(
      ...names.map((name) => {
        const item = el("li", "online-user");
        item.append(avatar(name, true), displayName(name), el("span", "online-name", name));
        if (name === this.me) item.append(el("span", "muted small", " " + gettext("(you)")));
        return item;
      })
    );
  }

  typing(username) {
    if (username === this.me) return;
    clearTimeout(this.typers.get(username));
    this.typers.set(
      username,
      setTimeout(() => this.stopTyping(username), TYPING_SHOW_MS)
    );
    this.renderTyping();
  }

  stopTyping(username) {
    if (!this.typers.has(username)) return;
    clearTimeout(this.typers.get(username));
    this.typers.delete(username);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typers.keys()];
    let text = "";
    if (names.length === 1) {
      text = interpolate(gettext("%(name)s is typing…"), { name: names[0] });
    } else if (names.length === 2) {
      text = interpolate(gettext("%(first)s and %(second)s are typing…"), {
        first: names[0],
        second: names[1],
      });
    } else if (names.length > 2) {
      text = gettext("Several people are typing…");
    }
    this.typingEl.textContent = text;
  }
}
