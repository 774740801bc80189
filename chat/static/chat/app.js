// The team chat page (docs/page.md, "Team chat"): one version-2 socket for
// all of the user's rooms (/ws/, docs/protocol.md "Version 2").
//
// Every room of the sidebar is synced, so messages arrive in the background
// and a switch shows its room at once, with its place and its draft kept.
// The store (store.js) holds each room's events by seq; roomview.js renders
// a room; sidebar.js, dialogs.js, thread.js, search.js, uploads.js and
// notify.js are the parts around it. Text from users is text: message bodies
// go through markdown.js (markdown-it, then DOMPurify's allow-list).
import { api, enc } from "./api.js";
import { $, el, serverData } from "./dom.js";
import { EMOJI } from "./emoji.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { newClientId } from "./outbox.js";
import { isMention, RoomPane } from "./roomview.js";
import { displayName, Sidebar } from "./sidebar.js";
import { UserSocket } from "./socket_v2.js";
import { isLogEvent, MessageStore } from "./store.js";
import { Dialogs } from "./dialogs.js";
import { Notifier } from "./notify.js";
import { avatar, displayName as shownName } from "./profiles.js";
import { SearchPanel } from "./search.js";
import { ThreadPanel } from "./thread.js";
import { Uploads } from "./uploads.js";
import { ComposerView } from "./views/composer.js";
import { PresenceView } from "./views/presence.js";
import { StatusView } from "./views/status.js";

const config = serverData("chat-config");
// Error and close codes, named once on the server (chat/protocol.py).
const { error_codes: errors, close_codes: closeCodes } = serverData("chat-protocol");
const me = config.username;
const JUMP_MAX_PAGES = 40;
const READ_DELAY_MS = 200;
const ANNOUNCE_QUIET_MS = 1500;
const SYNC_BATCH = 200; // rooms per sync frame (the server's limit)

const store = new MessageStore();
const summaries = new Map(); // room -> the user's summary (hello, `room` frames)
const panes = new Map(); // room -> RoomPane
const drafts = new Map(); // room -> unsent text
const posts = new Map(); // client_id -> {room, text, replyTo, state, seq}
const syncing = new Set(); // rooms whose first history is awaited
const synced = new Set(); // rooms synced on this socket
const loadingOlder = new Set();
const started = new Set(); // rooms whose first history came
const presenceOf = new Map(); // room -> online usernames
const typers = new Map(); // room -> Map(username -> timer)
const readSent = new Map(); // room -> the last read seq sent
let active = config.room;
let pendingJump = null; // {room, seq, pages}
let lastTypingSent = 0;
let readTimer = null;
let pinnedActive = true;
let autoCreated = false;

export function roomUrl(name) {
  return config.v2.roomUrl.replace("ROOM", encodeURIComponent(name));
}

function permalink(room, seq) {
  return `${location.origin}${roomUrl(room)}#${seq}`;
}

function roomLabel(room) {
  const summary = summaries.get(room);
  if (summary && summary.kind === "dm") return `@${displayName(summary, me)}`;
  return `#${room}`;
}

// --- the parts ---

const input = $("chat-message-input");
const status = new StatusView(
  { status: $("conn-status"), text: $("conn-text"), retry: $("conn-retry"), form: $("chat-form") },
  { loginUrl: config.urls.login, onRetry: () => socket.retryNow() }
);
// Who is online in the shown room (the room page's view; typing is ours,
// per room).
const presence = new PresenceView(
  {
    toggle: $("online-toggle"),
    panel: $("online-panel"),
    list: $("online-list"),
    count: $("online-count"),
    typingEl: document.createElement("p"),
  },
  { me }
);
const sidebar = new Sidebar(
  { rooms: $("room-nav"), dms: $("dm-nav") },
  { me, roomUrl, onOpen: (room) => openRoom(room) }
);
const notifier = new Notifier({
  baseTitle: document.title,
  enableButton: $("enable-notifications"),
  onClick: (room, seq) => openRoom(room, { seq }),
});
const dialogs = new Dialogs({
  me,
  onOpen: (room) => {
    openRoom(room);
    refreshRoom(room);
  },
});
const thread = new ThreadPanel({
  me,
  store,
  post: (room, text, replyTo) => post(room, text, { replyTo }),
  permalink,
  onOpenPanel: showPanel,
});
const search = new SearchPanel({
  onOpen: (room, seq) => openRoom(room, { seq }),
  roomLabel,
  onOpenPanel: showPanel,
});
const uploads = new Uploads({
  maxBytes: config.v2.uploadMaxBytes,
  dropTarget: document.querySelector(".room-main"),
  onError: (text) => composer.showError(text),
});

