// Display names and avatars (docs/page.md, "Avatars and display names"):
// read from GET /api/v1/users?names=… the first time a name appears on the
// page (batched, at most 100 names a request), cached for the page's life.
// Every avatar and display name drawn with the helpers below carries
// data-profile="<username>", so a profile that arrives later (or the user's
// own, changed in the settings panel: the "chat:profile" event) updates
// every place it is shown. Display names are text (textContent), never HTML.
import { api, enc } from "./api.js";
import { el, hue } from "./dom.js";

const BATCH = 100; // names per request (the server's limit)
const BATCH_CHARS = 1000; // characters of names per request (the same)
const cache = new Map(); // username -> {display_name, avatar_url}
const asked = new Set();
let queued = new Set();
let timer = null;

export function profileOf(name) {
  return cache.get(name) || null;
}

export function displayNameOf(name) {
  return profileOf(name)?.display_name || "";
}

function want(name) {
  if (!name || asked.has(name)) return;
  asked.add(name);
  queued.add(name);
  if (timer === null) timer = setTimeout(fetchQueued, 0);
}

async function fetchQueued() {
  timer = null;
  const names = [...queued];
  queued = new Set();
  const chunks = [[]];
  let chars = 0;
  for (const name of names) {
    let chunk = chunks[chunks.length - 1];
    if (chunk.length && (chunk.length >= BATCH || chars + name.length + 1 > BATCH_CHARS)) {
      chunk = [];
      chunks.push(chunk);
      chars = 0;
    }
    chunk.push(name);
    chars += name.length + 1;
  }
  for (const chunk of chunks) {
    try {
      const { users } = await api("GET", `users?names=${enc(chunk.join(","))}`);
      for (const profile of users) learn(profile);
    } catch {
      for (const name of chunk) asked.delete(name); // asked again when next seen
    }
  }
}

// A profile known now (an answer, or the user's own change, which may name
// only what changed): every place that shows the user follows.
export function learn(change) {
  const profile = { display_name: "", avatar_url: null, ...cache.get(change.username), ...change };
  cache.set(profile.username, profile);
  for (const node of document.querySelectorAll(`[data-profile="${CSS.escape(profile.username)}"]`)) {
    if (node.classList.contains("avatar")) fillAvatar(node, profile.username);
    else fillName(node, profile.username);
  }
}

document.addEventListener("chat:profile", (event) => learn(event.detail));

function initials(name) {
  const shown = displayNameOf(name);
  if (shown) {
    const words = shown.split(" ").filter(Boolean);
    const letters = words.slice(0, 2).map((w) => [...w][0]);
    return letters.join("").toUpperCase();
  }
  return ([...name][0] || "?").toUpperCase();
}

function fillAvatar(node, name) {
  const url = profileOf(name)?.avatar_url;
  if (url) {
    const img = el("img");
    img.src = url;
    img.alt = "";
    img.width = img.height = 64;
    img.decoding = "async";
    node.replaceChildren(img);
    node.classList.add("picture");
  } else {
    node.textContent = initials(name);
    node.classList.remove("picture");
  }
}

function fillName(node, name) {
  node.textContent = displayNameOf(name);
}

// An avatar: the user's picture, or initials on a colour of their username.
// Decorative (the name is always beside it): aria-hidden.
export function avatar(name, small) {
  const node = el("span", small ? "avatar small" : "avatar");
  node.setAttribute("aria-hidden", "true");
  node.dataset.profile = name;
  // CSSOM, not a style attribute: allowed by a strict Content-Security-Policy.
  node.style.setProperty("--hue", hue(name));
  fillAvatar(node, name);
  want(name);
  return node;
}

// The display name, shown before the username (empty, and so not shown,
// when the user has none).
export function displayName(name) {
  const node = el("span", "display-name");
  node.dataset.profile = name;
  fillName(node, name);
  want(name);
  return node;
}
