// Minimal room page: connects, shows history and live lines as
// `username: message`, resumes with `since` after a drop.
"use strict";
const roomName = JSON.parse(document.getElementById("room-name").textContent);
const log = document.getElementById("chat-log");
const form = document.getElementById("chat-form");
const input = document.getElementById("chat-message-input");
let lastSeq = null;
let socket = null;
let retry = 0;

function addLine(msg) {
  if (lastSeq !== null && msg.seq <= lastSeq) return;
  lastSeq = msg.seq;
  const line = document.createElement("div");
  line.className = "line";
  line.textContent = msg.username + ": " + msg.message;  // text, never HTML
  log.append(line);
  log.scrollTop = log.scrollHeight;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const since = lastSeq === null ? "" : "?since=" + lastSeq;
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${roomName}/${since}`);
  socket.onopen = () => { retry = 0; };
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "history") {
      if (!data.complete && lastSeq !== null) { log.replaceChildren(); lastSeq = null; }
      data.messages.forEach(addLine);
    } else if (data.type === "message") {
      addLine(data);
    } else if (data.type === "error") {
      const line = document.createElement("div");
      line.className = "line error";
      line.textContent = data.detail;
      log.append(line);
    }
  };
  socket.onclose = () => {
    retry += 1;
    setTimeout(connect, Math.min(10000, 250 * 2 ** retry));
  };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  if (!text.trim() || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ message: text }));
  input.value = "";
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
});
connect();