// Attachments alone are a post: their names become its text.
$("chat-form").addEventListener("submit", (event) => {
  if (uploads.busy) {
    event.preventDefault();
    event.stopImmediatePropagation();
    composer.showError(gettext("Wait until the files are uploaded."));
    return;
  }
  if (!input.value.trim() && uploads.ready.length) {
    input.value = uploads.ready.map((f) => f.upload.name).join(", ");
  }
});
const composer = new ComposerView(
  { form: $("chat-form"), input, error: $("composer-error"), charCount: $("char-count") },
  {
    maxLength: config.maxLength,
    maxFrameBytes: config.maxFrameBytes,
    onSubmit: (text) => {
      const { ids } = uploads.take();
      post(active, text, { attachments: ids });
    },
    onTyping: typing,
  }
);

const socket = new UserSocket({
  url: config.v2.socket,
  pageUrl: config.urls.page,
  loginUrl: config.urls.login,
  closeCodes,
  onState: (state, detail) => status.show(state, detail),
  onReady: ready,
  onFrame: frame,
  onClose: closed,
});

function pane(room) {
  let p = panes.get(room);
  if (!p) {
    p = new RoomPane(room, {
      me,
      store,
      container: $("logs"),
      hooks: {
        onNeedOlder: () => requestOlder(room),
        onSeen: (seq) => seen(room, seq),
        onAction: (name, msg, anchor) => action(room, name, msg, anchor),
        onPinned: (pinned) => {
          if (room !== active) return;
          pinnedActive = pinned;
          if (pinned) $("jump-latest").hidden = true;
        },
        onNewBelow: () => {
          if (room === active) $("jump-latest").hidden = false;
        },
      },
    });
    panes.set(room, p);
    // What came before this room was first shown (it is synced all along).
    const held = store.room(room).list();
    if (held.length) p.render({ kind: "append", messages: held });
    for (const post of posts.values()) {
      if (post.room === room && post.replyTo === null) p.showPending(post, gettext("Sending…"));
    }
  }
  return p;
}

// --- the socket ---

function ready(hello) {
  summaries.clear();
  for (const summary of hello.rooms || []) summaries.set(summary.room, summary);
  synced.clear();
  syncing.clear();
  loadingOlder.clear();
  // The active room first (its history comes first); at most 200 a frame.
  const names = [active, ...[...summaries.keys()].filter((room) => room !== active)];
  for (let at = 0; at < names.length; at += SYNC_BATCH) {
    const rooms = {};
    for (const room of names.slice(at, at + SYNC_BATCH)) {
      rooms[room] = store.room(room).lastSeq;
      synced.add(room);
      syncing.add(room);
    }
    socket.send({ type: "sync", rooms });
  }
  for (const p of posts.values()) if (p.state !== "acked") sendPost(p);
  renderChrome();
  joinOnOpen(active); // the room the page was opened on
}

function sync(room) {
  if (!socket.isOpen || synced.has(room)) return;
  synced.add(room);
  syncing.add(room);
  socket.send({ type: "sync", rooms: { [room]: store.room(room).lastSeq } });
}

function frame(f) {
  if (isLogEvent(f)) {
    if (f.room && !syncing.has(f.room)) live(f);
    return;
  }
  switch (f.type) {
    case "history":
      historyFrame(f);
      break;
    case "ack":
      acked(f);
      break;
    case "room":
      roomSummary(f);
      break;
    case "read":
      readMoved(f);
      break;
    case "removed":
      removed(f.room);
      break;
    case "presence":
      presenceOf.set(f.room, f.online || []);
      if (f.room === active) {
        renderMembers();
        presence.showOnline(f.online || []);
      }
      break;
    case "typing":
      typingFrom(f.room, f.username);
      break;
    case "error":
      refused(f);
      break;
    default:
      break; // a newer server's frame: ignore it, as the protocol asks
  }
}

