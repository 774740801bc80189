// Every page: the settings panel (theme, language, and a logged-in user's
// display name and picture, saved for the user on the server), Esc to close it, the room switcher (Ctrl+K), and the service
// worker (static files only).
import { serverData } from "./dom.js";
import "./switcher.js";

const config = serverData("site-config");
const panel = document.getElementById("prefs");
const form = document.getElementById("prefs-form");

async function post(url, body) {
  const response = await fetch(url, {
    method: body ? "POST" : "DELETE",
    body,
    headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, data };
}

async function save(field, value) {
  const body = new FormData();
  body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
  body.append(field, value);
  return post(form.action, body);
}

// The profile: the display name saves on change (POST /preferences/), the
// picture uploads at once (the API); every avatar and name of the user on
// the page follows (profiles.js listens for "chat:profile").
const profileError = document.getElementById("prefs-profile-error");
const avatarInput = document.getElementById("prefs-avatar-input");
const avatarRemove = document.getElementById("prefs-avatar-remove");

function profileChanged(profile) {
  if (!profile) return;
  if ("avatar_url" in profile) avatarRemove.hidden = !profile.avatar_url;
  document.dispatchEvent(new CustomEvent("chat:profile", { detail: profile }));
}

function showProfileError(data) {
  profileError.textContent = (data && data.detail) || "";
  profileError.hidden = !profileError.textContent;
}

async function saveDisplayName(value) {
  const { ok, data } = await save("display_name", value);
  showProfileError(ok ? null : data);
  if (ok) profileChanged({ username: config.username, display_name: data.display_name });
}

if (avatarInput) {
  avatarInput.hidden = false;
  avatarInput.addEventListener("change", async () => {
    const file = avatarInput.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    const { ok, data } = await post(avatarInput.dataset.url, body);
    avatarInput.value = "";
    showProfileError(ok ? null : data);
    if (ok) profileChanged(data);
  });
  avatarRemove.addEventListener("click", async () => {
    const { ok, data } = await post(avatarInput.dataset.url, null);
    showProfileError(ok ? null : data);
    if (ok) profileChanged(data);
  });
  // Whether there is a picture to remove: asked when the panel first opens.
  panel.addEventListener(
    "toggle",
    async () => {
      const response = await fetch(avatarInput.dataset.url.replace(/avatar$/, ""), {
        credentials: "same-origin",
      });
      if (response.ok) avatarRemove.hidden = !(await response.json()).avatar_url;
    },
    { once: true }
  );
}

if (form) {
  form.addEventListener("change", async (event) => {
    const { name, value } = event.target;
    if (name === "theme") {
      document.documentElement.dataset.theme = value; // at once; then saved
      await save("theme", value);
    } else if (name === "language") {
      if ((await save("language", value)).ok) location.reload();
    } else if (name === "display_name") {
      await saveDisplayName(value);
    }
  });
  // Enter in the display name saves it here, not by reloading the page.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = form.elements.display_name;
    if (field) saveDisplayName(field.value);
  });
  // Saved as each control changes; the button is for pages without scripts.
  form.querySelector("button[type=submit]").hidden = true;
}

// Esc closes an open panel and gives the focus back to what opened it.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && panel && panel.open) {
    panel.open = false;
    panel.querySelector("summary").focus();
  }
});

if ("serviceWorker" in navigator && config.serviceWorker) {
  navigator.serviceWorker.register(config.serviceWorker).catch(() => {
    // No worker (a private window, say): the page works the same, uncached.
  });
}
