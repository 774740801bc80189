// Every page: the settings panel (theme and language, saved for the user on
// the server), Esc to close it, the room switcher (Ctrl+K), and the service
// worker (static files only).
import { serverData } from "./dom.js";
import "./switcher.js";

const config = serverData("site-config");
const panel = document.getElementById("prefs");
const form = document.getElementById("prefs-form");

async function save(field, value) {
  const body = new FormData();
  body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
  body.append(field, value);
  const response = await fetch(form.action, {
    method: "POST",
    body,
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  return response.ok;
}

if (form) {
  form.addEventListener("change", async (event) => {
    const { name, value } = event.target;
    if (name === "theme") {
      document.documentElement.dataset.theme = value; // at once; then saved
      await save("theme", value);
    } else if (name === "language") {
      if (await save("language", value)) location.reload();
    }
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
