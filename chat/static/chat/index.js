// The index: enter a room by name (checked with the server's rule, which the
// server writes into the page), and the list of rooms with who is online and
// when each was last active, refreshed by a short poll of /chat/rooms.json.
import { $, el, serverData } from "./dom.js";
import { ago, fullTime } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

const POLL_MS = 5000;
const config = serverData("index-config");
const NAME_RE = new RegExp(`^(?:${config.roomNamePattern})$`);
const NAME_RULE = gettext(
  "A room name is 1 to 64 letters (A–Z), digits, “-” or “_”: no spaces, dots or accents."
);

const form = $("room-form");
const input = $("room-name-input");
const error = $("room-name-error");
const list = $("room-list");
const status = $("room-list-status");

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
  input.setAttribute("aria-invalid", text ? "true" : "false");
}

// Room names are case-insensitive; the canonical one is lowercase.
function roomUrl(name) {
  return config.roomUrl.replace("ROOM", encodeURIComponent(name.toLowerCase()));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = input.value.trim();
  if (!name) {
    showError(gettext("Type a room name first.") + " " + NAME_RULE);
  } else if (!NAME_RE.test(name)) {
    showError(interpolate(gettext("“%(name)s” is not a valid room name."), { name }) + " " + NAME_RULE);
  } else {
    showError("");
    window.location.assign(roomUrl(name));
    return;
  }
  input.focus();
});
input.addEventListener("input", () => {
  if (!error.hidden && NAME_RE.test(input.value.trim())) showError("");
});

function roomItem(room) {
  const item = el("li", "room-item");
  const link = el("a", "room-link");
  link.href = room.url;
  const hash = el("span", "hash", "#");
  hash.setAttribute("aria-hidden", "true");
  link.append(hash, el("span", "room-name", room.name));
  const meta = el("span", "room-meta");
  const online = el("span", "room-online" + (room.online ? " live" : ""));
  online.textContent = room.online
    ? interpolate(ngettext("%(count)s online", "%(count)s online", room.online), {
        count: room.online,
      })
    : "";
  const activity = el("span", "room-activity");
  if (room.last_message_at) {
    const time = el("time", "", ago(room.last_message_at, gettext("just now")));
    time.dateTime = room.last_message_at;
    time.title = fullTime(new Date(room.last_message_at));
    activity.append(time);
  } else {
    activity.textContent = gettext("no messages yet");
  }
  meta.append(online, activity);
  item.append(link, meta);
  return item;
}

function render(rooms) {
  if (!rooms.length) {
    list.replaceChildren(
      el("li", "empty muted", gettext("No rooms yet: name one above to start it."))
    );
    return;
  }
  list.replaceChildren(...rooms.map(roomItem));
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch(config.roomListUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render((await response.json()).rooms);
    status.textContent = "";
  } catch {
    status.textContent = gettext("Could not refresh the list; retrying…");
  }
  if (document.visibilityState === "visible") timer = setTimeout(refresh, POLL_MS);
}
if (config.roomListUrl) {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
    else clearTimeout(timer);
  });
  refresh();
}
// Modules run after the document is parsed: until here the form is inert.
form.dataset.ready = "true";
