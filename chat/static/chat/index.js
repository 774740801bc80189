// The index page: enter a room by name, checked with the server's rule.
"use strict";
const ROOM_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const form = document.getElementById("room-form");
const input = document.getElementById("room-name-input");
const error = document.getElementById("room-name-error");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = input.value.trim();
  if (!ROOM_NAME_RE.test(name)) {
    error.textContent = "A room name is 1 to 64 letters, digits, '-' or '_' (no spaces or accents).";
    error.hidden = false;
    return;
  }
  window.location.pathname = "/chat/" + name.toLowerCase() + "/";
});
