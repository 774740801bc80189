// Own posts not yet shown as messages, and the replies a socket owes.
//
// Each post has a random client_id, so sending it again after a reconnect
// stores it once. A post is "queued" (to send), "sent" (awaiting its ack) or
// "acked" (stored; its message frame is on its way). The server answers the
// frames of one socket in order and an error frame does not say which frame
// it refuses, so the replies owed are kept in order too.

export const PostState = Object.freeze({
  QUEUED: "queued",
  SENT: "sent",
  ACKED: "acked",
});

export function newClientId() {
  // crypto.getRandomValues works on plain http too (randomUUID does not).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "c-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  constructor() {
    this.posts = [];
    this.awaiting = []; // {kind: "post", post} | {kind: "history"}
    this.listeners = new Set();
  }

  // fn(kind, post): kind is "add", "state" or "remove".
  subscribe(fn) {
    this.listeners.add(fn);
  }

  emit(kind, post) {
    for (const fn of this.listeners) fn(kind, post);
  }

  add(text) {
    const post = { clientId: newClientId(), text, state: PostState.QUEUED, seq: null };
    this.posts.push(post);
    this.emit("add", post);
    return post;
  }

  setState(post, state) {
    post.state = state;
    this.emit("state", post);
  }

  remove(post) {
    if (!this.posts.includes(post)) return;
    this.posts = this.posts.filter((p) => p !== post);
    this.emit("remove", post);
  }

  queued() {
    return this.posts.filter((p) => p.state === PostState.QUEUED);
  }

  unsent() {
    return this.posts.some((p) => p.state !== PostState.ACKED);
  }

  sent(post) {
    this.setState(post, PostState.SENT);
    this.awaiting.push({ kind: "post", post });
  }

  historyRequested() {
    this.awaiting.push({ kind: "history" });
  }

  historyAnswered() {
    const index = this.awaiting.findIndex((a) => a.kind === "history");
    if (index >= 0) this.awaiting.splice(index, 1);
  }

  // The ack of a post: the post, now acked with its seq, or undefined.
  acked(clientId, seq) {
    this.awaiting = this.awaiting.filter(
      (a) => !(a.kind === "post" && a.post.clientId === clientId)
    );
    const post = this.posts.find((p) => p.clientId === clientId);
    if (!post) return undefined;
    post.seq = seq;
    this.setState(post, PostState.ACKED);
    return post;
  }

  // The oldest reply owed, which an error frame answers.
  takeOwed() {
    return this.awaiting.shift();
  }

  // Its line arrived (or was already shown): the post is done.
  shown(seq) {
    for (const post of this.posts.filter((p) => p.state === PostState.ACKED && p.seq <= seq)) {
      this.remove(post);
    }
  }

  findAcked(seq) {
    return this.posts.find((p) => p.state === PostState.ACKED && p.seq === seq);
  }

  // The socket closed: what it owed is forgotten, unanswered posts go back
  // in the queue. Returns the replies that were owed.
  disconnected() {
    const owed = this.awaiting;
    this.awaiting = [];
    for (const post of this.posts) {
      if (post.state === PostState.SENT) post.state = PostState.QUEUED;
      if (post.state === PostState.QUEUED) this.emit("state", post);
    }
    return owed;
  }
}