function historyFrame(f) {
  const room = f.room;
  const log = store.room(room);
  if (syncing.has(room)) {
    syncing.delete(room);
    const { fresh } = store.applySnapshot(room, f, f.last_seq ?? log.lastSeq ?? 0);
    started.add(room);
    // Own posts whose lines came in this history are done.
    for (const [id, p] of posts) {
      if (p.room === room && p.seq !== null && log.lastSeq !== null && p.seq <= log.lastSeq) {
        posts.delete(id);
        pane(room).dropPending(id);
      }
    }
    if (room === active) {
      const p = pane(room);
      if (fresh) p.show(summaries.get(room)?.last_read_seq);
    }
  } else {
    loadingOlder.delete(room);
    store.applyOlder(room, f);
  }
  updateOlderControls(room);
  if (pendingJump && pendingJump.room === room) jumpTo(room, pendingJump.seq);
  else fillIfShort(room);
}

function live(f) {
  const room = f.room;
  const log = store.room(room);
  const target = f.target !== undefined ? log.get(f.target) : null;
  const wasDeleted = target ? target.deleted : true;
  const result = store.applyLive(room, f);
  if (result === "gap") {
    synced.delete(room);
    sync(room); // the server promises no gap: resume from what we hold
    return;
  }
  if (result !== "applied") return;
  const summary = summaries.get(room);
  if (summary) summary.last_seq = Math.max(summary.last_seq || 0, f.seq);
  if (f.type === "message") {
    const msg = log.get(f.seq);
    if (f.username === me) {
      for (const [id, p] of posts) {
        if (p.room === room && p.seq === f.seq) {
          posts.delete(id);
          pane(room).dropPending(id);
        }
      }
    } else {
      stopTyping(room, f.username);
      const mention = isMention(msg, me);
      if (summary && f.seq > (summary.last_read_seq || 0)) {
        summary.unread = (summary.unread || 0) + 1;
        if (mention) summary.mentions = (summary.mentions || 0) + 1;
      }
      if (summary && notifier.wants(summary, mention, room === active)) {
        notifier.show({
          room,
          seq: f.seq,
          title: Notifier.title(msg, roomLabel(room), mention),
          body: msg.message.slice(0, 200),
        });
      }
      if (room === active) announce(msg);
    }
  } else if (f.type === "deleted" && target && !wasDeleted && summary) {
    if (target.username !== me && target.seq > (summary.last_read_seq || 0)) {
      summary.unread = Math.max(0, (summary.unread || 0) - 1);
    }
  } else if (f.type === "topic" && summary) {
    summary.topic = f.topic;
  } else if (f.type === "member" && summary && summary.members) {
    const others = summary.members.filter((name) => name !== f.username);
    summary.members = f.op === "join" ? [...others, f.username].sort() : others;
  }
  renderChrome();
}

function acked(f) {
  const p = posts.get(f.client_id);
  if (!p) return;
  p.state = "acked";
  p.seq = f.seq;
  const log = store.room(p.room);
  if (log.lastSeq !== null && f.seq <= log.lastSeq) {
    posts.delete(f.client_id);
    pane(p.room).dropPending(f.client_id);
  } else if (p.replyTo === null) {
    pane(p.room).showPending(p, gettext("Sent"));
  }
}

function roomSummary(f) {
  const { type, ...summary } = f;
  const known = summaries.has(summary.room);
  summaries.set(summary.room, { ...(summaries.get(summary.room) || {}), ...summary });
  if (!known) {
    sync(summary.room); // a new membership
    refreshRoom(summary.room);
  }
  renderChrome();
}

// The room's details from the API (members of a DM or private room made a
// moment ago may have joined after its first summary was sent).
async function refreshRoom(room) {
  try {
    const details = await api("GET", `rooms/${enc(room)}`);
    if (details.member && summaries.has(room)) {
      const { member, ...summary } = details;
      summaries.set(room, { ...summaries.get(room), ...summary });
      renderChrome();
    }
  } catch {
    // Gone already: its `removed` frame says so.
  }
}

function readMoved(f) {
  const summary = summaries.get(f.room);
  if (summary && f.seq > (summary.last_read_seq || 0)) summary.last_read_seq = f.seq;
}

