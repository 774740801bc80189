// The log: the room's messages rendered from the store, own posts not yet
// stored under them, scrolling (stay at the newest line unless the reader
// scrolled up), older pages, and a polite summary of new messages for
// screen readers.
import { avatar, el } from "../dom.js";
import { fullTime, shortTime } from "../format.js";
import { gettext, interpolate, ngettext } from "../i18n.js";
import { PostState } from "../outbox.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 60;
const NEAR_TOP_PX = 80;
// A burst of messages is announced once, this long after the last of it.
const ANNOUNCE_QUIET_MS = 1500;
const ANNOUNCE_TEXT_MAX = 140;

const STATUS_LABELS = {
  [PostState.QUEUED]: ["queued", () => gettext("Waiting for connection…")],
  [PostState.SENT]: ["pending", () => gettext("Sending…")],
  [PostState.ACKED]: ["sent", () => gettext("Sent")],
};

export class MessagesView {
  // elements: {log, messages, pending, loadOlder, logStart, jumpLatest, announcer}
  constructor(elements, { room, me, store, outbox, onNeedOlder }) {
    Object.assign(this, elements);
    this.room = room;
    this.me = me;
    this.store = store;
    this.items = new Map(); // seq -> li
    this.pendingItems = new Map(); // post -> li
    this.pinned = true; // at the newest line: new lines and resizes keep it there
    this.burst = [];
    this.burstTimer = null;
    this.onNeedOlder = onNeedOlder;

    store.subscribe((change) => {
      if (change.room === room) this.render(change);
    });
    outbox.subscribe((kind, post) => this.renderPost(kind, post));

    this.log.addEventListener("scroll", () => {
      this.pinned = this.nearBottom();
      if (this.log.scrollTop < NEAR_TOP_PX) this.onNeedOlder();
      if (this.pinned) this.jumpLatest.hidden = true;
    });
    // The log shrinks when the composer grows (a long paste, an error under
    // it, the text of a refused post back in the box): keep the newest line
    // in view if it was.
    new ResizeObserver(() => {
      if (this.pinned) this.scrollToLatest();
    }).observe(this.log);
    this.loadOlder.addEventListener("click", () => this.onNeedOlder());
  }

  // --- rendering from the store ---

  render({ kind, messages }) {
    if (kind === "reset") {
      this.messages.replaceChildren();
      this.items.clear();
    } else if (kind === "append") {
      this.append(messages);
    } else if (kind === "prepend") {
      this.prepend(messages);
    } else if (kind === "update") {
      for (const msg of messages) this.update(msg);
    }
  }

  append(messages) {
    for (const msg of messages) {
      const item = this.messageItem(msg);
      this.messages.append(item);
      this.regroup(item);
    }
    this.afterAppend();
  }

  prepend(messages) {
    const before = this.log.scrollHeight;
    const top = this.log.scrollTop;
    const firstOld = this.messages.firstElementChild;
    const items = messages.map((msg) => this.messageItem(msg));
    this.messages.prepend(...items);
    items.forEach((item) => this.regroup(item));
    this.regroup(firstOld);
    this.log.scrollTop = top + (this.log.scrollHeight - before); // keep the reader's place
  }

  update(msg) {
    const item = this.items.get(msg.seq);
    if (!item) return;
    item.classList.toggle("deleted", msg.deleted);
    this.fillText(item.querySelector(".text"), msg);
    this.fillExtras(item, msg);
  }

  messageItem(msg) {
    const own = msg.username === this.me;
    const item = this.lineItem(msg.username, msg.ts, own);
    item.dataset.seq = String(msg.seq);
    if (msg.deleted) item.classList.add("deleted");
    this.fillText(item.querySelector(".text"), msg);
    this.fillExtras(item, msg);
    if (own) this.setStatus(item, "sent", gettext("Sent"));
    this.items.set(msg.seq, item);
    return item;
  }

  lineItem(username, ts, own) {
    const item = el("li", "msg" + (own ? " own" : ""));
    const body = el("div", "body");
    const meta = el("div", "meta");
    const author = el("span", "author", username);
    if (own) author.dataset.you = gettext("(you)");
    meta.append(author);
    const time = el("time");
    if (ts) {
      const date = new Date(ts);
      time.dateTime = ts;
      time.title = fullTime(date);
      time.textContent = shortTime(date);
      item.dataset.ts = String(date.getTime());
    }
    meta.append(time, el("span", "status"));
    body.append(meta, el("div", "text"));
    item.append(avatar(username), body);
    item.dataset.user = username;
    return item;
  }

