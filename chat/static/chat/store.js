// The messages this page holds, keyed by (room, seq), and the frames that
// change them. No DOM and no socket here: a transport feeds it frames, views
// subscribe to what changed and render from it.
//
// The room event log (docs/protocol.md): every event of a room takes the
// room's next seq (message, edited, deleted, reaction, member, topic), so a
// live event whose seq is not the next one is a gap. A version-1 `deleted`
// frame has no `target` and its `seq` names the message; a version-2 one has
// its own seq and `target` names the message. Both are understood.

// Frames that are events of the log (they take a seq). Others (hello, ack,
// presence, typing, error) never reach the store.
const EVENT_TYPES = new Set(["message", "edited", "deleted", "reaction", "member", "topic"]);

export function isLogEvent(frame) {
  if (!Number.isInteger(frame.seq)) return false;
  if (frame.type === "deleted" && frame.target === undefined) return false; // v1
  return EVENT_TYPES.has(frame.type) || frame.target !== undefined;
}

// A history entry without a `type` is a message (version 1 history).
function entryType(entry) {
  return entry.type || "message";
}

function messageOf(frame) {
  return {
    seq: frame.seq,
    username: frame.username,
    message: frame.deleted ? "" : frame.message,
    ts: frame.ts,
    deleted: Boolean(frame.deleted),
    editedAt: frame.edited_at || null,
    reactions: { ...(frame.reactions || {}) },
    replyTo: frame.reply_to ?? null,
    // Version 2 (the team chat reads these; docs/page.md).
    mentions: frame.mentions || [],
    mentionsRoom: Boolean(frame.mentions_room),
    attachments: frame.attachments || [],
    replies: frame.replies || 0,
  };
}

export class RoomLog {
  constructor(name) {
    this.name = name;
    this.messages = new Map(); // seq -> message, kind "message" only
    this.lastSeq = null; // newest event seq applied: every event up to it is here
    this.oldestSeq = null; // oldest message held
    this.hasMore = false; // older messages exist on the server
  }

  get(seq) {
    return this.messages.get(seq);
  }

  // Messages in seq order.
  list() {
    return [...this.messages.values()].sort((a, b) => a.seq - b.seq);
  }
}

export class MessageStore {
  constructor() {
    this.rooms = new Map();
    this.listeners = new Set();
  }

  room(name) {
    let log = this.rooms.get(name);
    if (!log) {
      log = new RoomLog(name);
      this.rooms.set(name, log);
    }
    return log;
  }

  // fn(change): {room, kind: "reset"|"append"|"prepend"|"update", messages}
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(room, kind, messages) {
    if (kind !== "reset" && !messages.length) return;
    for (const fn of this.listeners) fn({ room, kind, messages });
  }

  // The first history frame of a connection. With `since` it is a resume:
  // every event after it; `complete: false` means too much was missed, and
  // the view is dropped for the newest page. `lastSeq` is the room's newest
  // seq at the snapshot (hello): live events follow from it.
  applySnapshot(room, frame, lastSeq) {
    const log = this.room(room);
    const fresh = log.lastSeq === null || !frame.complete;
    if (log.lastSeq !== null && !frame.complete) this.reset(room);
    const appended = [];
    const updated = [];
    for (const entry of frame.messages) this.applyEntry(log, entry, appended, updated);
    if (fresh) log.hasMore = frame.has_more;
    if (log.lastSeq === null || lastSeq > log.lastSeq) log.lastSeq = lastSeq;
    this.emit(room, "append", appended);
    this.emit(room, "update", updated);
    return { fresh };
  }

  // A live frame: "applied", "stale" (a replay of what is held), or "gap"
  // (an event is missing before it: the caller resumes with `since`).
  applyLive(room, frame) {
    const log = this.room(room);
    if (frame.type === "deleted" && frame.target === undefined) {
      this.markDeleted(log, frame.seq); // v1: a tombstone, not an event
      return "applied";
    }
    if (log.lastSeq !== null && frame.seq > log.lastSeq + 1) return "gap";
    const appended = [];
    const updated = [];
    const fresh = this.applyEntry(log, frame, appended, updated);
    this.emit(room, "append", appended);
    this.emit(room, "update", updated);
    return fresh ? "applied" : "stale";
  }

  // An older page (a history request with `before`): only messages.
  applyOlder(room, frame) {
    const log = this.room(room);
    log.hasMore = frame.has_more;
    const older = frame.messages
      .filter((m) => log.oldestSeq === null || m.seq < log.oldestSeq)
      .map(messageOf);
    if (!older.length) return;
    for (const msg of older) log.messages.set(msg.seq, msg);
    log.oldestSeq = older[0].seq;
    if (log.lastSeq === null) log.lastSeq = older[older.length - 1].seq;
    this.emit(room, "prepend", older);
  }

  reset(room) {
    const log = this.room(room);
    log.messages.clear();
    log.lastSeq = null;
    log.oldestSeq = null;
    this.emit(room, "reset", []);
  }

  // One event; true when it is new (its seq was past lastSeq).
  applyEntry(log, entry, appended, updated) {
    const fresh = log.lastSeq === null || entry.seq > log.lastSeq;
    const type = entryType(entry);
    if (type === "message") {
      const held = log.get(entry.seq);
      if (held) {
        // A replay carries the current state: a deletion or edit we missed.
        Object.assign(held, messageOf(entry));
        updated.push(held);
      } else if (fresh) {
        const msg = messageOf(entry);
        log.messages.set(msg.seq, msg);
        if (log.oldestSeq === null) log.oldestSeq = msg.seq;
        appended.push(msg);
      }
    } else if (fresh) {
      const target = log.get(entry.target);
      if (target && this.applyChange(target, entry)) updated.push(target);
    }
    if (fresh) log.lastSeq = entry.seq;
    return fresh;
  }

  // An event about a message: true when the message changed.
  applyChange(msg, event) {
    switch (event.type) {
      case "deleted":
        msg.deleted = true;
        msg.message = "";
        return true;
      case "edited":
        msg.message = event.message;
        msg.editedAt = event.edited_at || event.ts || null;
        return true;
      case "reaction":
        if (event.users && event.users.length) msg.reactions[event.emoji] = [...event.users];
        else delete msg.reactions[event.emoji];
        return true;
      default:
        return false; // an event of a newer server: its seq counts, nothing shows
    }
  }

  markDeleted(log, seq) {
    const msg = log.get(seq);
    if (!msg || msg.deleted) return;
    msg.deleted = true;
    msg.message = "";
    this.emit(log.name, "update", [msg]);
  }
}