function removed(room) {
  summaries.delete(room);
  synced.delete(room);
  syncing.delete(room);
  presenceOf.delete(room);
  if (room === active) {
    showNotice(interpolate(gettext("You are no longer a member of %(room)s."), { room: roomLabel(room) }));
    store.reset(room);
    presence.showOnline([]);
  }
  renderChrome();
}

// The server's reason in the page's language where the page knows the code.
function reason(f, text) {
  if (f.code === errors.TOO_LONG && text !== undefined) {
    return interpolate(gettext("The message is %(length)s characters long; the limit is %(limit)s."), {
      length: [...text.trim()].length,
      limit: config.maxLength,
    });
  }
  const known = {
    [errors.UNAVAILABLE]: () =>
      gettext("The server could not store it; nothing was stored. Send it again in a moment."),
    [errors.EMPTY]: () => gettext("The message is empty."),
    [errors.RATE_LIMITED]: () => gettext("You are sending too fast; wait a moment."),
    [errors.NOT_FOUND]: () => gettext("No such room or message, or not one you can see."),
    [errors.FORBIDDEN]: () => gettext("You may not do that here."),
  };
  return known[f.code] ? known[f.code]() : f.detail;
}

function refused(f) {
  const p = f.client_id ? posts.get(f.client_id) : null;
  if (p) {
    posts.delete(f.client_id);
    pane(p.room).dropPending(f.client_id);
    if (p.room === active && p.replyTo === null) composer.refused(p.text, reason(f, p.text));
    else if (p.replyTo !== null) thread.showError(reason(f, p.text));
    return;
  }
  if (f.room && syncing.has(f.room)) {
    syncing.delete(f.room);
    synced.delete(f.room);
    if (f.room === active && f.room === config.room && !config.exists && !autoCreated) {
      // Entering a new name (the index's "Enter or create a room") makes a
      // public room of it, as opening one on the version-1 socket did.
      autoCreated = true;
      createRoom(f.room);
    } else if (f.room === active) {
      const room = f.room;
      showNotice(interpolate(gettext("There is no room %(room)s you can see."), { room: `#${room}` }), {
        label: interpolate(gettext("Create #%(room)s"), { room }),
        run: () => createRoom(room),
      });
    }
    return;
  }
  if (f.room && loadingOlder.has(f.room)) loadingOlder.delete(f.room);
  // A read or typing frame that crossed a removal: the notice says it all.
  if (f.code === errors.NOT_FOUND && f.room && !summaries.has(f.room)) return;
  composer.showError(reason(f));
}

function closed() {
  loadingOlder.clear();
  for (const p of posts.values()) {
    if (p.state === "sent") p.state = "queued";
    if (p.replyTo === null) pane(p.room).showPending(p, gettext("Waiting for connection…"));
  }
}

// --- posting ---

async function post(room, text, { replyTo = null, attachments = [] } = {}) {
  const p = { clientId: newClientId(), room, text, replyTo, state: "queued", seq: null };
  if (attachments.length) {
    // The socket's post has no attachments: these go over HTTP.
    if (replyTo === null) pane(room).showPending(p, gettext("Sending…"));
    try {
      const body = { message: text, client_id: p.clientId, attachments };
      if (replyTo !== null) body.reply_to = replyTo;
      const msg = await api("POST", `rooms/${enc(room)}/messages`, body);
      const log = store.room(room);
      if (log.lastSeq !== null && msg.seq <= log.lastSeq) pane(room).dropPending(p.clientId);
      else {
        p.state = "acked";
        p.seq = msg.seq;
        posts.set(p.clientId, p);
      }
    } catch (error) {
      pane(room).dropPending(p.clientId);
      composer.refused(text, error.message);
    }
    return;
  }
  posts.set(p.clientId, p);
  if (replyTo === null) pane(room).showPending(p, gettext("Waiting for connection…"));
  sendPost(p);
  if (room === active && replyTo === null) pane(room).scrollToLatest();
}

function sendPost(p) {
  const frame = { type: "message", room: p.room, message: p.text, client_id: p.clientId };
  if (p.replyTo !== null) frame.reply_to = p.replyTo;
  if (socket.send(frame)) {
    p.state = "sent";
    if (p.replyTo === null) pane(p.room).showPending(p, gettext("Sending…"));
  }
}

function typing() {
  const now = Date.now();
  if (now - lastTypingSent < config.typingInterval * 1000) return;
  if (socket.send({ type: "typing", room: active })) lastTypingSent = now;
}

