// The room page: a client of the WebSocket protocol (docs/protocol.md).
//
// What the reader sees is kept exact: messages are shown in seq order, each
// seq once; a dropped connection resumes with `since=<last seq>`; a post
// carries a client_id, so re-sending it after a reconnect stores it once.
// Every piece of text goes into the page with textContent, never as HTML.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  const me = config.username;
  const $ = (id) => document.getElementById(id);

  const log = $("chat-log");
  const messagesEl = $("messages");
  const pendingEl = $("pending");
  const loadOlderButton = $("load-older");
  const logStart = $("log-start");
  const form = $("chat-form");
  const input = $("chat-message-input");
  const composerError = $("composer-error");
  const charCount = $("char-count");
  const typingEl = $("typing");
  const jumpLatest = $("jump-latest");
  const connEl = $("conn-status");
  const connText = $("conn-text");
  const connRetry = $("conn-retry");
  const onlineToggle = $("online-toggle");
  const onlinePanel = $("online-panel");
  const onlineList = $("online-list");
  const onlineCount = $("online-count");

  const RETRY_BASE_MS = 500;
  const RETRY_MAX_MS = 8000;
  const TYPING_SHOW_MS = 4000;
  const GROUP_WINDOW_MS = 5 * 60 * 1000;
  const NEAR_BOTTOM_PX = 60;
  const NEAR_TOP_PX = 80;
  const CLOSE_RESYNC = 4000; // ours: the view saw a gap, reconnect at once
  const CLOSE_REVOKED = 4403; // the server: logged out or deactivated
  const CLOSE_RATE_LIMITED = 1008;
  const CLOSE_TOO_BIG = 1009;

  // --- state ---
  let socket = null;
  let ready = false; // hello and the first history frame arrived on this socket
  let gotHello = false;
  let helloLastSeq = 0;
  let lastSeq = null; // newest seq shown; messages up to it are all shown
  let oldestSeq = null; // oldest seq shown
  let hasMore = false;
  let loadingOlder = false;
  let retries = 0;
  let reconnectTimer = null;
  let countdownTimer = null;
  let everOpened = false;
  let everReady = false;
  let stopped = false;
  let lastTypingSent = 0;
  // Own posts not yet shown as messages: {clientId, text, el, state, seq};
  // state is "queued" (to send), "sent" (awaiting its ack) or "acked".
  let outbox = [];
  // Replies this socket owes us, in order: the server answers frames one by
  // one, and an error frame does not say which frame it refuses.
  let awaiting = [];
  const typers = new Map(); // username -> timer

  // --- rendering ---

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text, never HTML
    return node;
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

  function shortTime(date) {
    const today = new Date();
    const sameDay = date.toDateString() === today.toDateString();
    return (sameDay ? timeFormat : dateTimeFormat).format(date);
  }

  function hue(name) {
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function setText(textEl, msg) {
    if (msg.deleted) {
      textEl.textContent = "message deleted";
      textEl.classList.add("deleted-text");
    } else {
      textEl.textContent = msg.message;
    }
  }

  function messageEl(msg, own) {
    const item = el("li", "msg" + (own ? " own" : "") + (msg.deleted ? " deleted" : ""));
    const avatar = el("span", "avatar", (msg.username[0] || "?").toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    avatar.style.setProperty("--hue", hue(msg.username));
    const body = el("div", "body");
    const meta = el("div", "meta");
    meta.append(el("span", "author", msg.username));
    const time = el("time");
    if (msg.ts) {
      const date = new Date(msg.ts);
      time.dateTime = msg.ts;
      time.title = date.toLocaleString();
      time.textContent = shortTime(date);
      item.dataset.ts = String(date.getTime());
    }
    meta.append(time, el("span", "status"));
    const text = el("div", "text");
    setText(text, msg);
    body.append(meta, text);
    item.append(avatar, body);
    item.dataset.user = msg.username;
    if (msg.seq !== undefined) item.dataset.seq = String(msg.seq);
    return item;
  }

  // Consecutive lines of one author within a few minutes form a group: only
  // the first shows the name and avatar (the name stays for screen readers).
  function regroup(item) {
    if (!item) return;
    const prev = item.previousElementSibling;
    const follows =
      prev &&
      prev.dataset.user === item.dataset.user &&
      Math.abs(Number(item.dataset.ts) - Number(prev.dataset.ts)) < GROUP_WINDOW_MS;
    item.classList.toggle("cont", Boolean(follows));
  }

  function setStatus(item, status, label) {
    item.dataset.status = status;
    item.querySelector(".status").textContent = label;
  }

  // --- scrolling ---

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToLatest() {
    log.scrollTop = log.scrollHeight;
    jumpLatest.hidden = true;
  }

  function afterAppend(wasNearBottom, forceScroll) {
    if (wasNearBottom || forceScroll) scrollToLatest();
    else jumpLatest.hidden = false;
  }

  // --- messages in seq order ---

  function appendMessage(msg) {
    if (lastSeq !== null && msg.seq <= lastSeq) {
      if (msg.deleted) markDeleted(msg.seq);
      return; // already shown: a replay, not a new line
    }
    const own = msg.username === me;
    const item = messageEl(msg, own);
    if (own) {
      const post = outbox.find((p) => p.state === "acked" && p.seq === msg.seq);
      if (post) dropPost(post);
      setStatus(item, "sent", "Sent");
    }
    messagesEl.append(item);
    regroup(item);
    lastSeq = msg.seq;
    if (oldestSeq === null) oldestSeq = msg.seq;
    stopTyping(msg.username);
  }

  // Any other event of the room's log (deleted, edited, reaction, member,
  // topic) takes a seq too: apply what this page shows, and count the seq.
  function applyEvent(ev) {
    if (lastSeq !== null && ev.seq <= lastSeq) {
      if (ev.type === "deleted") markDeleted(ev.target);
      return;
    }
    if (ev.type === "deleted") markDeleted(ev.target);
    else if (ev.type === "edited") markEdited(ev.target, ev.message);
    lastSeq = ev.seq;
  }

  function applyLogged(frame) {
    if (frame.type === "message") appendMessage(frame);
    else applyEvent(frame);
  }

  function markEdited(seq, text) {
    const item = messagesEl.querySelector(`li[data-seq="${seq}"]`);
    if (item && !item.classList.contains("deleted")) {
      setText(item.querySelector(".text"), { message: text });
    }
  }

  function markDeleted(seq) {
    const item = messagesEl.querySelector(`li[data-seq="${seq}"]`);
    if (item) {
      item.classList.add("deleted");
      setText(item.querySelector(".text"), { deleted: true });
    }
  }

  function prependOlder(messages) {
    const older = messages.filter((m) => oldestSeq === null || m.seq < oldestSeq);
    if (!older.length) return;
    const before = log.scrollHeight;
    const top = log.scrollTop;
    const firstOld = messagesEl.firstElementChild;
    const items = older.map((m) => messageEl(m, m.username === me));
    items.forEach((item) => {
      if (item.classList.contains("own")) setStatus(item, "sent", "Sent");
    });
    messagesEl.prepend(...items);
    items.forEach(regroup);
    regroup(firstOld);
    oldestSeq = older[0].seq;
    if (lastSeq === null) lastSeq = older[older.length - 1].seq;
    log.scrollTop = top + (log.scrollHeight - before); // keep the reader's place
  }

  function resetView() {
    messagesEl.replaceChildren();
    lastSeq = null;
    oldestSeq = null;
  }

  function updateOlderControls() {
    loadOlderButton.hidden = !hasMore;
    loadOlderButton.disabled = loadingOlder;
    loadOlderButton.textContent = loadingOlder ? "Loading older messages…" : "Load older messages";
    logStart.hidden = hasMore || !everReady;
  }

  // --- frames from the server ---

  function onHello(frame) {
    gotHello = true;
    helloLastSeq = frame.last_seq;
    showOnline(frame.online);
  }

  function onFirstHistory(frame) {
    const resumed = lastSeq !== null;
    const wasNearBottom = nearBottom();
    if (resumed && !frame.complete) resetView(); // too much missed: reload the view
    const fresh = lastSeq === null;
    log.setAttribute("aria-busy", "true");
    frame.messages.forEach(applyLogged);
    log.removeAttribute("aria-busy");
    if (fresh) hasMore = frame.has_more;
    // Live frames follow from the snapshot's last seq; an empty room is seq 0.
    if (lastSeq === null || helloLastSeq > lastSeq) lastSeq = helloLastSeq;
    // A post acked before the drop whose line came in the replay is done.
    outbox.filter((p) => p.state === "acked" && p.seq <= lastSeq).forEach(dropPost);
    ready = everReady = true;
    retries = 0;
    setConnection("online", "Connected");
    updateOlderControls();
    afterAppend(wasNearBottom || fresh, fresh);
    flushOutbox();
    fillIfShort();
  }

  function onOlderHistory(frame) {
    takeAwaiting("history");
    loadingOlder = false;
    hasMore = frame.has_more;
    prependOlder(frame.messages);
    updateOlderControls();
    fillIfShort();
  }

  function onMessage(frame) {
    if (lastSeq !== null && frame.seq > lastSeq + 1) {
      // A gap: the server promises none, so our view is out of step. Resume.
      socket.close(CLOSE_RESYNC, "gap");
      return;
    }
    const wasNearBottom = nearBottom();
    applyLogged(frame);
    afterAppend(wasNearBottom, false);
  }

  function onAck(frame) {
    const post = outbox.find((p) => p.clientId === frame.client_id);
    awaiting = awaiting.filter((a) => !(a.kind === "post" && a.post.clientId === frame.client_id));
    if (!post) return;
    post.state = "acked";
    post.seq = frame.seq;
    if (lastSeq !== null && frame.seq <= lastSeq) {
      // Its line is already shown (it came in a replay): that line is it.
      dropPost(post);
      const line = messagesEl.querySelector(`li[data-seq="${frame.seq}"]`);
      if (line) setStatus(line, "sent", "Sent");
    } else {
      setStatus(post.el, "sent", "Sent");
    }
  }

  function onError(frame) {
    const owed = awaiting.shift();
    if (owed && owed.kind === "post") {
      refusePost(owed.post, frame.detail);
    } else if (owed && owed.kind === "history") {
      loadingOlder = false;
      updateOlderControls();
      showComposerError(`Could not load older messages: ${frame.detail}`);
    } else {
      showComposerError(frame.detail);
    }
  }

  function onFrame(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "hello":
        onHello(frame);
        break;
      case "history":
        if (!ready && gotHello) onFirstHistory(frame);
        else onOlderHistory(frame);
        break;
      case "message":
      case "deleted": // by its author, an owner or a moderator: a tombstone
      case "edited":
      case "reaction":
      case "member":
      case "topic":
        if (ready) onMessage(frame);
        break;
      case "ack":
        onAck(frame);
        break;
      case "presence":
        showOnline(frame.online);
        break;
      case "typing":
        showTyping(frame.username);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // a newer server's frame: ignore it, as the protocol asks
    }
  }

  function takeAwaiting(kind) {
    const index = awaiting.findIndex((a) => a.kind === kind);
    if (index >= 0) awaiting.splice(index, 1);
  }

  // --- the connection ---

  function setConnection(state, text) {
    connEl.dataset.state = state;
    connText.textContent = text;
    connRetry.hidden = state !== "waiting";
    form.dataset.connection = state;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    if (stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = lastSeq === null ? "" : `?since=${lastSeq}`;
    setConnection("connecting", everOpened ? "Reconnecting…" : "Connecting…");
    const ws = new WebSocket(`${scheme}://${location.host}/ws/chat/${config.room}/${since}`);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = everOpened = true;
    };
    ws.onmessage = (event) => {
      if (ws === socket) onFrame(event);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      onDisconnect(event.code, opened);
    };
  }

  function onDisconnect(code, opened) {
    ready = false;
    gotHello = false;
    const owed = awaiting;
    awaiting = [];
    if (code === CLOSE_TOO_BIG) {
      // The server will never take that frame: do not send it again.
      const post = owed.find((a) => a.kind === "post");
      if (post) refusePost(post.post, "it is too big to send.");
    }
    if (code === CLOSE_RATE_LIMITED) retries = Math.max(retries, 3); // back off longer
    loadingOlder = false;
    updateOlderControls();
    for (const post of outbox) {
      if (post.state === "sent") post.state = "queued"; // unanswered: send again
      if (post.state === "queued") setStatus(post.el, "queued", "Waiting for connection…");
    }
    if (code === CLOSE_REVOKED) {
      stop("You were logged out. Log in again to keep chatting.");
      return;
    }
    if (code === CLOSE_RESYNC) {
      connect();
      return;
    }
    if (!opened) checkStillLoggedIn();
    scheduleReconnect();
  }

  function scheduleReconnect() {
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** retries) * (0.8 + Math.random() * 0.4);
    retries += 1;
    const at = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(1, Math.ceil((at - Date.now()) / 1000));
      setConnection("waiting", `Disconnected. Reconnecting in ${seconds} s…`);
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
    reconnectTimer = setTimeout(connect, delay);
  }

  // A refused handshake looks like a network failure to a page; ask the
  // server whether the session is still there before retrying for ever.
  async function checkStillLoggedIn() {
    try {
      const response = await fetch(location.pathname, { method: "HEAD", cache: "no-store" });
      if (response.redirected && new URL(response.url).pathname.startsWith("/accounts/login")) {
        stop("You are logged out. Log in again to keep chatting.");
      }
    } catch {
      // The server is down: keep retrying.
    }
  }

  function stop(text) {
    stopped = true;
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    setConnection("stopped", text);
    const link = el("a", "", "Log in");
    link.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
    connText.append(" ", link);
  }

  connRetry.addEventListener("click", () => {
    retries = 0;
    connect();
  });
  window.addEventListener("online", () => {
    if (!stopped && (!socket || socket.readyState === WebSocket.CLOSED)) {
      retries = 0;
      connect();
    }
  });

  // --- posting ---

  function newClientId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "c-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function flushOutbox() {
    for (const post of outbox) {
      if (post.state === "queued") sendPost(post);
    }
  }

  function sendPost(post) {
    if (!ready || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "message", message: post.text, client_id: post.clientId }));
    post.state = "sent";
    awaiting.push({ kind: "post", post });
    setStatus(post.el, "pending", "Sending…");
  }

  function dropPost(post) {
    post.el.remove();
    outbox = outbox.filter((p) => p !== post);
  }

  function refusePost(post, detail) {
    dropPost(post);
    // The text goes back into the box, ahead of anything typed since.
    const rest = input.value.trim();
    input.value = rest ? `${post.text}\n${rest}` : post.text;
    autosize();
    updateCharCount();
    showComposerError(`Not sent: ${detail}`);
    input.focus();
  }

  function showComposerError(text) {
    composerError.textContent = text;
    composerError.hidden = !text;
  }

  function frameBytes(text, clientId) {
    const frame = JSON.stringify({ type: "message", message: text, client_id: clientId });
    return new TextEncoder().encode(frame).length;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    const clientId = newClientId();
    if (frameBytes(text, clientId) > config.maxFrameBytes) {
      // Such a frame would close the socket (1009); refuse it here instead.
      showComposerError(
        `Not sent: a message is at most ${config.maxLength.toLocaleString()} characters.`
      );
      return;
    }
    showComposerError("");
    const item = messageEl({ username: me, message: text.trim() }, true);
    item.classList.add("pending");
    const post = { clientId, text, el: item, state: "queued", seq: null };
    setStatus(item, "queued", "Waiting for connection…");
    outbox.push(post);
    pendingEl.append(item);
    input.value = "";
    autosize();
    updateCharCount();
    sendPost(post);
    scrollToLatest();
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    autosize();
    updateCharCount();
    const now = Date.now();
    if (
      ready &&
      input.value.trim() &&
      now - lastTypingSent >= config.typingInterval * 1000 &&
      socket.readyState === WebSocket.OPEN
    ) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, window.innerHeight * 0.3)}px`;
  }

  function updateCharCount() {
    const length = [...input.value.trim()].length;
    const over = length > config.maxLength;
    charCount.classList.toggle("over", over);
    charCount.textContent =
      length > config.maxLength * 0.9
        ? `${length.toLocaleString()} / ${config.maxLength.toLocaleString()}`
        : "";
  }

  // --- older messages ---

  function requestOlder() {
    if (!ready || !hasMore || loadingOlder || oldestSeq === null) return;
    loadingOlder = true;
    updateOlderControls();
    socket.send(JSON.stringify({ type: "history", before: oldestSeq, limit: config.historyPage }));
    awaiting.push({ kind: "history" });
  }

  // When the lines do not fill the log there is no scrolling up: load more.
  function fillIfShort() {
    if (hasMore && log.scrollHeight <= log.clientHeight) requestOlder();
  }

  loadOlderButton.addEventListener("click", requestOlder);
  log.addEventListener("scroll", () => {
    if (log.scrollTop < NEAR_TOP_PX) requestOlder();
    if (nearBottom()) jumpLatest.hidden = true;
  });
  jumpLatest.addEventListener("click", () => {
    scrollToLatest();
    input.focus();
  });

  // --- who is here ---

  function showOnline(names) {
    onlineCount.textContent = String(names.length);
    onlineList.replaceChildren(
      ...names.map((name) => {
        const item = el("li", "online-user");
        const avatar = el("span", "avatar small", (name[0] || "?").toUpperCase());
        avatar.setAttribute("aria-hidden", "true");
        avatar.style.setProperty("--hue", hue(name));
        item.append(avatar, el("span", "online-name", name));
        if (name === me) item.append(el("span", "muted small", " (you)"));
        return item;
      })
    );
  }

  onlineToggle.addEventListener("click", () => {
    const open = onlinePanel.classList.toggle("open");
    onlineToggle.setAttribute("aria-expanded", String(open));
  });

  function showTyping(username) {
    if (username === me) return;
    clearTimeout(typers.get(username));
    typers.set(
      username,
      setTimeout(() => stopTyping(username), TYPING_SHOW_MS)
    );
    renderTyping();
  }

  function stopTyping(username) {
    if (!typers.has(username)) return;
    clearTimeout(typers.get(username));
    typers.delete(username);
    renderTyping();
  }

  function renderTyping() {
    const names = [...typers.keys()];
    if (names.length === 0) typingEl.textContent = "";
    else if (names.length === 1) typingEl.textContent = `${names[0]} is typing…`;
    else if (names.length === 2) typingEl.textContent = `${names[0]} and ${names[1]} are typing…`;
    else typingEl.textContent = "Several people are typing…";
  }

  // Unsent posts live only in this page: ask before it is closed on them.
  window.addEventListener("beforeunload", (event) => {
    if (outbox.some((post) => post.state !== "acked")) event.preventDefault();
  });

  connect();
  input.focus();
})();
