// One room's log in the team chat: its own scrolling element (so switching
// rooms keeps each room's place), messages rendered from the store with
// Markdown, attachments, reactions, "(edited)", tombstones, reply counts, an
// action bar per message (react, reply, edit, delete, copy link), inline
// editing, the "new since you left" divider, and the read marker: a line is
// read when it has been on screen (IntersectionObserver), not before.
import { el } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { avatar, displayName } from "./profiles.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 60;
const NEAR_TOP_PX = 80;
const LONG_PRESS_MS = 500;

export function isMention(msg, me) {
  return Boolean(msg.mentionsRoom || (msg.mentions || []).includes(me));
}

export function renderBody(node, msg) {
  node.classList.toggle("deleted-text", msg.deleted);
  if (msg.deleted) {
    node.textContent = gettext("message deleted");
  } else {
    node.replaceChildren(renderMarkdown(msg.message));
  }
}

export function attachmentList(attachments) {
  const list = el("ul", "attachments");
  for (const file of attachments || []) {
    const item = el("li", "attachment");
    const link = el("a");
    link.href = file.url;
    link.rel = "noopener";
    const image = file.thumbnail_url || (String(file.content_type || "").startsWith("image/") ? file.url : null);
    if (image) {
      const img = el("img", "thumb");
      img.src = image;
      img.alt = file.name || "";
      img.loading = "lazy";
      if (file.width && file.height) {
        const scale = Math.min(1, 240 / file.width, 180 / file.height);
        img.width = Math.round(file.width * scale);
        img.height = Math.round(file.height * scale);
      }
      link.append(img);
    } else {
      link.download = file.name || "";
      link.textContent = file.name || gettext("file");
      link.append(el("span", "muted small", ` (${formatSize(file.size)})`));
    }
    item.append(link);
    list.append(item);
  }
  return list;
}