function typingFrom(room, username) {
  if (username === me) return;
  let map = typers.get(room);
  if (!map) typers.set(room, (map = new Map()));
  clearTimeout(map.get(username));
  map.set(username, setTimeout(() => stopTyping(room, username), 4000));
  if (room === active) renderTyping();
}

function stopTyping(room, username) {
  const map = typers.get(room);
  if (!map || !map.has(username)) return;
  clearTimeout(map.get(username));
  map.delete(username);
  if (room === active) renderTyping();
}

function renderTyping() {
  const names = [...(typers.get(active)?.keys() || [])];
  let text = "";
  if (names.length === 1) text = interpolate(gettext("%(name)s is typing…"), { name: names[0] });
  else if (names.length === 2) {
    text = interpolate(gettext("%(first)s and %(second)s are typing…"), { first: names[0], second: names[1] });
  } else if (names.length > 2) text = gettext("Several people are typing…");
  $("typing").textContent = text;
}

// New lines of the shown room, for screen readers: one polite summary per
// burst (as the room page does), not one per line.
let burst = [];
let burstTimer = null;
function announce(msg) {
  burst.push(msg);
  clearTimeout(burstTimer);
  burstTimer = setTimeout(flushAnnouncement, ANNOUNCE_QUIET_MS);
}

function flushAnnouncement() {
  const messages = burst;
  burst = [];
  if (!messages.length) return;
  if (messages.length === 1) {
    const [msg] = messages;
    const text = msg.message.length > 140 ? msg.message.slice(0, 140) + "…" : msg.message;
    announceText(interpolate(gettext("%(name)s: %(text)s"), { name: msg.username, text }));
    return;
  }
  const names = [...new Set(messages.map((m) => m.username))];
  const from =
    names.length <= 3
      ? names.join(", ")
      : interpolate(gettext("%(names)s and others"), { names: names.slice(0, 2).join(", ") });
  announceText(
    interpolate(
      ngettext("%(count)s new message from %(from)s", "%(count)s new messages from %(from)s", messages.length),
      { count: messages.length, from }
    )
  );
}

// --- reading ---

// A line of `room` was on screen: move the read position there (batched).
function seen(room, seq) {
  const summary = summaries.get(room);
  if (!summary || room !== active || document.visibilityState !== "visible") return;
  if (seq <= (summary.last_read_seq || 0) || seq <= (readSent.get(room) || 0)) return;
  readSent.set(room, seq);
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (socket.send({ type: "read", room, seq: readSent.get(room) })) {
      summary.last_read_seq = Math.max(summary.last_read_seq || 0, readSent.get(room));
    } else {
      readSent.delete(room);
    }
  }, READ_DELAY_MS);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  const p = panes.get(active);
  if (!p) return;
  if (!p.list.querySelector(".unread-divider")) p.placeDivider(summaries.get(active)?.last_read_seq);
  p.reportSeen();
});

// --- older pages and permalinks ---

function requestOlder(room, limit = config.historyPage) {
  const log = store.room(room);
  if (!socket.isOpen || !log.hasMore || loadingOlder.has(room) || syncing.has(room)) return;
  if (log.oldestSeq === null) return;
  loadingOlder.add(room);
  updateOlderControls(room);
  socket.send({ type: "history", room, before: log.oldestSeq, limit });
}

function fillIfShort(room) {
  if (room === active && store.room(room).hasMore && pane(room).isShort()) requestOlder(room);
}

function updateOlderControls(room) {
  const log = store.room(room);
  pane(room).showOlderControls({ hasMore: log.hasMore, loading: loadingOlder.has(room), started: started.has(room) });
}

// Show message `seq` of `room` in context: load older pages until it is
// here, then scroll to it and mark it; a reply opens its thread.
function jumpTo(room, seq) {
  if (room !== active) return;
  const log = store.room(room);
  const msg = log.get(seq);
  if (msg) {
    pendingJump = null;
    if (msg.replyTo !== null) {
      thread.open(room, msg.replyTo);
      return;
    }
    pane(room).highlight(seq);
    return;
  }
  if (syncing.has(room) || !started.has(room)) {
    pendingJump = { room, seq, pages: 0 };
    return;
  }
  const pages = pendingJump && pendingJump.room === room ? pendingJump.pages : 0;
  if (log.hasMore && log.oldestSeq !== null && seq < log.oldestSeq && pages < JUMP_MAX_PAGES) {
    pendingJump = { room, seq, pages: pages + 1 };
    requestOlder(room, 100);
    return;
  }
  pendingJump = null;
  showNotice(gettext("That message is not in this room any more."));
}