  fillText(node, msg) {
    node.classList.toggle("deleted-text", msg.deleted);
    node.textContent = msg.deleted ? gettext("message deleted") : msg.message;
  }

  // "(edited)" and reactions, when the server sends them.
  fillExtras(item, msg) {
    const meta = item.querySelector(".meta");
    let edited = meta.querySelector(".edited");
    if (msg.editedAt && !msg.deleted && !edited) {
      edited = el("span", "edited", gettext("(edited)"));
      meta.querySelector(".status").before(edited);
    } else if (edited && (!msg.editedAt || msg.deleted)) {
      edited.remove();
    }
    const body = item.querySelector(".body");
    body.querySelector(".reactions")?.remove();
    const entries = Object.entries(msg.reactions || {});
    if (!entries.length || msg.deleted) return;
    const list = el("ul", "reactions");
    list.setAttribute("aria-label", gettext("Reactions"));
    for (const [emoji, users] of entries) {
      const chip = el("li", "reaction", `${emoji} ${users.length}`);
      chip.title = users.join(", ");
      list.append(chip);
    }
    body.append(list);
  }

  // Consecutive lines of one author within a few minutes form a group: only
  // the first shows the name and avatar (the name stays for screen readers).
  regroup(item) {
    if (!item) return;
    const prev = item.previousElementSibling;
    const follows =
      prev &&
      prev.dataset.user === item.dataset.user &&
      Math.abs(Number(item.dataset.ts) - Number(prev.dataset.ts)) < GROUP_WINDOW_MS;
    item.classList.toggle("cont", Boolean(follows));
  }

  setStatus(item, status, label) {
    item.dataset.status = status;
    item.querySelector(".status").textContent = label;
  }

  // --- own posts not yet stored ---

  renderPost(kind, post) {
    if (kind === "remove") {
      this.pendingItems.get(post)?.remove();
      this.pendingItems.delete(post);
      return;
    }
    let item = this.pendingItems.get(post);
    if (!item) {
      item = this.lineItem(this.me, undefined, true);
      item.classList.add("pending");
      this.fillText(item.querySelector(".text"), { message: post.text.trim() });
      this.pendingItems.set(post, item);
      this.pending.append(item);
    }
    const [status, label] = STATUS_LABELS[post.state];
    this.setStatus(item, status, label());
  }

  // --- scrolling ---

  nearBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToLatest() {
    this.log.scrollTop = this.log.scrollHeight;
    this.pinned = true;
    this.jumpLatest.hidden = true;
  }

  afterAppend() {
    if (this.pinned) this.scrollToLatest();
    else this.jumpLatest.hidden = false;
  }

  // When the lines do not fill the log there is no scrolling up.
  isShort() {
    return this.log.scrollHeight <= this.log.clientHeight;
  }

  showOlderControls({ hasMore, loading, started }) {
    this.loadOlder.hidden = !hasMore;
    this.loadOlder.disabled = loading;
    this.loadOlder.textContent = loading
      ? gettext("Loading older messages…")
      : gettext("Load older messages");
    this.logStart.hidden = hasMore || !started;
  }

  busy(on) {
    if (on) this.log.setAttribute("aria-busy", "true");
    else this.log.removeAttribute("aria-busy");
  }

  // --- screen readers: one polite summary per burst, not one per line ---

  announce(messages) {
    const others = messages.filter((m) => m.username !== this.me);
    if (!others.length) return;
    this.burst.push(...others);
    clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => this.flushAnnouncement(), ANNOUNCE_QUIET_MS);
  }

  flushAnnouncement() {
    const burst = this.burst;
    this.burst = [];
    if (!burst.length) return;
    let text;
    if (burst.length === 1) {
      const [msg] = burst;
      const body =
        msg.message.length > ANNOUNCE_TEXT_MAX
          ? msg.message.slice(0, ANNOUNCE_TEXT_MAX) + "…"
          : msg.message;
      text = interpolate(gettext("%(name)s: %(text)s"), { name: msg.username, text: body });
    } else {
      const names = [...new Set(burst.map((m) => m.username))];
      const from =
        names.length <= 3
          ? names.join(", ")
          : interpolate(gettext("%(names)s and others"), { names: names.slice(0, 2).join(", ") });
      text = interpolate(
        ngettext(
          "%(count)s new message from %(from)s",
          "%(count)s new messages from %(from)s",
          burst.length
        ),
        { count: burst.length, from }
      );
    }
    this.announcer.textContent = text;
  }
}
