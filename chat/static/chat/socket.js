// The socket's lifecycle, for one room on the version-1 socket
// (/ws/chat/<room>/): connect, resume with `since`, back off, read close codes.
//
// The rest of the page sees a small interface, which a version-2 module (one
// socket per user, /ws/, `sync` instead of `?since=`) can implement the same
// way: connect(), send(frame), resync(), retryNow(), and the callbacks
// onState(state, detail), onReady(hello, history), onFrame(frame),
// onClose(code). Close codes and URLs come from the server (json_script).

export const State = Object.freeze({
  CONNECTING: "connecting",
  ONLINE: "online",
  WAITING: "waiting", // down; a reconnect is scheduled
  STOPPED: "stopped", // logged out: no more retries
});

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 8000;
// Ours, not the server's: the page saw a gap and resumes at once.
export const CLOSE_RESYNC = 4000;

export class RoomSocket {
  // options: {url (path of the room's socket), closeCodes, since() -> seq|null,
  //           loginUrl, pageUrl, onState, onReady, onFrame, onClose}
  constructor(options) {
    this.options = options;
    this.codes = options.closeCodes;
    this.ws = null;
    this.ready = false; // hello and the first history arrived on this socket
    this.hello = null;
    this.retries = 0;
    this.everOpened = false;
    this.stopped = false;
    this.reconnectTimer = null;
    this.countdownTimer = null;
    window.addEventListener("online", () => {
      if (!this.stopped && (!this.ws || this.ws.readyState === WebSocket.CLOSED)) {
        this.retryNow();
      }
    });
  }

  get isOpen() {
    return this.ready && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    clearInterval(this.countdownTimer);
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = this.options.since();
    const query = since === null ? "" : `?since=${since}`;
    this.options.onState(State.CONNECTING, { again: this.everOpened });
    const ws = new WebSocket(`${scheme}://${location.host}${this.options.url}${query}`);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = this.everOpened = true;
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (ws === this.ws) this.closed(event.code, opened);
    };
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // The view is out of step (a gap): resume at once with `since`.
  resync() {
    if (this.ws) this.ws.close(CLOSE_RESYNC, "gap");
  }

  retryNow() {
    this.retries = 0;
    this.connect();
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      this.hello = frame;
      this.options.onFrame(frame);
    } else if (frame.type === "history" && !this.ready && this.hello) {
      this.ready = true;
      this.retries = 0;
      this.options.onState(State.ONLINE, {});
      this.options.onReady(this.hello, frame);
    } else {
      this.options.onFrame(frame); // the caller holds log events until ready
    }
  }

  closed(code, opened) {
    this.ready = false;
    this.hello = null;
    this.options.onClose(code);
    if (code === this.codes.REVOKED) {
      this.stop("revoked");
      return;
    }
    if (code === CLOSE_RESYNC) {
      this.connect();
      return;
    }
    if (code === this.codes.POLICY_VIOLATION) this.retries = Math.max(this.retries, 3);
    if (!opened) this.checkStillLoggedIn();
    this.scheduleReconnect();
  }

  // Back-off 0.5 s, 1, 2, 4, 8 s (cap), ±20 % jitter.
  scheduleReconnect() {
    const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.retries);
    const delay = base * (0.8 + Math.random() * 0.4);
    this.retries += 1;
    const at = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(1, Math.ceil((at - Date.now()) / 1000));
      this.options.onState(State.WAITING, { seconds });
    };
    tick();
    this.countdownTimer = setInterval(tick, 1000);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // A refused handshake looks like a network failure to a page; ask the
  // server whether the session is still there before retrying for ever.
  async checkStillLoggedIn() {
    try {
      const response = await fetch(this.options.pageUrl, { method: "HEAD", cache: "no-store" });
      const login = new URL(this.options.loginUrl, location.href).pathname;
      if (response.redirected && new URL(response.url).pathname.startsWith(login)) {
        this.stop("logged-out");
      }
    } catch {
      // The server is down: keep retrying.
    }
  }

  stop(reason) {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.countdownTimer);
    this.options.onState(State.STOPPED, { reason });
  }
}