// --- actions on a message ---

function action(room, name, msg, anchor) {
  switch (name) {
    case "react":
      openPicker(room, msg, anchor);
      break;
    case "toggle-reaction": {
      const emoji = anchor.dataset.emoji;
      const current = store.room(room).get(msg.seq) || msg;
      const on = !(current.reactions[emoji] || []).includes(me);
      socket.send({ type: "react", room, seq: msg.seq, emoji, on });
      break;
    }
    case "reply":
      thread.open(room, msg.replyTo ?? msg.seq);
      break;
    case "edit":
      pane(room).startEdit(msg, (text) => socket.send({ type: "edit", room, seq: msg.seq, message: text }));
      break;
    case "delete":
      dialogs.confirm(gettext("Delete this message? Everyone will see that it was deleted.")).then((yes) => {
        if (yes) socket.send({ type: "delete", room, seq: msg.seq });
        anchor.isConnected && anchor.focus();
      });
      break;
    case "link": {
      const link = permalink(room, msg.seq);
      const done = () => announceText(gettext("Link copied."));
      if (navigator.clipboard) navigator.clipboard.writeText(link).then(done, () => window.prompt(gettext("Link"), link));
      else window.prompt(gettext("Link"), link);
      window.history.replaceState({ room }, "", `${roomUrl(room)}#${msg.seq}`);
      break;
    }
    default:
      break;
  }
}

function announceText(text) {
  $("announcer").textContent = text;
}

const picker = $("emoji-picker");
let pickerFor = null;
for (const emoji of EMOJI) {
  const button = el("button", "emoji-choice", emoji);
  button.type = "button";
  button.setAttribute("aria-label", interpolate(gettext("React with %(emoji)s"), { emoji }));
  button.addEventListener("click", () => {
    if (pickerFor) {
      const { room, msg } = pickerFor;
      socket.send({ type: "react", room, seq: msg.seq, emoji, on: true });
    }
    closePicker();
  });
  picker.append(button);
}
picker.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closePicker();
});

function openPicker(room, msg, anchor) {
  pickerFor = { room, msg, anchor };
  picker.hidden = false;
  const rect = anchor.getBoundingClientRect();
  const top = Math.min(rect.bottom + 4, window.innerHeight - picker.offsetHeight - 8);
  const left = Math.max(8, Math.min(rect.right - picker.offsetWidth, window.innerWidth - picker.offsetWidth - 8));
  picker.style.setProperty("--top", `${Math.max(8, top)}px`);
  picker.style.setProperty("--left", `${left}px`);
  picker.querySelector("button").focus();
}

function closePicker() {
  const anchor = pickerFor?.anchor;
  picker.hidden = true;
  pickerFor = null;
  if (anchor && anchor.isConnected) anchor.focus();
}

document.addEventListener("pointerdown", (event) => {
  if (!picker.hidden && !picker.contains(event.target)) {
    picker.hidden = true;
    pickerFor = null;
  }
});

// --- switching rooms ---

// Opening a public room you are not in joins it, as the first room page and
// the index's "enter a room" always did: from then on it is in your sidebar
// (the server's `room` frame adds it). A room you may not join, or that does
// not exist, answers 404 here; the sync says why on the page.
async function joinOnOpen(room) {
  // (A name that was no room when the page was made is created, and so
  // joined, by the create flow instead.)
  if (summaries.has(room) || (room === config.room && !config.exists)) return;
  try {
    const joined = await api("PUT", `rooms/${enc(room)}/members/${enc(me)}`);
    // Its `room` frame may have gone out before this socket was listening:
    // the answer is the same summary.
    if (joined && joined.room && !summaries.has(joined.room)) roomSummary(joined);
  } catch (error) {
    // not ours to join: nothing more to do
  }
}

