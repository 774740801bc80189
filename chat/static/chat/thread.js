// The thread panel beside the room: a root message and its replies (the
// root's page from GET .../messages?thread=<seq>, then live replies from the
// store), a reply box, and "also send to room" (the reply is also posted to
// the room as an ordinary message that links to the thread's root).
import { api, enc } from "./api.js";
import { $, el } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { gettext } from "./i18n.js";
import { avatar, displayName } from "./profiles.js";
import { attachmentList, renderBody } from "./roomview.js";

function messageFrom(frame) {
  return {
    seq: frame.seq,
    username: frame.username,
    message: frame.deleted ? "" : frame.message,
    ts: frame.ts,
    deleted: Boolean(frame.deleted),
    editedAt: frame.edited_at || null,
    attachments: frame.attachments || [],
    replyTo: frame.reply_to ?? null,
  };
}

export class ThreadPanel {
  // post(room, text, replyTo), permalink(room, seq)
  constructor({ me, store, post, permalink, onOpenPanel }) {
    this.me = me;
    this.store = store;
    this.post = post;
    this.permalink = permalink;
    this.onOpenPanel = onOpenPanel;
    this.panel = $("thread-panel");
    this.list = $("thread-messages");
    this.input = $("thread-input");
    this.alsoRoom = $("thread-also-room");
    this.error = $("thread-error");
    this.room = null;
    this.root = null;
    this.shown = new Map(); // seq -> message

    $("thread-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    store.subscribe((change) => {
      if (!this.room || change.room !== this.room || change.kind === "reset") return;
      for (const msg of change.messages) {
        if (msg.seq === this.root || msg.replyTo === this.root) {
          this.shown.set(msg.seq, { ...msg });
          this.render();
        }
      }
    });
  }

  async open(room, rootSeq) {
    this.room = room;
    this.root = rootSeq;
    this.shown.clear();
    this.error.hidden = true;
    const log = this.store.room(room);
    for (const msg of log.messages.values()) {
      if (msg.seq === rootSeq || msg.replyTo === rootSeq) this.shown.set(msg.seq, { ...msg });
    }
    this.onOpenPanel("thread-panel");
    this.panel.hidden = false;
    this.render();
    this.input.focus();
    try {
      const data = await api("GET", `rooms/${enc(room)}/messages?thread=${rootSeq}&limit=100`);
      if (this.room !== room || this.root !== rootSeq) return;
      for (const frame of data.messages) {
        if (!this.shown.has(frame.seq)) this.shown.set(frame.seq, messageFrom(frame));
      }
      this.render();
    } catch (error) {
      this.showError(error.message);
    }
  }

  close() {
    this.panel.hidden = true;
    this.room = null;
    this.root = null;
  }

  render() {
    const items = [...this.shown.values()].sort((a, b) => a.seq - b.seq);
    this.list.replaceChildren(
      ...items.map((msg) => {
        const li = el("li", "msg" + (msg.username === this.me ? " own" : "") + (msg.seq === this.root ? " thread-root" : ""));
        li.dataset.seq = String(msg.seq);
        li.dataset.user = msg.username;
        const body = el("div", "body");
        const meta = el("div", "meta");
        const time = el("time");
        if (msg.ts) {
          time.dateTime = msg.ts;
          time.title = fullTime(new Date(msg.ts));
          time.textContent = shortTime(new Date(msg.ts));
        }
        meta.append(displayName(msg.username), el("span", "author", msg.username), time);
        if (msg.editedAt && !msg.deleted) meta.append(el("span", "edited", gettext("(edited)")));
        const text = el("div", "text md");
        renderBody(text, msg);
        body.append(meta, text);
        if (msg.attachments && msg.attachments.length && !msg.deleted) {
          body.append(attachmentList(msg.attachments));
        }
        li.append(avatar(msg.username, true), body);
        return li;
      })
    );
  }

  send() {
    const text = this.input.value.trim();
    if (!text || this.root === null) return;
    this.post(this.room, text, this.root);
    if (this.alsoRoom.checked) {
      const link = this.permalink(this.room, this.root);
      this.post(this.room, `${text}\n\n[${gettext("in a thread")}](${link})`, null);
    }
    this.input.value = "";
    this.error.hidden = true;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}
