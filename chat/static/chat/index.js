// The index: enter a room by name (checked with the server's rule), and the
// list of rooms with who is online and when each was last active, refreshed
// by a short poll of /chat/rooms.json.
"use strict";
(() => {
  const POLL_MS = 5000;
  const { NAME_RE, NAME_RULE, canonical } = window.ChatRooms;

  const form = document.getElementById("room-form");
  const input = document.getElementById("room-name-input");
  const error = document.getElementById("room-name-error");
  const list = document.getElementById("room-list");
  const status = document.getElementById("room-list-status");

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      showError("Type a room name first. " + NAME_RULE);
    } else if (!NAME_RE.test(name)) {
      showError(`“${name}” is not a valid room name. ${NAME_RULE}`);
    } else {
      showError("");
      window.location.assign(`/chat/${canonical(name)}/`);
      return;
    }
    input.focus();
  });
  input.addEventListener("input", () => {
    if (!error.hidden && NAME_RE.test(input.value.trim())) showError("");
  });

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
  ];

  function ago(iso) {
    const seconds = (Date.parse(iso) - Date.now()) / 1000;
    if (Math.abs(seconds) < 45) return "just now";
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return relative.format(Math.round(seconds / 60), "minute");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text, never HTML
    return node;
  }

  function roomItem(room) {
    const item = el("li", "room-item");
    const link = el("a", "room-link");
    link.href = room.url;
    link.append(el("span", "hash", "#"), el("span", "room-name", room.name));
    link.firstChild.setAttribute("aria-hidden", "true");
    const meta = el("span", "room-meta");
    const online = el("span", "room-online" + (room.online ? " live" : ""));
    online.textContent = room.online ? `${room.online} online` : "";
    const activity = el("span", "room-activity");
    if (room.last_message_at) {
      const time = el("time", "", ago(room.last_message_at));
      time.dateTime = room.last_message_at;
      time.title = new Date(room.last_message_at).toLocaleString();
      activity.append(time);
    } else {
      activity.textContent = "no messages yet";
    }
    meta.append(online, activity);
    item.append(link, meta);
    return item;
  }

  function render(rooms) {
    if (!rooms.length) {
      list.replaceChildren(el("li", "empty muted", "No rooms yet: name one above to start it."));
      return;
    }
    list.replaceChildren(...rooms.map(roomItem));
  }

  if (!list.dataset.source) return; // logged out: no rooms to list
  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(list.dataset.source, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render((await response.json()).rooms);
      status.textContent = "";
    } catch (exc) {
      status.textContent = "Could not refresh the list; retrying…";
    }
    if (document.visibilityState === "visible") timer = setTimeout(refresh, POLL_MS);
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
    else clearTimeout(timer);
  });
  refresh();
})();