function openRoom(room, { seq = null, push = true } = {}) {
  hideNotice();
  const from = active;
  if (room !== from) {
    drafts.set(from, input.value);
    panes.get(from)?.hide();
    active = room;
    input.value = drafts.get(room) || "";
    composer.changed();
    composer.showError("");
    $("jump-latest").hidden = true;
    if (!thread.panel.hidden) thread.close();
  }
  const p = pane(room);
  if (room !== from || p.log.hidden) p.show(summaries.get(room)?.last_read_seq);
  if (push) {
    const url = roomUrl(room) + (seq !== null ? `#${seq}` : "");
    if (location.pathname + location.hash !== url) window.history.pushState({ room }, "", url);
  }
  sync(room);
  joinOnOpen(room);
  renderChrome();
  renderTyping();
  presence.showOnline(presenceOf.get(room) || []);
  updateOlderControls(room);
  setSidebar(false);
  if (seq !== null) jumpTo(room, seq);
  else if (room !== from) input.focus();
}

window.addEventListener("popstate", () => {
  const match = location.pathname.match(/\/chat\/([^/]+)\/$/);
  if (!match) return;
  const seq = Number(location.hash.slice(1));
  openRoom(decodeURIComponent(match[1]), { seq: Number.isInteger(seq) && seq > 0 ? seq : null, push: false });
});
window.addEventListener("hashchange", () => {
  const seq = Number(location.hash.slice(1));
  if (Number.isInteger(seq) && seq > 0) jumpTo(active, seq);
});

// --- the chrome: sidebar, header, members, title ---

function renderChrome() {
  sidebar.render(summaries, active);
  const summary = summaries.get(active);
  const label = summary ? displayName(summary, me) : active;
  $("room-name").textContent = label;
  document.querySelector("#room-title .hash").textContent = summary && summary.kind === "dm" ? "@" : "#";
  $("room-topic").textContent = summary?.topic || "";
  $("room-topic").hidden = !summary?.topic;
  $("edit-topic").hidden = !summary || summary.kind === "dm";
  const placeholder = interpolate(gettext("Message %(room)s"), { room: roomLabel(active) });
  input.placeholder = placeholder;
  $("composer-label").textContent = placeholder;
  const notify = $("notify-level");
  notify.disabled = !summary;
  notify.value = summary?.notify || "all";
  let total = 0;
  for (const s of summaries.values()) total += s.unread || 0;
  const badge = $("sidebar-toggle-badge");
  badge.textContent = String(total);
  badge.hidden = !total;
  notifier.setBaseTitle(`${roomLabel(active)} · Chat`);
  notifier.showTotal(total);
  renderMembers();
}

function renderMembers() {
  const summary = summaries.get(active);
  const list = $("member-list");
  const online = new Set(presenceOf.get(active) || []);
  const names = summary?.members || [...online];
  list.replaceChildren();
  for (const name of names) {
    const li = el("li", "member");
    const dot = el("span", "dot" + (online.has(name) ? " live" : ""));
    dot.setAttribute("aria-hidden", "true");
    li.append(dot, avatar(name, true), shownName(name), el("span", "member-name", name));
    if (online.has(name)) li.append(el("span", "visually-hidden", gettext("(online)")));
    if (summary && summary.kind === "private" && name !== me) {
      const remove = el("button", "link-button", gettext("Remove"));
      remove.type = "button";
      remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s"), { name }));
      remove.addEventListener("click", () => memberCall("DELETE", name));
      li.append(remove);
    }
    list.append(li);
  }
  if (!summary?.members) {
    $("members-title").textContent = gettext("Online");
  } else {
    $("members-title").textContent = interpolate(
      ngettext("%(count)s member", "%(count)s members", names.length),
      { count: names.length }
    );
  }
  $("invite-form").hidden = !summary || summary.kind !== "private";
  $("leave-room").hidden = !summary || summary.kind === "dm";
}

async function memberCall(method, username) {
  const error = $("members-error");
  error.hidden = true;
  try {
    await api(method, `rooms/${enc(active)}/members/${enc(username)}`);
    return true;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    return false;
  }
}

