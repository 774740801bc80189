// The Node `ws` peer: the bare reference's frames (bench/reference.py, v1
// path) on the `ws` package. No authentication, no storage: a relay.
//   node ws_server.js <port>
const http = require("http");
const { WebSocketServer } = require("ws");

const HISTORY = 50;
const rooms = new Map();

function roomOf(name) {
  let room = rooms.get(name);
  if (!room) {
    room = { name, members: new Set(), seq: 0, history: [] };
    rooms.set(name, room);
  }
  return room;
}

function username(req) {
  const auth = req.headers.authorization || "";
  return auth ? "u" + auth.slice(-6) : "anonymous";
}

const server = http.createServer((req, res) => res.end("ok"));
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
wss.on("connection", (ws, req) => {
  const parts = req.url.split("/").filter(Boolean);
  const room = roomOf(parts[parts.length - 1].toLowerCase());
  const user = username(req);
  room.members.add(ws);
  ws.send(JSON.stringify({ type: "hello", room: room.name, username: user,
    online: [user], last_seq: room.seq }));
  ws.send(JSON.stringify({ type: "history", messages: room.history,
    complete: true, has_more: false }));
  ws.on("message", (data) => {
    let text;
    try { text = String(JSON.parse(data).message || "").trim(); } catch { return; }
    if (!text) return;
    room.seq += 1;
    const frame = { type: "message", seq: room.seq, room: room.name,
      username: user, message: text, ts: new Date().toISOString() };
    room.history.push(frame);
    if (room.history.length > HISTORY) room.history.shift();
    const encoded = JSON.stringify(frame); // once, for every member
    for (const member of room.members) member.send(encoded);
  });
  ws.on("close", () => room.members.delete(ws));
  // A client's bad close code (the load generator's) must not end the server.
  ws.on("error", () => room.members.delete(ws));
});
server.listen(Number(process.argv[2]), "127.0.0.1");