export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class RoomPane {
  // hooks: {onNeedOlder(), onSeen(seq), onAction(name, msg, anchor),
  //         onPinned(bool), onNewBelow()}
  constructor(room, { me, store, container, hooks }) {
    this.room = room;
    this.me = me;
    this.store = store;
    this.hooks = hooks;
    this.items = new Map(); // seq -> li
    this.pendingItems = new Map(); // clientId -> li
    this.pinned = true;
    this.active = false;
    this.visibleSeqs = new Set();
    this.savedScroll = null;

    this.log = el("div", "chat-log");
    this.log.dataset.room = room;
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "off");
    this.log.setAttribute("aria-label", interpolate(gettext("Messages in %(room)s"), { room }));
    this.log.tabIndex = 0;
    this.log.hidden = true;
    const top = el("div", "log-top");
    this.loadOlder = el("button", "quiet-button load-older", gettext("Load older messages"));
    this.loadOlder.type = "button";
    this.loadOlder.hidden = true;
    this.logStart = el("p", "muted small log-start", gettext("This is the beginning of the room."));
    this.logStart.hidden = true;
    top.append(this.loadOlder, this.logStart);
    this.list = el("ol", "messages");
    this.pending = el("ol", "messages pending");
    this.pending.setAttribute("aria-label", gettext("Your messages not yet sent"));
    this.log.append(top, this.list, this.pending);
    container.append(this.log);

    this.loadOlder.addEventListener("click", () => hooks.onNeedOlder());
    this.log.addEventListener("scroll", () => {
      this.pinned = this.nearBottom();
      if (this.log.scrollTop < NEAR_TOP_PX && this.active) hooks.onNeedOlder();
      hooks.onPinned(this.pinned);
    });
    new ResizeObserver(() => {
      if (this.pinned && this.active) this.scrollToLatest();
    }).observe(this.log);

    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const seq = Number(entry.target.dataset.seq);
          // Read when most of it is on screen, or it fills half the log (a
          // line taller than the log is never 60 % visible).
          const seen =
            entry.isIntersecting &&
            (entry.intersectionRatio >= 0.6 ||
              (entry.rootBounds && entry.intersectionRect.height >= entry.rootBounds.height / 2));
          if (seen) this.visibleSeqs.add(seq);
          else this.visibleSeqs.delete(seq);
        }
        this.reportSeen();
      },
      { root: this.log, threshold: [0, 0.25, 0.6, 1] }
    );

    store.subscribe((change) => {
      if (change.room === room) this.render(change);
    });
  }

  // --- activation ---

  show(lastReadSeq) {
    this.active = true;
    this.log.hidden = false;
    // The shown room's log has the ids of the single-room page's log, so
    // skip links and tests that know the room page find it.
    for (const [node, id] of this.ids()) {
      document.getElementById(id)?.removeAttribute("id");
      node.id = id;
    }
    this.placeDivider(lastReadSeq);
    const divider = this.list.querySelector(".unread-divider");
    if (divider) {
      divider.scrollIntoView({ block: "start" });
      this.pinned = this.nearBottom();
    } else if (this.savedScroll === null || this.pinned) {
      this.scrollToLatest();
    } else {
      this.log.scrollTop = this.savedScroll;
    }
    this.reportSeen();
  }

  ids() {
    return [
      [this.log, "chat-log"],
      [this.list, "messages"],
      [this.pending, "pending"],
      [this.loadOlder, "load-older"],
      [this.logStart, "log-start"],
    ];
  }

  hide() {
    for (const [node] of this.ids()) node.removeAttribute("id");
    this.savedScroll = this.log.scrollTop;
    this.active = false;
    this.log.hidden = true;
    this.removeDivider();
  }

  // The highest seq on screen, when the reader can see it.
  reportSeen() {
    if (!this.active || document.visibilityState !== "visible" || !this.visibleSeqs.size) return;
    const top = Math.max(...this.visibleSeqs);
    // The newest line shown is on screen: every event after it (replies in
    // threads, reactions) is read too.
    let last = this.list.lastElementChild;
    while (last && (last.hidden || !last.dataset.seq)) last = last.previousElementSibling;
    const lastSeq = this.store.room(this.room).lastSeq;
    this.hooks.onSeen(last && Number(last.dataset.seq) === top && lastSeq ? lastSeq : top);
  }

  // --- "new since you left" ---

  placeDivider(lastReadSeq) {
    this.removeDivider();
    if (lastReadSeq === null || lastReadSeq === undefined) return;
    for (const item of this.list.children) {
      if (!item.dataset.seq || item.hidden) continue;
      const seq = Number(item.dataset.seq);
      if (seq > lastReadSeq && item.dataset.user !== this.me) {
        const divider = el("li", "unread-divider");
        divider.append(el("span", "", gettext("New since you left")));
        item.before(divider);
        return;
      }
    }
  }

  removeDivider() {
    this.list.querySelector(".unread-divider")?.remove();
  }

  // --- rendering from the store ---

  render({ kind, messages }) {
    if (kind === "reset") {
      this.list.replaceChildren();
      this.items.clear();
      this.visibleSeqs.clear();
    } else if (kind === "append") {
      for (const msg of messages) {
        const item = this.messageItem(msg);
        this.list.append(item);
        this.regroup(item);
        this.bumpRoot(msg);
      }
      if (this.pinned && this.active) this.scrollToLatest();
      else if (this.active) this.hooks.onNewBelow();
    } else if (kind === "prepend") {
      const before = this.log.scrollHeight;
      const top = this.log.scrollTop;
      const firstOld = this.list.firstElementChild;
      const items = messages.map((msg) => this.messageItem(msg));
      this.list.prepend(...items);
      items.forEach((item) => this.regroup(item));
      this.regroup(firstOld);
      for (const msg of messages) this.bumpRoot(msg);
      this.log.scrollTop = top + (this.log.scrollHeight - before);
    } else if (kind === "update") {
      for (const msg of messages) this.update(msg);
    }
  }

  // A reply is shown in its thread; its root counts it.
  bumpRoot(msg) {
    if (msg.replyTo === null) return;
    const root = this.store.room(this.room).get(msg.replyTo);
    if (root) this.update(root);
  }

  replyCount(msg) {
    let counted = 0;
    for (const other of this.store.room(this.room).messages.values()) {
      if (other.replyTo === msg.seq) counted += 1;
    }
    return Math.max(msg.replies || 0, counted);
  }

  update(msg) {
    const item = this.items.get(msg.seq);
    if (!item) return;
    item.classList.toggle("deleted", msg.deleted);
    if (!item.classList.contains("editing")) renderBody(item.querySelector(".text"), msg);
    this.fillExtras(item, msg);
  }

  messageItem(msg) {
    const own = msg.username === this.me;
    const item = el("li", "msg" + (own ? " own" : ""));
    item.dataset.seq = String(msg.seq);
    item.dataset.user = msg.username;
    item.id = `msg-${this.room}-${msg.seq}`;
    if (msg.replyTo !== null) {
      item.hidden = true; // in the thread panel
      item.classList.add("reply");
    }
    if (isMention(msg, this.me) && !own) item.classList.add("mention");
    if (msg.deleted) item.classList.add("deleted");
    const body = el("div", "body");
    const meta = el("div", "meta");
    const author = el("span", "author", msg.username);
    if (own) author.dataset.you = gettext("(you)");
    const time = el("time");
    if (msg.ts) {
      const date = new Date(msg.ts);
      time.dateTime = msg.ts;
      time.title = fullTime(date);
      time.textContent = shortTime(date);
      item.dataset.ts = String(date.getTime());
    }
    meta.append(displayName(msg.username), author, time, el("span", "status"));
    const text = el("div", "text md");
    renderBody(text, msg);
    body.append(meta, text);
    item.append(avatar(msg.username), body, this.actionBar(msg, own));
    this.fillExtras(item, msg);
    this.wireLongPress(item);
    this.items.set(msg.seq, item);
    this.observer.observe(item);
    return item;
  }

  actionBar(msg, own) {
    const bar = el("div", "actions");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", gettext("Message actions"));
    const add = (name, icon, label) => {
      const button = el("button", `action action-${name}`);
      button.type = "button";
      button.title = label;
      button.setAttribute("aria-label", label);
      button.append(el("span", "", icon));
      button.firstChild.setAttribute("aria-hidden", "true");
      button.addEventListener("click", () => {
        const current = this.store.room(this.room).get(msg.seq) || msg;
        this.hooks.onAction(name, current, button);
      });
      bar.append(button);
    };
    add("react", "☺", gettext("Add reaction"));
    add("reply", "↩", gettext("Reply in thread"));
    if (own) {
      add("edit", "✎", gettext("Edit"));
      add("delete", "🗑", gettext("Delete"));
    }
    add("link", "🔗", gettext("Copy link"));
    return bar;
  }

  wireLongPress(item) {
    let timer = null;
    item.addEventListener("touchstart", () => {
      timer = setTimeout(() => {
        for (const other of this.list.querySelectorAll(".show-actions")) {
          other.classList.remove("show-actions");
        }
        item.classList.add("show-actions");
      }, LONG_PRESS_MS);
    }, { passive: true });
    const cancel = () => clearTimeout(timer);
    item.addEventListener("touchend", cancel);
    item.addEventListener("touchmove", cancel, { passive: true });
  }

  // "(edited)", attachments, reactions, the reply count; the action bar
  // loses edit/delete on a tombstone.
  fillExtras(item, msg) {
    const meta = item.querySelector(".meta");
    let edited = meta.querySelector(".edited");
    if (msg.editedAt && !msg.deleted && !edited) {
      edited = el("span", "edited", gettext("(edited)"));
      edited.title = fullTime(new Date(msg.editedAt));
      meta.querySelector(".status").before(edited);
    } else if (edited && (!msg.editedAt || msg.deleted)) {
      edited.remove();
    }
    const body = item.querySelector(".body");
    for (const old of body.querySelectorAll(".reactions, .attachments, .thread-link")) old.remove();
    item.querySelector(".actions").hidden = msg.deleted;
    if (msg.deleted) return;
    if (msg.attachments && msg.attachments.length) body.append(attachmentList(msg.attachments));
    const entries = Object.entries(msg.reactions || {}).filter(([, users]) => users.length);
    if (entries.length) {
      const list = el("ul", "reactions");
      list.setAttribute("aria-label", gettext("Reactions"));
      for (const [emoji, users] of entries) {
        const li = el("li");
        const chip = el("button", "reaction");
        chip.type = "button";
        chip.dataset.emoji = emoji;
        chip.setAttribute("aria-pressed", users.includes(this.me) ? "true" : "false");
        chip.append(el("span", "emoji", emoji), el("span", "count", String(users.length)));
        chip.title = users.join(", ");
        chip.setAttribute(
          "aria-label",
          interpolate(gettext("%(emoji)s %(count)s, by %(users)s"), {
            emoji,
            count: users.length,
            users: users.join(", "),
          })
        );
        chip.addEventListener("click", () =>
          this.hooks.onAction("toggle-reaction", msg, chip)
        );
        li.append(chip);
        list.append(li);
      }
      body.append(list);
    }
    if (msg.replyTo === null) {
      const count = this.replyCount(msg);
      if (count) {
        const link = el(
          "button",
          "link-button thread-link",
          interpolate(ngettext("%(count)s reply", "%(count)s replies", count), { count })
        );
        link.type = "button";
        link.addEventListener("click", () => this.hooks.onAction("reply", msg, link));
        body.append(link);
      }
    }
  }

  // Inline editing: Enter saves, Esc cancels (and Shift+Enter is a new line).
  startEdit(msg, onSave) {
    const item = this.items.get(msg.seq);
    if (!item || msg.deleted) return;
    const text = item.querySelector(".text");
    item.classList.add("editing");
    const box = el("textarea", "edit-box");
    box.value = msg.message;
    box.setAttribute("aria-label", gettext("Edit message"));
    const hint = el("p", "hint", gettext("Enter to save · Esc to cancel"));
    text.replaceChildren(box, hint);
    box.focus();
    const done = () => {
      item.classList.remove("editing");
      renderBody(text, this.store.room(this.room).get(msg.seq) || msg);
    };
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        done();
        item.querySelector(".action-edit")?.focus();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        const value = box.value.trim();
        done();
        if (value && value !== msg.message) onSave(value);
      }
    });
  }

  regroup(item) {
    if (!item || !item.dataset.seq) return;
    let prev = item.previousElementSibling;
    while (prev && (prev.hidden || !prev.dataset.seq)) prev = prev.previousElementSibling;
    const follows =
      prev &&
      prev.dataset.user === item.dataset.user &&
      Math.abs(Number(item.dataset.ts) - Number(prev.dataset.ts)) < GROUP_WINDOW_MS;
    item.classList.toggle("cont", Boolean(follows));
  }

  // --- own posts not yet stored ---

  showPending(post, label) {
    let item = this.pendingItems.get(post.clientId);
    if (!item) {
      item = el("li", "msg own pending");
      const body = el("div", "body");
      const meta = el("div", "meta");
      meta.append(displayName(this.me), el("span", "author", this.me), el("span", "status"));
      body.append(meta, el("div", "text", post.text.trim()));
      item.append(avatar(this.me), body);
      this.pendingItems.set(post.clientId, item);
      this.pending.append(item);
      if (this.active) this.scrollToLatest();
    }
    item.dataset.status = post.state;
    item.querySelector(".status").textContent = label;
  }

  dropPending(clientId) {
    this.pendingItems.get(clientId)?.remove();
    this.pendingItems.delete(clientId);
  }

  // --- scrolling ---

  nearBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToLatest() {
    this.log.scrollTop = this.log.scrollHeight;
    this.pinned = true;
    this.hooks.onPinned(true);
  }

  isShort() {
    return this.log.scrollHeight <= this.log.clientHeight;
  }

  // A permalink: the line in view and marked for a moment.
  highlight(seq) {
    const item = this.items.get(seq);
    if (!item) return false;
    if (item.hidden) return false;
    item.scrollIntoView({ block: "center" });
    this.pinned = this.nearBottom();
    item.classList.add("target");
    item.tabIndex = -1;
    item.focus({ preventScroll: true });
    setTimeout(() => item.classList.remove("target"), 4000);
    return true;
  }

  showOlderControls({ hasMore, loading, started }) {
    this.loadOlder.hidden = !hasMore;
    this.loadOlder.disabled = loading;
    this.loadOlder.textContent = loading
      ? gettext("Loading older messages…")
      : gettext("Load older messages");
    this.logStart.hidden = hasMore || !started;
  }
}