$("invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("invite-input").value.trim().replace(/^@/, "");
  if (name && (await memberCall("PUT", name))) {
    $("invite-input").value = "";
    announceText(interpolate(gettext("%(name)s was added."), { name }));
  }
});
$("leave-room").addEventListener("click", async () => {
  const room = active;
  if (await memberCall("DELETE", me)) {
    summaries.delete(room);
    const next = [...summaries.keys()][0];
    if (next) openRoom(next);
    else renderChrome();
  }
});
$("notify-level").addEventListener("change", async (event) => {
  const room = active;
  try {
    const summary = await api("PATCH", `rooms/${enc(room)}`, { notify: event.target.value });
    if (summaries.has(room)) summaries.get(room).notify = summary.notify || event.target.value;
  } catch (e) {
    composer.showError(e.message);
  }
});
$("members-toggle").addEventListener("click", () => {
  const panel = $("members-panel");
  if (panel.hidden) showPanel("members-panel");
  else panel.hidden = true;
  $("members-toggle").setAttribute("aria-expanded", String(!panel.hidden));
});
for (const button of document.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => {
    const id = button.dataset.close;
    if (id === "thread-panel") thread.close();
    else $(id).hidden = true;
    if (id === "members-panel") $("members-toggle").setAttribute("aria-expanded", "false");
  });
}

// One side panel at a time: members, thread or search results.
function showPanel(id) {
  for (const other of ["members-panel", "thread-panel", "search-panel"]) {
    if (other !== id) $(other).hidden = true;
  }
  $(id).hidden = false;
  $("members-toggle").setAttribute("aria-expanded", String(id === "members-panel"));
}

$("jump-latest").addEventListener("click", () => pane(active).scrollToLatest());

// The topic, edited in place: Enter saves (any member), Esc cancels.
$("edit-topic").addEventListener("click", () => {
  $("topic-input").value = summaries.get(active)?.topic || "";
  $("topic-form").hidden = false;
  $("topic-input").focus();
});
$("topic-input").addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    $("topic-form").hidden = true;
    $("edit-topic").focus();
  }
});
$("topic-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const room = active;
  try {
    const summary = await api("PATCH", `rooms/${enc(room)}`, { topic: $("topic-input").value.trim() });
    if (summaries.has(room)) summaries.get(room).topic = summary.topic;
    $("topic-form").hidden = true;
    renderChrome();
    $("edit-topic").focus();
  } catch (error) {
    composer.showError(error.message);
  }
});

// --- notices and the phone-width sidebar ---

async function createRoom(room) {
  try {
    await api("POST", "rooms", { name: room, kind: "public" });
    hideNotice();
    synced.delete(room);
    sync(room);
  } catch (error) {
    showNotice(error.message);
  }
}

// A notice under the header, with one action when there is one to take.
function showNotice(text, action = null) {
  const notice = $("room-notice");
  notice.textContent = text;
  if (action) {
    const button = el("button", "primary small-button", action.label);
    button.type = "button";
    button.addEventListener("click", action.run);
    notice.append(" ", button);
  }
  notice.hidden = false;
}

function hideNotice() {
  $("room-notice").hidden = true;
}

function setSidebar(open) {
  $("team").dataset.sidebar = open ? "open" : "closed";
  $("sidebar-toggle").setAttribute("aria-expanded", String(open));
}

$("sidebar-toggle").addEventListener("click", () => {
  const open = $("team").dataset.sidebar !== "open";
  setSidebar(open);
  if (open) $("sidebar").querySelector("a, button, input")?.focus();
});

// Alt+↑ / Alt+↓: the previous / next room of the sidebar; Esc closes panels.
document.addEventListener("keydown", (event) => {
  if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
    const order = [...document.querySelectorAll("#sidebar .nav-item")].map((li) => li.dataset.room);
    const at = order.indexOf(active);
    const next = order[at + (event.key === "ArrowUp" ? -1 : 1)];
    if (next) {
      event.preventDefault();
      openRoom(next);
    }
  } else if (event.key === "Escape") {
    if ($("team").dataset.sidebar === "open") setSidebar(false);
  }
});

window.addEventListener("beforeunload", (event) => {
  for (const p of posts.values()) {
    if (p.state !== "acked") {
      event.preventDefault();
      return;
    }
  }
});

// --- start ---

{
  const p = pane(active);
  p.show(null);
  const seq = Number(location.hash.slice(1));
  if (Number.isInteger(seq) && seq > 0) pendingJump = { room: active, seq, pages: 0 };
  renderChrome();
  socket.connect();
  input.focus();
}
