// The socket.io 4 peer: rooms of socket.io, the same frames as the bare
// reference carried as socket.io events (event name = frame type).
//   node sio_server.js <port>   (clients: /socket.io/?EIO=4&transport=websocket&room=…)
const http = require("http");
const { Server } = require("socket.io");

const HISTORY = 50;
const rooms = new Map();

function roomOf(name) {
  let room = rooms.get(name);
  if (!room) {
    room = { name, seq: 0, history: [] };
    rooms.set(name, room);
  }
  return room;
}

const server = http.createServer((req, res) => {
  if (!req.url.startsWith("/socket.io/")) res.end("ok");
});
const io = new Server(server, { transports: ["websocket"], maxHttpBufferSize: 64 * 1024 });
io.on("connection", (socket) => {
  const room = roomOf(String(socket.handshake.query.room || "lobby").toLowerCase());
  const auth = socket.handshake.headers.authorization || "";
  const user = auth ? "u" + auth.slice(-6) : "anonymous";
  socket.join(room.name);
  socket.emit("hello", { type: "hello", room: room.name, username: user,
    online: [user], last_seq: room.seq });
  socket.emit("history", { type: "history", messages: room.history,
    complete: true, has_more: false });
  socket.on("message", (body) => {
    const text = String((body && body.message) || "").trim();
    if (!text) return;
    room.seq += 1;
    const frame = { type: "message", seq: room.seq, room: room.name,
      username: user, message: text, ts: new Date().toISOString() };
    room.history.push(frame);
    if (room.history.length > HISTORY) room.history.shift();
    io.to(room.name).emit("message", frame);
  });
});
server.listen(Number(process.argv[2]), "127.0.0.1");
