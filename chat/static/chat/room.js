// The room page: a client of the WebSocket protocol (docs/protocol.md).
//
// socket.js keeps the connection (resume with `since`, back-off, close
// codes); store.js holds the messages by (room, seq) and applies frames;
// outbox.js the own posts not yet stored; views/ render from them. This file
// wires them and answers frames. What the reader sees is kept exact: each
// seq once, in order; a post re-sent after a reconnect is stored once.
import { $, serverData } from "./dom.js";
import { Outbox, PostState } from "./outbox.js";
import { RoomSocket } from "./socket.js";
import { isLogEvent, MessageStore } from "./store.js";
import { gettext, interpolate } from "./i18n.js";
import { ComposerView } from "./views/composer.js";
import { MessagesView } from "./views/messages.js";
import { PresenceView } from "./views/presence.js";
import { StatusView } from "./views/status.js";

const config = serverData("chat-config");
// Error and close codes, named once on the server (chat/protocol.py).
const { error_codes: errors, close_codes: closeCodes } = serverData("chat-protocol");
const { room, username: me } = config;
const store = new MessageStore();
const log = store.room(room);
const outbox = new Outbox();
let loadingOlder = false;
let everReady = false;
let lastTypingSent = 0;

const messages = new MessagesView(
  {
    log: $("chat-log"),
    messages: $("messages"),
    pending: $("pending"),
    loadOlder: $("load-older"),
    logStart: $("log-start"),
    jumpLatest: $("jump-latest"),
    announcer: $("announcer"),
  },
  { room, me, store, outbox, onNeedOlder: requestOlder }
);
const composer = new ComposerView(
  { form: $("chat-form"), input: $("chat-message-input"), error: $("composer-error"), charCount: $("char-count") },
  {
    maxLength: config.maxLength,
    maxFrameBytes: config.maxFrameBytes,
    onSubmit: post,
    onTyping: typing,
  }
);
const presence = new PresenceView(
  {
    toggle: $("online-toggle"),
    panel: $("online-panel"),
    list: $("online-list"),
    count: $("online-count"),
    typingEl: $("typing"),
  },
  { me }
);
const socket = new RoomSocket({
  url: config.urls.socket,
  pageUrl: config.urls.page,
  loginUrl: config.urls.login,
  closeCodes,
  since: () => log.lastSeq,
  onState: (state, detail) => status.show(state, detail),
  onReady: ready,
  onFrame: frame,
  onClose: closed,
});
const status = new StatusView(
  { status: $("conn-status"), text: $("conn-text"), retry: $("conn-retry"), form: $("chat-form") },
  { loginUrl: config.urls.login, onRetry: () => socket.retryNow() }
);

// --- frames ---

function ready(hello, history) {
  presence.showOnline(hello.online);
  messages.busy(true);
  const { fresh } = store.applySnapshot(room, history, hello.last_seq);
  messages.busy(false);
  // A post acked before the drop whose line came in the replay is done.
  outbox.shown(log.lastSeq);
  everReady = true;
  updateOlderControls();
  if (fresh) messages.scrollToLatest();
  for (const p of outbox.queued()) send(p);
  fillIfShort();
}

function frame(f) {
  if (isLogEvent(f) || (f.type === "deleted" && f.target === undefined)) {
    if (socket.ready) live(f);
    return;
  }
  switch (f.type) {
    case "hello":
      break; // the socket holds it until the first history
    case "history":
      older(f);
      break;
    case "ack":
      acked(f);
      break;
    case "presence":
      presence.showOnline(f.online);
      break;
    case "typing":
      presence.typing(f.username);
      break;
    case "error":
      refused(f);
      break;
    default:
      break; // a newer server's frame: ignore it, as the protocol asks
  }
}

function live(f) {
  const result = store.applyLive(room, f);
  if (result === "gap") {
    // The server promises no gap, so our view is out of step. Resume.
    socket.resync();
    return;
  }
  if (result === "applied" && f.type === "message") {
    if (f.username === me) {
      const p = outbox.findAcked(f.seq);
      if (p) outbox.remove(p);
    }
    presence.stopTyping(f.username);
    messages.announce([log.get(f.seq)]);
  }
}

function older(f) {
  outbox.historyAnswered();
  loadingOlder = false;
  store.applyOlder(room, f);
  updateOlderControls();
  fillIfShort();
}

function acked(f) {
  const p = outbox.acked(f.client_id, f.seq);
  // Its line is already shown (it came in a replay): that line is it.
  if (p && log.lastSeq !== null && f.seq <= log.lastSeq) outbox.remove(p);
}

// The server's reason in the page's language where the page knows the code;
// otherwise the server's own words.
function reason(f, text) {
  if (f.code === errors.TOO_LONG && text !== undefined) {
    return interpolate(gettext("The message is %(length)s characters long; the limit is %(limit)s."), {
      length: [...text.trim()].length,
      limit: config.maxLength,
    });
  }
  const known = {
    [errors.EMPTY]: () => gettext("The message is empty."),
    [errors.RATE_LIMITED]: () => gettext("You are sending too fast; wait a moment."),
    [errors.UNAVAILABLE]: () =>
      gettext("The server could not store it; nothing was stored. Send it again in a moment."),
  };
  return known[f.code] ? known[f.code]() : f.detail;
}

function refused(f) {
  const owed = outbox.takeOwed();
  if (owed && owed.kind === "post") {
    outbox.remove(owed.post);
    composer.refused(owed.post.text, reason(f, owed.post.text));
  } else if (owed && owed.kind === "history") {
    loadingOlder = false;
    updateOlderControls();
    composer.showError(
      interpolate(gettext("Could not load older messages: %(reason)s"), { reason: reason(f) })
    );
  } else {
    composer.showError(reason(f));
  }
}

function closed(code) {
  const owed = outbox.disconnected();
  if (code === closeCodes.MESSAGE_TOO_BIG) {
    // The server will never take that frame: do not send it again.
    const big = owed.find((a) => a.kind === "post");
    if (big) {
      outbox.remove(big.post);
      composer.refused(big.post.text, gettext("it is too big to send."));
    }
  }
  loadingOlder = false;
  updateOlderControls();
}

// --- posting ---

function post(text) {
  const p = outbox.add(text);
  send(p);
  messages.scrollToLatest();
}

function send(p) {
  if (p.state !== PostState.QUEUED) return;
  if (socket.send({ type: "message", message: p.text, client_id: p.clientId })) outbox.sent(p);
}

function typing() {
  const now = Date.now();
  if (now - lastTypingSent < config.typingInterval * 1000) return;
  if (socket.send({ type: "typing" })) lastTypingSent = now;
}

// --- older messages ---

function requestOlder() {
  if (!socket.isOpen || !log.hasMore || loadingOlder || log.oldestSeq === null) return;
  loadingOlder = true;
  updateOlderControls();
  socket.send({ type: "history", before: log.oldestSeq, limit: config.historyPage });
  outbox.historyRequested();
}

function fillIfShort() {
  if (log.hasMore && messages.isShort()) requestOlder();
}

function updateOlderControls() {
  messages.showOlderControls({ hasMore: log.hasMore, loading: loadingOlder, started: everReady });
}

// Unsent posts live only in this page: ask before it is closed on them.
window.addEventListener("beforeunload", (event) => {
  if (outbox.unsent()) event.preventDefault();
});

socket.connect();
$("chat-message-input").focus();
