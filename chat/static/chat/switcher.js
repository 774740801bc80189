// The room switcher: Ctrl+K (⌘K on a Mac) on any page opens a dialog to go
// to a room by name, the active rooms listed and filtered as one types.
// Esc closes it and gives the focus back (a modal <dialog>).
import { el, serverData } from "./dom.js";
import { gettext } from "./i18n.js";

const config = serverData("site-config");
const dialog = document.getElementById("switcher");
const input = document.getElementById("switcher-input");
const list = document.getElementById("switcher-list");
const form = document.getElementById("switcher-form");
const NAME_RE = new RegExp(`^(?:${config.roomNamePattern})$`);
let names = [];
let opener = null;

function roomUrl(name) {
  return config.roomUrl.replace("ROOM", encodeURIComponent(name.toLowerCase()));
}

function matches() {
  const typed = input.value.trim().toLowerCase();
  return names.filter((name) => name.includes(typed)).slice(0, 8);
}

function render() {
  const found = matches();
  list.replaceChildren(
    ...found.map((name) => {
      const item = el("li");
      const link = el("a", "switcher-room", "#" + name);
      link.href = roomUrl(name);
      item.append(link);
      return item;
    })
  );
  if (!found.length) list.append(el("li", "muted small", gettext("No active room by that name.")));
}

async function open() {
  opener = document.activeElement;
  input.value = "";
  dialog.showModal();
  input.focus();
  render();
  if (!config.roomListUrl) return; // logged out: no list, a name still works
  try {
    const response = await fetch(config.roomListUrl, { headers: { Accept: "application/json" } });
    names = (await response.json()).rooms.map((room) => room.name);
  } catch {
    names = [];
  }
  render();
}

if (dialog) {
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      if (!dialog.open) open();
    }
  });
  input.addEventListener("input", render);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // The room listed first (an exact name comes first), else a new room
    // by the name typed.
    const typed = input.value.trim();
    const found = matches();
    const exact = found.find((name) => name === typed.toLowerCase());
    const target = exact || found[0] || (NAME_RE.test(typed) ? typed : null);
    if (target) location.assign(roomUrl(target));
  });
  dialog.addEventListener("close", () => {
    if (opener && opener.focus) opener.focus();
  });
  document.getElementById("switcher-close").addEventListener("click", () => dialog.close());
}
